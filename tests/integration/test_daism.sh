# The daism macro (docs/macros/daism.md): `bitline layer` on .npy tensors, a small network trained with
# DAISM in all three products and evaluated on it, and bad settings exiting 2 naming the key.
source "$(dirname "$0")/lib.sh" "$@"

# One conv layer: the exact fp32 variant equals LibTorch's conv to fp32 rounding; PC2 bf16 is
# approximate, below the exact product in magnitude on positive operands.
write_npy x.npy 2,3,5,5 "[random.uniform(0.5, 2) for _ in range(n)]"
write_npy w.npy 4,3,3,3 "[random.uniform(0.5, 2) for _ in range(n)]"
cat > exact.yaml <<'YAML'
layer: {type: conv2d, padding: 1, mode: simulate}
macro: {type: daism, daism: {format: fp32, variant: exact, rounding: nearest_even}}
YAML
expect_exit 0 layer --config exact.yaml --input x.npy --weight w.npy --output exact.npy
expect_output "CSNR against the exact fp32 product:"
cat > pc2.yaml <<'YAML'
layer: {type: conv2d, padding: 1, mode: simulate}
macro: {type: daism, daism: {variant: precomputed_digits, k: 2}}
YAML
expect_exit 0 layer --config pc2.yaml --input x.npy --weight w.npy --output pc2.npy
expect_output "daism macro (bf16 pc2, toward_zero) events: macs 5400"
expect_output "tile_activations 1350"
python3 - <<'PY' || fail "the daism layer outputs are wrong"
import struct
def load(path):
    data = open(path, "rb").read()
    header_len = struct.unpack("<H", data[8:10])[0]
    return list(struct.unpack("<%df" % ((len(data) - 10 - header_len) // 4), data[10 + header_len:]))
x, w = load("x.npy"), load("w.npy")
exact, pc2 = load("exact.npy"), load("pc2.npy")
def conv(b, o, i, j):  # NCHW, 3x3, padding 1
    s = 0.0
    for c in range(3):
        for di in range(3):
            for dj in range(3):
                ii, jj = i + di - 1, j + dj - 1
                if 0 <= ii < 5 and 0 <= jj < 5:
                    s += x[((b * 3 + c) * 5 + ii) * 5 + jj] * w[((o * 3 + c) * 3 + di) * 3 + dj]
    return s
for b in range(2):
    for o in range(4):
        for i in range(5):
            for j in range(5):
                ref = conv(b, o, i, j)
                k = ((b * 4 + o) * 5 + i) * 5 + j
                assert abs(exact[k] - ref) <= 1e-5 * abs(ref), (exact[k], ref)
                assert pc2[k] < ref and pc2[k] > 0.6 * ref, (pc2[k], ref)
PY

# A small network: fp32 training, then one epoch with DAISM PC2 in all three products.
small_config base.yaml
cat base.yaml - > daism.yaml <<'YAML'
macros:
  - {name: pc2, type: daism, daism: {variant: precomputed_digits, k: 2}}
YAML
sed -i 's/  qat: {epochs: 1, learning_rate: 0.005}/  qat: {epochs: 1, learning_rate: 0.005, mode: simulate, macro: pc2, samples_per_epoch: 500}/' daism.yaml
cat >> daism.yaml <<'YAML'
evaluation:
  runs:
    - {name: fp32, mode: float}
    - {name: fp32_on_pc2, mode: simulate, macro: pc2, weights: float}
    - {name: pc2_trained, mode: simulate, macro: pc2}
YAML
expect_exit 0 run --config daism.yaml --no-progress
expect_output "fp32_on_pc2    simulate   bf16      float"
expect_output "pc2_trained    simulate   bf16      qat"
python3 - <<'PY' || fail "results.json of the daism run is wrong"
import json
r = json.load(open("runs/small/results.json"))
rows = {e["name"]: e for e in r["evaluations"]}
assert rows["fp32_on_pc2"]["model_stage"] == "float" and rows["pc2_trained"]["model_stage"] == "qat"
for name in ("fp32_on_pc2", "pc2_trained"):
    row = rows[name]
    assert 0.5 < row["accuracy"] <= 1, row["accuracy"]
    events = row["layers"][0]["events"]
    assert events["float_additions"] > 0 and events["column_reads"] > 0, events
    assert row["cost"]["energy_per_inference_pj"] > 0
    # CSNR against the exact fp32 products: finite (approximate), not exact.
    assert all(l["csnr_db"] is not None and 5 < l["csnr_db"] < 60 for l in row["layers"]), row["layers"]
PY

# Bad settings exit 2 naming the key.
printf 'macros:\n  - {name: m, type: daism, daism: {k: 9}}\n' > k9.yaml
expect_exit 2 config --check k9.yaml
expect_output "k9.yaml: key 'macros[0].daism.k': must be in [1, operand_bits = 8], found 9 (format bf16, variant precomputed_digits)"
printf 'macros:\n  - {name: m, type: daism, daism: {train_products: [forward, backward]}}\n' > products.yaml
expect_exit 2 config --check products.yaml
expect_output "key 'macros[0].daism.train_products[1]': expected one of forward, input_gradient, weight_gradient, found 'backward'"
printf 'macros:\n  - {name: m, type: daism, daism: {format: bfloat}}\n' > format.yaml
expect_exit 2 config --check format.yaml
expect_output "key 'macros[0].daism.format': expected one of bf16, fp16, fp32, int8, found 'bfloat'"
printf 'macros:\n  - {name: m, type: daism, daism: {format: int8, variant: precomputed_digits, k: 8}}\nquantization: {weight_bits: 4, activation_bits: 4}\n' > int8.yaml
expect_exit 2 config --check int8.yaml
expect_output "k must be in [1, operand_bits = 4], found 8 (with quantization W4A4)"
printf 'macros:\n  - {name: m, type: daism}\ntrain: {float: {epochs: 0}}\nevaluation:\n  runs: [{name: a, mode: simulate, macro: m, weights: float}]\n' > weights.yaml
expect_exit 2 config --check weights.yaml
expect_output "key 'evaluation.runs[0].weights': the float stage's weights, but train.float.epochs is 0"
echo "daism: ok"
