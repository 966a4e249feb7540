# SOT-MRAM FP PIM (docs/macros/sot_mram_fp.md): a small cnn trained entirely on the engine (three
# products and the update in bf16), evaluated on it, with one training iteration's cost beside the
# MAGIC NOR baseline; bitline fp-ops; bad formats and settings exiting 2 naming the key. (That the
# updated weights are values of the format: tests/unit/nn/test_float_macro_training.cpp.)
source "$(dirname "$0")/lib.sh" "$@"

cat > mram.yaml <<'YAML'
experiment: {name: mram, seed: 3, threads: 2, run_dir: runs/mram}
data: {train_samples: 1024, test_samples: 200}
model: {name: cnn, width_multiplier: 0.5}
macros:
  - name: mram
    type: sot_mram_fp
    sot_mram_fp: {format: bf16, rounding: toward_zero}
    hardware: {technology_node_nm: 28, array_rows: 1024, array_columns: 1024, tiles: 32, macros_per_tile: 256}
train:
  batch_size: 128
  optimizer: sgd
  float: {epochs: 0}
  qat: {epochs: 2, learning_rate: 0.05, mode: simulate, macro: mram}
evaluation:
  runs:
    - {name: mram, mode: simulate, macro: mram}
YAML
expect_exit 0 run --config mram.yaml
expect_output "qat stage: trained"
expect_output "training iteration on evaluation 'mram'"
expect_output "(baseline)"
expect_output "baseline / engine (paper: 3.3x, 1.8x, 2.5x)"
python3 - runs/mram/results.json <<'PY' || fail "results.json of the MRAM run is inconsistent"
import json, sys
d = json.load(open(sys.argv[1]))
run = d["evaluations"][0]
assert run["precision"] == "bf16", run["precision"]
assert run["accuracy"] > 0.2, run["accuracy"]  # learned something (chance: 0.1) from 2 epochs of 1 024 images
it = run["training_iteration"]
engine, baseline = it["cost"], it["baseline"]["cost"]
assert engine["batch_size"] == 128
for phase in ("forward", "input_gradient", "weight_gradient", "update"):
    assert engine["phases"][phase]["energy_pj"] > 0 and baseline["phases"][phase]["latency_ns"] > 0, phase
# The same programs on both families: the same operations, different prices.
assert engine["phases"]["forward"]["multiplies"] == baseline["phases"]["forward"]["multiplies"]
ratios = it["baseline_over_engine"]
assert abs(ratios["latency"] - baseline["latency_ns"] / engine["latency_ns"]) < 1e-9
assert ratios["latency"] > 1  # 18-cycle NOR full adds against 3-cycle ones
events = run["events"]
assert events["in_memory_float_multiplications"] == events["macs"] > 0
PY

# bitline fp-ops: the per-operation table for both families, beside AritPIM's published counts.
expect_exit 0 fp-ops --format bf16 --rounding nearest_even
expect_output "sot_mram   multiply"
expect_output "magic_nor  add"
expect_output "published, AritPIM bit-serial NOT/NOR (bf16, nearest even): multiply 1742 cycles, add 1849 cycles"
expect_exit 2 fp-ops --format e9m7
expect_output "exponent_bits must be in [2, 8]"

# Bad settings: exit 2 naming the key.
sed 's/format: bf16, rounding: toward_zero/format: custom, exponent_bits: 9, mantissa_bits: 7/' mram.yaml > bad_exponent.yaml
expect_exit 2 run --config bad_exponent.yaml
expect_output "macros[0].sot_mram_fp.exponent_bits"
sed 's/format: bf16, rounding: toward_zero/format: custom, exponent_bits: 8, mantissa_bits: 0/' mram.yaml > bad_mantissa.yaml
expect_exit 2 run --config bad_mantissa.yaml
expect_output "macros[0].sot_mram_fp.mantissa_bits"
sed 's/rounding: toward_zero/rounding: toward_zero, logic: magic_nor, exponent_difference: search/' mram.yaml > nor_search.yaml
expect_exit 2 run --config nor_search.yaml
expect_output "macros[0].sot_mram_fp.exponent_difference"
sed 's/optimizer: sgd/optimizer: adam/' mram.yaml > adam.yaml
expect_exit 2 run --config adam.yaml
expect_output "key 'train.optimizer': adam, but macro 'mram' updates the layers' weights in place"
sed 's/rounding: toward_zero/rounding: toward_zero, device: {write_energy_fj: 0}/' mram.yaml > zero_energy.yaml
expect_exit 2 run --config zero_energy.yaml
expect_output "write_energy_fj"
