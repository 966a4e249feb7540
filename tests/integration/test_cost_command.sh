# `bitline cost` prices a config's model on each macro's chip (docs/cost.md): the presets run and
# write consistent JSON/CSV, a user's config and overrides change what they should, and bad
# hardware configs exit 2 naming the key.
source "$(dirname "$0")/lib.sh" "$@"
cp -r "$SOURCE_DIR/configs" .

for preset in analog_sram_cim digital_sram_cim; do
  expect_exit 0 cost --config configs/hardware/$preset.yaml
  expect_output "TOPS/W"
  json=runs/hardware/$preset/cost_$preset.json
  [[ -s $json && -s runs/hardware/$preset/cost_$preset.csv ]] || fail "$preset: missing cost files"
  python3 - "$json" "runs/hardware/$preset/cost_$preset.csv" <<'PY' || fail "$preset: inconsistent cost report"
import csv, json, sys
cost = json.load(open(sys.argv[1]))
layers = cost["layers"]
assert [l["layer"] for l in layers] == ["conv2", "conv3", "fc1", "fc2"], layers  # conv1 stays off the macro
total = sum(l["energy_pj"] for l in layers)
assert abs(total - cost["energy_per_inference_pj"]) < 1e-6 * total, (total, cost["energy_per_inference_pj"])
assert abs(sum(cost["energy_pj_by_part"].values()) - total) < 1e-6 * total
assert cost["macs_per_inference"] == sum(l["macs"] for l in layers)
rows = list(csv.DictReader(open(sys.argv[2])))
assert rows[-1]["layer"] == "total" and abs(float(rows[-1]["energy_pj"]) - total) < 1e-4 * total
PY
done
# The digital baseline converts nothing; the analog macro's energy is mostly ADC.
python3 - <<'PY' || fail "presets: unexpected energy breakdown"
import json
analog = json.load(open("runs/hardware/analog_sram_cim/cost_analog_sram_cim.json"))["energy_pj_by_part"]
digital = json.load(open("runs/hardware/digital_sram_cim/cost_digital_sram_cim.json"))["energy_pj_by_part"]
assert digital["adc"] == 0 and digital["adder_tree"] > 0, digital
assert analog["adc"] > 0.5 * sum(analog.values()) and analog["adder_tree"] == 0, analog
PY

# A user's config (the preset with changed keys): a cheaper ADC lowers the ADC energy alone.
variant() {  # variant NAME SED_EXPRESSION: the analog preset edited, writing into runs/NAME
  sed -e "$2" -e "s|run_dir: runs/hardware/analog_sram_cim|run_dir: runs/$1|" configs/hardware/analog_sram_cim.yaml > "$1.yaml"
}
variant fom20 's|^\( *\)cell_area_um2: .*|&\n\1adc_fom_fj_per_step: 20|'
variant cheap 's|^\( *\)cell_area_um2: .*|&\n\1adc_fom_fj_per_step: 2|'
expect_exit 0 cost --config fom20.yaml
expect_exit 0 cost --config cheap.yaml
python3 - <<'PY' || fail "adc_fom_fj_per_step does not scale the ADC energy"
import json
base = json.load(open("runs/fom20/cost_analog_sram_cim.json"))["energy_pj_by_part"]
cheap = json.load(open("runs/cheap/cost_analog_sram_cim.json"))["energy_pj_by_part"]
assert abs(cheap["adc"] / base["adc"] - 0.1) < 1e-9, (cheap["adc"], base["adc"])
assert cheap["cells"] == base["cells"]
PY

# A CCO ADC has its own energy and timing models: the cost report prices its conversions with the
# mean energy that `bitline adc` reports for the same converter, and times them with its window
# (at 200 MHz, against the same macro with an ideal 6-bit ADC of one cycle per conversion).
variant cco 's|adc: {bits: 8}|adc: {bits: 6, model: cco, cco: {corner: TT, vdd_v: 0.9}}|; s|rows_per_conversion: 255|rows_per_conversion: 63|'
variant ideal6 's|adc: {bits: 8}|adc: {bits: 6}|; s|rows_per_conversion: 255|rows_per_conversion: 63|'
expect_exit 0 cost --config cco.yaml
expect_exit 0 cost --config ideal6.yaml
expect_exit 0 adc --config configs/adc/cco_6bit_tt_0v9.yaml
python3 - <<'PY' || fail "the CCO ADC's conversions are not priced by its own energy and timing models"
import json, math
layers = json.load(open("runs/cco/cost_analog_sram_cim.json"))["layers"]
ideal = json.load(open("runs/ideal6/cost_analog_sram_cim.json"))["layers"]
adc = json.load(open("runs/adc/cco_6bit_tt_0v9/summary.json"))
mean = adc["energy_per_conversion_pj"]["mean_over_ramp"]
cycles_per_conversion = math.ceil(adc["conversion_ns"] * 200e-3 - 1e-9)
assert cycles_per_conversion > 1, adc["conversion_ns"]
for layer, reference in zip(layers, ideal):
    # Both are the mean over uniform inputs, sampled at different points: equal to 1e-4.
    assert abs(layer["adc_energy_per_conversion_pj"] - mean) < 1e-4 * mean, (layer, mean)
    assert abs(layer["cycles"] - cycles_per_conversion * reference["cycles"]) < 1e-9 * layer["cycles"], (layer, reference)
PY

# Bad hardware: zero rows, a negative energy, a layer that cannot be mapped even with folding.
variant zero_rows 's|array_rows: 256|array_rows: 0|'
expect_exit 2 cost --config zero_rows.yaml
expect_output "array_rows"
variant negative 's|^\( *\)cell_area_um2: .*|&\n\1dac_energy_pj: -1|'
expect_exit 2 cost --config negative.yaml
expect_output "dac_energy_pj"
variant short 's|array_rows: 256|array_rows: 128|'
expect_exit 2 cost --config short.yaml
expect_output "short.yaml: key 'macros[0].hardware' (macro 'analog_sram_cim'): layer conv2 cannot be mapped: its row tiles of up to 255 rows"

echo "cost command OK"
