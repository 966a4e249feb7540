# DDC-PIM (docs/macros/ddc_pim.md): a small mobilenetv2 trained, paired (FCC), fine-tuned with the
# pairs pulled together by the penalty phase, then tied and fine-tuned, and evaluated on ddc_pim beside
# digital_sram; the pairing file and stages reused; bad FCC settings and a damaged pairing file
# exiting 2 naming the key or file.
source "$(dirname "$0")/lib.sh" "$@"

cat > ddc.yaml <<'YAML'
experiment: {name: ddc, seed: 3, threads: 2, run_dir: runs/ddc}
data: {train_samples: 600, test_samples: 200}
model: {name: mobilenetv2, width_multiplier: 0.25}
macros:
  - {name: digital, type: digital_sram}
  - {name: ddc, type: ddc_pim}
train:
  batch_size: 100
  float: {epochs: 1, learning_rate: 0.05}
  qat: {epochs: 0}
  fcc: {epochs: 1, learning_rate: 0.005, encoding: offset_binary, matching: greedy, penalty_epochs: 1}
evaluation:
  runs:
    - {name: baseline, mode: simulate, macro: digital, weights: float}
    - {name: paired, mode: simulate, macro: ddc, weights: paired}
    - {name: fcc_ddc, mode: simulate, macro: ddc, weights: fcc, compare_to: fcc_digital}
    - {name: fcc_digital, mode: simulate, macro: digital, weights: fcc}
YAML
expect_exit 0 run --config ddc.yaml
expect_output "FCC pairing (offset_binary, greedy matching, complement cost)"
expect_output "fcc_penalty stage: trained"
expect_output "fcc stage: trained"
expect_output "fcc_ddc vs fcc_digital: "
python3 - runs/ddc/results.json <<'PY' || fail "results.json of the FCC run is inconsistent"
import json, sys
d = json.load(open(sys.argv[1]))
layers = d["fcc_pairing"]["layers"]
assert d["fcc_pairing"]["encoding"] == "offset_binary"
kinds = {layer["kind"] for layer in layers}
assert kinds == {"pointwise", "depthwise"}, kinds
assert "features.0" not in [layer["layer"] for layer in layers]  # the first conv stays unpaired
for layer in layers:
    assert layer["pairs"] == layer["filters"] // 2 and (layer["unpaired"] >= 0) == (layer["filters"] % 2 == 1)
runs = {r["name"]: r for r in d["evaluations"]}
# The same network on both macros: same accuracy (both exact), fewer cycles on ddc_pim.
assert runs["fcc_ddc"]["accuracy"] == runs["fcc_digital"]["accuracy"]
assert runs["fcc_ddc"]["cost"]["cycles_layer_by_layer"] <= runs["fcc_digital"]["cost"]["cycles_layer_by_layer"]
assert runs["paired"]["model_stage"] == "paired" and runs["fcc_ddc"]["model_stage"] == "fcc"
compared = runs["fcc_ddc"]["compared_to"]
assert compared["run"] == "fcc_digital" and compared["speedup"] >= 1
assert abs(compared["speedup"] - runs["fcc_ddc"]["cost"]["inferences_per_s"] / runs["fcc_digital"]["cost"]["inferences_per_s"]) < 1e-9
PY
ls runs/ddc/checkpoints/pairing-*.json > /dev/null || fail "no pairing file"
expect_exit 0 run --config ddc.yaml
grep -qF "FCC pairing" out.txt && fail "the pairing was recomputed instead of read from its file"
expect_output "fcc_penalty stage: reused cached checkpoint"
expect_output "fcc stage: reused cached checkpoint"

# Bad settings: exit 2 naming the key.
sed 's/encoding: offset_binary/encoding: offset_binary, keep_unpaired: [no_such_layer]/' ddc.yaml > bad_pattern.yaml
expect_exit 2 run --config bad_pattern.yaml
expect_output "train.fcc.keep_unpaired"
sed 's/data: {train_samples: 600, test_samples: 200}/data: {train_samples: 600, test_samples: 200}\nquantization: {weight_bits: 16}/' ddc.yaml > too_wide.yaml
expect_exit 2 run --config too_wide.yaml
expect_output "train.fcc.encoding"
sed 's/fcc: {epochs: 1,/fcc: {epochs: 0,/' ddc.yaml > untrained.yaml
expect_exit 2 run --config untrained.yaml
expect_output "evaluation.runs[2].weights"
sed 's/compare_to: fcc_digital/compare_to: paired_typo/' ddc.yaml > bad_compare.yaml
expect_exit 2 run --config bad_compare.yaml
expect_output "evaluation.runs[2].compare_to"
sed 's/encoding: offset_binary/encoding: gray_code/' ddc.yaml > bad_encoding.yaml
expect_exit 2 run --config bad_encoding.yaml
expect_output "train.fcc.encoding"
# A damaged pairing file: refused, naming it.
file=$(ls runs/ddc/checkpoints/pairing-*.json)
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['layers'][0]['pairs'][0]=[0,0]; json.dump(d, open(sys.argv[1],'w'))" "$file"
expect_exit 2 run --config ddc.yaml
expect_output "pairing-"
echo "ddc_pim: ok"
