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
assert [runs[n]["macro"] for n in ("baseline", "paired", "fcc_ddc", "fcc_digital")] == ["digital", "ddc", "ddc", "digital"]

# The speedup the cost model's formula gives (docs/cost.md, "Latency"), derived here from the layer
# shapes. Default chip: 16 x 4 = 64 macros of 256 x 256 cells. The 53 layers need more than 64 macros,
# so weights are not resident: layers run one after another, each reloading its weights (256 write
# cycles, one row per cycle) and spreading its output rows over floor(64 / needed) copies:
#   cycles = rows x 8 input chunks (bit-serial, 8-bit inputs; one row tile, all depths <= 255) / copies + 256
# A layer needs column_tiles x ceil(products / products_per_macro) macros. The FCC weights are offset
# binary: odd codes of 2^8 levels, n = 8 stored bits on ddc_pim (32 output columns to a macro), 9 bits of
# two's complement on digital_sram (28 to a macro). Pointwise (F filters, P pairs): digital stores F
# columns, ddc_pim F - P (a pair shares its cells). Depthwise (C channels of depth 9): digital has C
# one-column products, ddc_pim P dual-broadcast products of two columns on one stored column; both fit
# 28 to a macro (256 rows / 9 rows each).
pairing = {layer["layer"]: layer for layer in d["fcc_pairing"]["layers"]}
ddc_layers = {l["layer"]: l for l in runs["fcc_ddc"]["cost"]["layers"]}
digital_layers = {l["layer"]: l for l in runs["fcc_digital"]["cost"]["layers"]}
assert not runs["fcc_ddc"]["cost"]["weights_resident"] and not runs["fcc_digital"]["cost"]["weights_resident"]
ceil = lambda a, b: -(-a // b)
def needed(layer, paired):
    f, p = layer["filters"], layer["pairs"] if paired else 0
    if layer["kind"] == "pointwise":
        return ceil(f - p, 32) if paired else ceil(f, 28)
    return ceil(p if paired else f, 28)
# MobileNetV2 for 28 x 28 inputs (src/nn/models/mobilenetv2.cpp): the depthwise convs of blocks 3, 6
# and 13 have stride 2, so outputs are 28 x 28, then 14 x 14, 7 x 7 and 4 x 4.
side = 28
totals = {"ddc": 0.0, "digital": 0.0}
for name, digital_layer in digital_layers.items():
    if name in ("features.3.depthwise", "features.6.depthwise", "features.13.depthwise"):
        side = ceil(side, 2)
    if name not in pairing:  # the stem conv and the classifier: unpaired, the same mapping on both macros
        assert ddc_layers[name]["cycles"] == digital_layer["cycles"], name
        totals["ddc"] += digital_layer["cycles"]
        totals["digital"] += digital_layer["cycles"]
        continue
    for macro, paired, layer in (("ddc", True, ddc_layers[name]), ("digital", False, digital_layer)):
        macros = needed(pairing[name], paired)
        assert layer["macros"] == macros, (name, macro, layer["macros"], macros)
        cycles = side * side * 8 / (64 // macros) + 256
        assert abs(layer["cycles"] - cycles) < 1e-9 * cycles, (name, macro, layer["cycles"], cycles)
        totals[macro] += cycles
speedup = totals["digital"] / totals["ddc"]
compared = runs["fcc_ddc"]["compared_to"]
assert compared["run"] == "fcc_digital", compared
assert abs(compared["speedup"] - speedup) < 1e-9 * speedup and speedup > 1.05, (compared["speedup"], speedup)
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
cp "$file" pairing.good
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['layers'][0]['pairs'][0]=[0,0]; json.dump(d, open(sys.argv[1],'w'))" "$file"
expect_exit 2 run --config ddc.yaml
expect_output "pairing-"

# A pairing file that does not fit the config and model (issue 25): refused naming the file and the
# layer, instead of evaluating another network than the config describes.
damaged() {  # damaged PYTHON_STATEMENT MESSAGE: the good file changed by the statement (on d) is refused
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1; json.dump(d, open(sys.argv[2],'w'))" pairing.good "$file"
  expect_exit 2 eval --config ddc.yaml --no-progress
  expect_output "$file: not a valid pairing file"
  expect_output "$2"
}
first=$(json_get pairing.good '["layers"][0]["layer"]')
damaged "del d['layers'][0]" "layer '$first' is paired by the config (train.fcc) but missing from the file"
damaged "d['layers'][0]['pairs'] = d['layers'][0]['pairs'][:1]" "layer '$first': expected a perfect pairing of its"
damaged "d['layers'][0]['pairs'] = []; d['layers'][0]['unpaired'] = -1" "layer '$first': expected a perfect pairing"
damaged "d['layers'] = []" "is paired by the config (train.fcc) but missing from the file"
damaged "d['layers'].append(dict(d['layers'][0], layer='features.0'))" "layer 'features.0' is not one the config pairs"
damaged "d['encoding'] = 'twos_complement'" "key 'encoding': the config pairs in offset_binary (train.fcc.encoding), the file holds twos_complement"
damaged "d['layers'][0]['depth'] += 1" "layer '$first': the file has a"
damaged "d['layers'][0]['kind'] = 'linear' if d['layers'][0]['kind'] != 'linear' else 'conv'" "layer '$first': the file has a"
damaged "d['pairing_hash'] = 12" "key 'pairing_hash': expected a string, found the number 12"
damaged "d['layers'][0]['seconds'] = 'slow'" "key 'layers[0].seconds': expected a finite number >= 0"
damaged "d['layers'][0]['unpaired'] = -2" "key 'layers[0].unpaired': expected an integer >= -1, found the number -2"
cp pairing.good "$file"
expect_exit 0 eval --config ddc.yaml --no-progress

# ---- bitline layer: filter pairs through the macro's Q/Q̄ datapath (issue 25) ----------------------
# Weights whose 4-bit two's-complement codes are complements by construction (w_b = -w_a - Δ, Δ = 1/7:
# every code in [-7, 6], -7 taken, so that the per-tensor range is 1 for every filter).
python3 - "$SOURCE_DIR/tests/integration" <<'PY'
import random, sys
sys.path.insert(0, sys.argv[1])
random.seed(5)
from npy_file import write_float32 as npy
depth = 24
codes = []
for pair in range(3):
    free = [random.randint(-7, 6) for _ in range(depth)]
    free[0] = -7  # the free filters reach the range; every code of a pair is in [-7, 6]
    codes += [free, [-c - 1 for c in free]]
npy("pw_weight.npy", (6, depth), [c / 7 for row in codes for c in row])
broken = [row[:] for row in codes]
broken[3][5] += 1  # pair (2, 3) is no longer complementary at weight 5
npy("pw_broken.npy", (6, depth), [c / 7 for row in broken for c in row])
npy("pw_input.npy", (5, depth), [random.random() for _ in range(5 * depth)])
# A depthwise conv: 4 channels of 3x3 filters, channels (0, 1) and (2, 3) paired.
dw = []
for pair in range(2):
    free = [random.randint(-7, 6) for _ in range(9)]
    free[0] = -7
    dw += [free, [-c - 1 for c in free]]
npy("dw_weight.npy", (4, 1, 3, 3), [c / 7 for row in dw for c in row])
dw[1][4] = 0 if dw[1][4] != 0 else 1
npy("dw_broken.npy", (4, 1, 3, 3), [c / 7 for row in dw for c in row])
npy("dw_input.npy", (2, 4, 5, 5), [random.random() for _ in range(2 * 4 * 25)])
PY
cat > pairs.yaml <<'YAML'
layer: {type: linear, mode: simulate, pairs: [[0, 1], [2, 3], [4, 5]]}
quantization: {weight_bits: 4, weight_granularity: per_tensor}
macro: {type: ddc_pim}
YAML
expect_exit 0 layer --config pairs.yaml --input pw_input.npy --weight pw_weight.npy --output paired.npy
expect_output "CSNR against the integer reference: exact"
expect_output "3 filter pairs (twos_complement) stored in shared cells, each checked by the macro"
sed -e 's/, pairs: \[\[0, 1\], \[2, 3\], \[4, 5\]\]//' -e 's/type: ddc_pim/type: digital_sram/' pairs.yaml > digital.yaml
expect_exit 0 layer --config digital.yaml --input pw_input.npy --weight pw_weight.npy --output digital.npy
cmp -s paired.npy digital.npy || fail "the paired layer on ddc_pim differs from the same weights on digital_sram"
expect_exit 2 layer --config pairs.yaml --input pw_input.npy --weight pw_broken.npy --output broken.npy
expect_output "layer 'layer': filters 2 and 3 (pair 1 of its pairs) are not a complementary pair: the ddc_pim macro cannot store them in shared cells (twos_complement, weight 5 of 24)"
[[ ! -e broken.npy ]] || fail "a refused pair wrote its output"
cat > dw_pairs.yaml <<'YAML'
layer: {type: conv2d, groups: 4, padding: 1, mode: simulate, pairs: [[0, 1], [2, 3]]}
quantization: {weight_bits: 4, weight_granularity: per_tensor}
macro: {type: ddc_pim}
YAML
expect_exit 0 layer --config dw_pairs.yaml --input dw_input.npy --weight dw_weight.npy --output dw.npy
expect_output "CSNR against the integer reference: exact"
expect_exit 2 layer --config dw_pairs.yaml --input dw_input.npy --weight dw_broken.npy --output dw_broken_out.npy
expect_output "filters 0 and 1 (pair 0 of its pairs) are not a complementary pair"
# The pairs of a run's pairing file.
layer=$(python3 -c "import json,sys; print([l for l in json.load(open(sys.argv[1]))['layers'] if l['kind'] == 'pointwise'][0]['layer'])" "$file")
python3 - "$file" "$layer" "$SOURCE_DIR/tests/integration" <<'PY'
import json, sys, random
sys.path.insert(0, sys.argv[3])
d = json.load(open(sys.argv[1]))
entry = [l for l in d["layers"] if l["layer"] == sys.argv[2]][0]
random.seed(9)
filters, depth = entry["filters"], entry["depth"]
rows = [None] * filters
for a, b in entry["pairs"]:
    free = [2 * random.randint(-7, 7) + 1 for _ in range(depth)]  # offset binary: odd codes, the pair's are -d
    free[0] = 15
    rows[a], rows[b] = free, [-c for c in free]
if entry["unpaired"] >= 0:
    rows[entry["unpaired"]] = [1] * depth
from npy_file import write_float32 as npy
npy("file_weight.npy", (filters, depth, 1, 1), [c / 16 for row in rows for c in row])
npy("file_input.npy", (1, depth, 3, 3), [random.random() for _ in range(depth * 9)])
PY
printf 'layer: {type: conv2d, mode: simulate, pairing_file: %s, pairing_layer: %s}\nquantization: {weight_bits: 4, weight_granularity: per_tensor}\nmacro: {type: ddc_pim}\n' "$file" "$layer" > file_pairs.yaml
expect_exit 0 layer --config file_pairs.yaml --input file_input.npy --weight file_weight.npy --output file.npy
expect_output "filter pairs (offset_binary) stored in shared cells, each checked by the macro"
expect_output "CSNR against the integer reference: exact"
# Pairs where they cannot be: exit 2 naming the key.
refused_pairs() {  # refused_pairs CONFIG SED_SCRIPT INPUT WEIGHT MESSAGE
  sed "$2" "$1" > refused.yaml
  expect_exit 2 layer --config refused.yaml --input "$3" --weight "$4" --output x.npy
  expect_output "$5"
}
refused_pairs pairs.yaml 's/type: ddc_pim/type: digital_sram/' pw_input.npy pw_weight.npy \
  "key 'layer.pairs': expected simulate mode on a macro that stores complementary pairs (ddc_pim), found simulate mode on digital_sram"
refused_pairs pairs.yaml 's/\[4, 5\]\]/[4, 9]]/' pw_input.npy pw_weight.npy "key 'layer.pairs': filter 9 of pair [4, 9] is out of range [0, 6)"
refused_pairs pairs.yaml 's/\[4, 5\]\]/[4, 4]]/' pw_input.npy pw_weight.npy \
  "key 'layer.pairs[2]': expected two different filter indices [free, tied], found [4, 4]"
refused_pairs file_pairs.yaml "s/pairing_layer: $layer/pairing_layer: no_such_layer/" file_input.npy file_weight.npy \
  "key 'layer.pairing_layer': expected a layer of $file, found 'no_such_layer'"
echo "ddc_pim: ok"
