# `bitline daism-chip` (docs/daism_validation.md): the shipped DAISM chip beside its two baselines,
# the GEMM's figures consistent with each other, the precompute additions priced when weights are
# written, and bad settings exiting 2 naming the option or key.
source "$(dirname "$0")/lib.sh" "$@"
chip=$SOURCE_DIR/configs/hardware/daism_chip.yaml

expect_exit 0 daism-chip --config "$chip" --gemm 512,64,64
expect_output "GEMM 512 x 64 x 64 (2097152 products) on 64 arrays of 256 x 256 bit cells, 45 nm, 0.9 V, 500 MHz"
expect_output "daism vs bit_serial: energy"
expect_output "daism vs mac_array: energy"
python3 - runs/hardware/daism_chip/chip_comparison_pc2.json <<'PY' || fail "chip_comparison_pc2.json is inconsistent"
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["macro"] == "pc2" and d["gemm"]["products"] == 512 * 64 * 64
designs = {x["design"]: x for x in d["designs"]}
assert sorted(designs) == ["bit_serial", "daism", "mac_array"]
for x in designs.values():
    products = 512 * 64 * 64
    assert x["operations"] * x["products_per_operation"] >= products
    assert math.isclose(x["cycles"], -(-x["operations"] // 64) * x["cycles_per_operation"])
    assert math.isclose(x["energy_pj"], sum(x["energy_pj_by_part"].values()), rel_tol=1e-12)
    assert math.isclose(x["tops"], 2 * products / (x["cycles"] / 500e6) * 1e-12, rel_tol=1e-12)
    assert math.isclose(x["tops_per_w"], 2 * products / x["energy_pj"], rel_tol=1e-12)
    assert math.isclose(x["tops_per_mm2"], x["tops"] / x["area_mm2"], rel_tol=1e-12)
assert designs["daism"]["products_per_operation"] == 10 and designs["mac_array"]["products_per_operation"] == 16
assert designs["bit_serial"]["cycles_per_operation"] == 133
PY
[[ -f runs/hardware/daism_chip/chip_comparison_pc2.csv ]] || fail "no chip_comparison_pc2.csv"
expect_exit 0 daism-chip --config "$chip" --macro pc2_kept9
expect_output "daism              14       1"

# Weights reloaded per layer (the cnn does not fit this chip at once): PC3's 3 additions per weight.
expect_exit 0 cost --config "$chip"
python3 - runs/hardware/daism_chip/cost_pc3.json runs/hardware/daism_chip/cost_pc2.json <<'PY' || fail "precompute additions not priced"
import json, sys
pc3, pc2 = (json.load(open(p)) for p in sys.argv[1:])
assert not pc3["weights_resident"]
# Per stored element: rows_per_operand x 25 columns written (PC3: 16 rows, PC2: 11), and its additions.
for cost, adds, bits, element_bits in ((pc3, 3, "11", 16 * 25), (pc2, 1, "10", 11 * 25)):
    for layer in cost["layers"]:
        chip = layer["chip_events"]
        assert chip["cell_writes"] % element_bits == 0, chip
        assert chip["peripheral_additions_by_bits"][bits] == adds * chip["cell_writes"] // element_bits, chip
PY

expect_exit 2 daism-chip --config "$chip" --gemm 8,0,4
expect_output "--gemm: expected three positive integers m,n,k, found '8,0,4'"
expect_exit 2 daism-chip --config "$chip" --gemm 8,8
expect_exit 2 daism-chip --config "$chip" --macro nope
expect_output "key 'macros': --macro 'nope' names no macro"
expect_exit 2 daism-chip --config "$SOURCE_DIR/configs/default.yaml"
expect_output "key 'macros': expected a macro of type daism, found none"
cat > small_array.yaml <<YAML
base: $chip
macros:
  - {name: tiny, type: daism, hardware: {array_rows: 8}}
evaluation: {runs: [{name: tiny, mode: simulate, macro: tiny, weights: float}]}
YAML
expect_exit 2 daism-chip --config small_array.yaml
expect_output "key 'macros[0]' (macro 'tiny'): array_rows x array_columns must hold one stored element"
