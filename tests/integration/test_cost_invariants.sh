# Every command that prices (cost, daism-chip, fp-ops, the run table, --cost-only sweeps), with the
# chip's figures at both ends of their documented ranges (`bitline config --defaults`): no printed or
# written figure is negative, NaN or infinite (issue 25). CSNR is the one signed figure (dB), and
# daism-chip's "daism vs ..." lines are signed changes: they are left out of the sign check.
source "$(dirname "$0")/lib.sh" "$@"

# check_outputs DIR: every number in DIR's JSON and CSV files is finite and >= 0 (CSNR in dB may be
# negative), and out.txt holds no nan or inf.
check_outputs() {
  python3 - "$1" <<'PY' || fail "a figure out of range in $1 (above)"
import csv, json, math, os, re, sys
bad = []
def walk(value, path):
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        signed = "csnr" in path
        if not math.isfinite(value) or (value < 0 and not signed):
            bad.append("%s = %r" % (path, value))
    elif isinstance(value, dict):
        for key, item in value.items():
            walk(item, path + "." + key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            walk(item, "%s[%d]" % (path, i))
files = 0
for root, _, names in os.walk(sys.argv[1]):
    for name in names:
        path = os.path.join(root, name)
        if name.endswith(".json"):
            walk(json.load(open(path), parse_constant=lambda c: float(c)), path)
            files += 1
        elif name.endswith(".csv"):
            rows = list(csv.reader(open(path)))
            for row in rows[1:]:
                for column, cell in zip(rows[0], row):
                    try:
                        number = float(cell)
                    except ValueError:
                        continue
                    if not math.isfinite(number) or (number < 0 and "csnr" not in column):
                        bad.append("%s: %s = %s" % (path, column, cell))
            files += 1
text = open("out.txt").read()
for line in text.splitlines():
    if re.search(r"(?i)\b(nan|inf|infinity)\b", line):
        bad.append("printed: " + line)
if files == 0:
    bad.append("no output files in " + sys.argv[1])
for item in bad[:20]:
    print(item, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# A chip at the top of every range, one at the bottom (every component figure 0: a chip that costs
# nothing, whose TOPS/W is undefined and reported as 0, not infinity), and one with every component
# at the smallest figure that is not 0.
hardware_max='{technology_node_nm: 1000, vdd_v: 5, clock_mhz: 0.001, array_rows: 1048576, array_columns: 1048576,
  columns_per_adc: 1048576, tiles: 1024, macros_per_tile: 1024, tile_buffer_kib: 1e9, global_buffer_kib: 1e9,
  output_bits: 64, interconnect_mm: 1e4,
  components: {reference_node_nm: 1, reference_vdd_v: 0.1, adc_fom_fj_per_step: 1e9, adc_area_um2_per_level: 1e9,
    adc_conversion_ns: 1e9, adc_fom_corner_msps: 1e9, sense_amp_area_um2: 1e9, column_read_energy_pj: 1e9,
    dac_energy_pj: 1e9, dac_area_um2: 1e9, cell_energy_fj: 1e9, cell_area_um2: 1e9, cell_write_energy_pj: 1e9,
    adder_energy_pj_per_bit: 1e9, adder_area_um2_per_bit: 1e9, shift_add_energy_pj: 1e9, shift_add_area_um2: 1e9,
    accumulator_energy_pj: 1e9, accumulator_area_um2: 1e9, float_add_energy_pj_per_significand_bit: 1e9,
    float_adder_area_um2_per_significand_bit: 1e9, multiplier_energy_pj_per_bit_squared: 1e9,
    multiplier_area_um2_per_bit_squared: 1e9, buffer_energy_pj_per_bit: 1e9, buffer_area_um2_per_bit: 1e9,
    interconnect_energy_pj_per_bit_mm: 1e9, leakage_mw_per_mm2: 1e9}}'
hardware_min='{technology_node_nm: 1, vdd_v: 0.1, clock_mhz: 100000, array_rows: 256, array_columns: 256, columns_per_adc: 1,
  tiles: 1, macros_per_tile: 1, tile_buffer_kib: 0, global_buffer_kib: 0, output_bits: 1, interconnect_mm: 0,
  components: {reference_node_nm: 1000, reference_vdd_v: 5, adc_fom_fj_per_step: 0, adc_area_um2_per_level: 0,
    adc_conversion_ns: 0, adc_fom_corner_msps: 0, sense_amp_area_um2: 0, column_read_energy_pj: 0, dac_energy_pj: 0,
    dac_area_um2: 0, cell_energy_fj: 0, cell_area_um2: 0, cell_write_energy_pj: 0, adder_energy_pj_per_bit: 0,
    adder_area_um2_per_bit: 0, shift_add_energy_pj: 0, shift_add_area_um2: 0, accumulator_energy_pj: 0,
    accumulator_area_um2: 0, float_add_energy_pj_per_significand_bit: 0, float_adder_area_um2_per_significand_bit: 0,
    multiplier_energy_pj_per_bit_squared: 0, multiplier_area_um2_per_bit_squared: 0, buffer_energy_pj_per_bit: 0,
    buffer_area_um2_per_bit: 0, interconnect_energy_pj_per_bit_mm: 0, leakage_mw_per_mm2: 0}}'
sot_device_max='{read_energy_fj: 1e9, write_energy_fj: 1e9, cycle_ns: 1e9, cell_area_f2: 1e9, nor_energy_fj: 1e9, nor_cycle_ns: 1e9, nor_cell_area_f2: 1e9}'
sot_device_min='{read_energy_fj: 1e-9, write_energy_fj: 1e-9, cycle_ns: 1e-9, cell_area_f2: 1e-9, nor_energy_fj: 1e-9, nor_cycle_ns: 1e-9, nor_cell_area_f2: 1e-9}'

# The smallest figures that are not 0: every component at its lower bound.
hardware_tiny=$(sed 's/: 0\([,}]\)/: 1e-9\1/g' <<< "$hardware_min")
sot_device_tiny=$sot_device_min
[[ $hardware_tiny == *"cell_energy_fj: 1e-9"* ]] || fail "hardware_tiny was not made"

for end in max min tiny; do
  hardware_var=hardware_$end
  device_var=sot_device_$end
  hardware=${!hardware_var}
  device=${!device_var}
  # bitline cost: every macro type on one chip each.
  cat > cost_$end.yaml <<YAML
experiment: {name: extremes_$end, run_dir: runs/cost_$end}
model: {name: cnn, width_multiplier: 0.5}
macros:
  - {name: asim, type: analog_sram, hardware: $hardware}
  - {name: digital, type: digital_sram, hardware: $hardware}
  - {name: daism, type: daism, hardware: $hardware}
  - {name: ddc, type: ddc_pim, hardware: $hardware}
  - {name: mram, type: sot_mram_fp, sot_mram_fp: {device: $device}, hardware: $hardware}
YAML
  expect_exit 0 cost --config cost_$end.yaml
  check_outputs runs/cost_$end

  # daism-chip, up to the largest GEMM it takes (2^53 products).
  cat > chip_$end.yaml <<YAML
experiment: {name: chip_$end, run_dir: runs/chip_$end}
macros:
  - {name: daism, type: daism, hardware: $hardware}
YAML
  for gemm in 1,1,1 512,64,64 8388608,1048576,1024; do
    expect_exit 0 daism-chip --config chip_$end.yaml --gemm $gemm
    check_outputs runs/chip_$end
  done

  # --cost-only sweeps over the same chip.
  cat > sweep_$end.yaml <<YAML
base: cost_$end.yaml
experiment: {run_dir: sweeps/$end}
sweep:
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [1, 16]}
YAML
  expect_exit 0 sweep --config sweep_$end.yaml --cost-only
  check_outputs sweeps/$end
done

# bitline fp-ops: every preset format and the widest and narrowest custom ones, both roundings.
mkdir -p fp_ops
for format in bf16 fp16 fp32 e8m23 e2m1; do
  for rounding in toward_zero nearest_even; do
    expect_exit 0 fp-ops --format $format --rounding $rounding --samples 64
    cp out.txt fp_ops/$format-$rounding.txt
    python3 - <<'PY' || fail "fp-ops $format $rounding printed a figure out of range (above)"
import math, re, sys
bad = [line for line in open("out.txt") if re.search(r"(?i)\b(nan|inf)\b", line) or re.search(r"(?<![\w.^])-\d", line)]
print("".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
  done
done

# The run table: a small run with a cost on a chip at the top of the ranges.
cat > run.yaml <<YAML
experiment: {name: run_extremes, seed: 3, threads: 2, run_dir: runs/run}
data: {train_samples: 256, test_samples: 64}
model: {name: cnn, width_multiplier: 0.5}
train: {batch_size: 64, float: {epochs: 1, learning_rate: 0.05}, qat: {epochs: 0}}
macros:
  - {name: digital, type: digital_sram, hardware: $hardware_max}
evaluation:
  runs:
    - {name: on_digital, mode: simulate, macro: digital, weights: float}
YAML
expect_exit 0 run --config run.yaml --no-progress
check_outputs runs/run
echo "PASS test_cost_invariants"
