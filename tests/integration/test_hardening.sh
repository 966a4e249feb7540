# Regression tests of the bad inputs that once exited 1, passed silently, blamed the wrong file or
# left files behind (docs/reliability.md lists them). Each now exits 2 with a message naming the
# file or key, and writes nothing.
source "$(dirname "$0")/lib.sh" "$@"

# ---- bitline layer: empty and 0-d tensors, the file each message blames, non-finite values.
printf 'layer: {type: linear, mode: simulate}\n' > linear.yaml
printf 'layer: {type: conv2d, mode: simulate}\n' > conv.yaml
write_npy x.npy 2,255 "[random.random() for _ in range(n)]"
write_npy w.npy 4,255 "[random.uniform(-1, 1) for _ in range(n)]"
python3 - <<'PY'
import struct
def npy(path, shape, values, descr="<f4"):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))
npy("w_rows0.npy", (0, 255), [])
npy("w_cols0.npy", (1, 0), [])
npy("x_rows0.npy", (0, 255), [])
npy("w_scalar.npy", (), [1.0])
npy("x_nan.npy", (2, 255), [0.5] * 7 + [float("nan")] + [0.5] * 502)
npy("w_inf.npy", (4, 255), [0.1] * 1019 + [float("-inf")])
PY
expect_exit 2 layer --config linear.yaml --input x.npy --weight w_rows0.npy --output o.npy
expect_output "w_rows0.npy: weight: expected a tensor with at least one element, found shape [0, 255]"
expect_exit 2 layer --config linear.yaml --input x.npy --weight w_cols0.npy --output o.npy
expect_output "w_cols0.npy: weight: expected a tensor with at least one element, found shape [1, 0]"
expect_exit 2 layer --config linear.yaml --input x_rows0.npy --weight w.npy --output o.npy
expect_output "x_rows0.npy: input: expected a tensor with at least one element, found shape [0, 255]"
expect_exit 2 layer --config linear.yaml --input x.npy --weight w_scalar.npy --output o.npy
expect_output "w_scalar.npy: linear weight: expected [out, in], found shape []"
# A conv weight of the wrong rank is the weight's fault, even with a bias given.
write_npy b.npy 4 "[0.0] * n"
expect_exit 2 layer --config conv.yaml --input x.npy --weight w.npy --bias b.npy --output o.npy
expect_output "w.npy: conv2d weight: expected [out, in/groups, k, k]"
expect_exit 2 layer --config linear.yaml --input x_nan.npy --weight w.npy --output o.npy
expect_output "x_nan.npy: input: expected finite values, found nan at element [0, 7] (flat index 7)"
expect_output "--allow-non-finite"
expect_exit 2 layer --config linear.yaml --input x.npy --weight w_inf.npy --output o.npy
expect_output "w_inf.npy: weight: expected finite values, found -inf at element [3, 254]"
[[ ! -e o.npy ]] || fail "an output was written despite the errors"
# Allowed on request: the output is written, and the CSNR does not claim to be exact.
expect_exit 0 layer --config linear.yaml --input x_nan.npy --weight w.npy --output o.npy --allow-non-finite
expect_output "CSNR against the integer reference: undefined"

# ---- YAML: a repeated key and a second document are errors, not silently dropped.
printf 'experiment: {name: first, name: second}\n' > duplicate.yaml
expect_exit 2 config --check duplicate.yaml
expect_output "duplicate.yaml: key 'experiment.name' appears twice in the same map (lines 1 and 1)"
printf 'train:\n  batch_size: 64\ntrain:\n  batch_size: 32\n' > duplicate_section.yaml
expect_exit 2 run --config duplicate_section.yaml
expect_output "key 'train' appears twice in the same map (lines 1 and 3)"
printf 'experiment: {name: one}\n---\nexperiment: {nmae: two}\n' > two_documents.yaml
expect_exit 2 config --check two_documents.yaml
expect_output "two_documents.yaml: expected one YAML document, found another one at line 3"
printf 'a: &loop [*loop]\n' > alias_loop.yaml
expect_exit 2 config --check alias_loop.yaml
expect_output "alias_loop.yaml"
printf 'layer: {type: linear, type: conv2d}\n' > layer_duplicate.yaml
expect_exit 2 layer --config layer_duplicate.yaml --input x.npy --weight w.npy --output o.npy
expect_output "layer_duplicate.yaml: key 'layer.type' appears twice"
expect_exit 2 run --set 'experiment={name: a, name: b}'
expect_output "key 'name' appears twice"

# ---- A bad `base:` names the config that refers to it.
printf 'base: .nan\n' > bad_base.yaml
expect_exit 2 config --check bad_base.yaml
expect_output "bad_base.yaml: key 'base': expected the path of a readable config file (relative to this file's folder), found '.nan'"
printf 'base: [a, b]\n' > list_base.yaml
expect_exit 2 config --check list_base.yaml
expect_output "list_base.yaml: key 'base': expected the path of a config file, found a list"

# ---- CCO operating points: a duplicated or truncated table names the CSV file and its lines.
cat > points.csv <<'CSV'
corner,vdd_v,f0_mhz,gain_mhz_per_ua,isat_ua
TT,0.6,20,10,40
TT,0.9,100,20,80
TT,0.9,101,20,80
CSV
printf 'adc: {bits: 6, model: cco, cco: {operating_points_csv: points.csv}}\n' > cco.yaml
expect_exit 2 adc --config cco.yaml
expect_output "points.csv: line 4: corner 'TT' at vdd_v 0.9 appears again (first on line 3)"
head -n 2 points.csv > truncated.csv
printf 'adc: {bits: 6, model: cco, cco: {operating_points_csv: truncated.csv}}\n' > cco_truncated.yaml
expect_exit 2 adc --config cco_truncated.yaml
expect_output "truncated.csv: V_DD 0.9 V is outside corner TT's table range [0.6, 0.6] V; the corner's rows are on lines 2"
expect_output "(keys 'adc.cco.design_corner' and 'design_vdd_v')"

# ---- Output directories: bitline never writes into a directory of other files.
printf 'adc: {bits: 4}\noutput_dir: /\n' > adc_root.yaml
expect_exit 2 adc --config adc_root.yaml
expect_output "adc_root.yaml: key 'output_dir': expected a new or empty directory, or one holding only this command's outputs"
[[ ! -e /summary.json ]] || fail "bitline adc wrote into /"
mkdir notes && touch notes/plan.txt
expect_exit 2 cost --config "$SOURCE_DIR/configs/hardware/analog_sram_cim.yaml" --run-dir notes
expect_output "experiment.run_dir: expected a new or empty directory"
expect_output "(plan.txt)"

# ---- Rejected configs create no run directory.
printf 'quantization:\n  layer_overrides:\n    - layers: [conv9]\n      weight_bits: 4\n' > no_layer.yaml
expect_exit 2 run --config no_layer.yaml --run-dir runs/no_layer --no-progress
expect_output "'conv9', which matches none"
expect_exit 2 run --set data.path=/nonexistent/fashion --run-dir runs/no_data --no-progress
expect_output "/nonexistent/fashion"
[[ ! -e runs ]] || fail "a rejected config left $(find runs) behind"

# ---- IDX labels out of range are refused when the files are read, before any training.
python3 - <<'PY'
import gzip, os, struct
os.makedirs("idx", exist_ok=True)
def write(name, magic, dims, payload):
    with gzip.open(f"idx/{name}", "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)
for split, count in (("train", 20), ("t10k", 10)):
    write(f"{split}-images-idx3-ubyte.gz", 0x803, (count, 28, 28), bytes(count * 784))
    labels = bytearray(i % 10 for i in range(count))
    if split == "train":
        labels[13] = 10
    write(f"{split}-labels-idx1-ubyte.gz", 0x801, (count,), bytes(labels))
PY
expect_exit 2 run --set data.path=idx --run-dir runs/idx --no-progress
expect_output "idx/train-labels-idx1-ubyte.gz: label record 13 (byte offset 21 of the IDX data) is 10, expected a class index 0 to 9"
! grep -q "stage:" out.txt || fail "training ran before the labels were checked"
[[ ! -e runs ]] || fail "a rejected dataset left $(find runs) behind"

# ---- Checkpoints: a bit flip is caught by the checksum; a format-1 file is retrained.
small_config small.yaml runs/ckpt
sed -i 's/float: {epochs: 2/float: {epochs: 1/' small.yaml
expect_exit 0 train --config small.yaml --no-progress
checkpoint=$(ls runs/ckpt/checkpoints/float-*.ckpt)
python3 - "$checkpoint" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) * 2 // 3] ^= 0x10  # inside the archive, past the header line
open(sys.argv[1], "wb").write(data)
PY
expect_exit 2 eval --config small.yaml --no-progress
expect_output "$checkpoint: corrupt checkpoint: expected the payload's CRC-32"
# A format-1 checkpoint (a bare LibTorch archive, a zip file) is retrained, not trusted.
printf 'PK\x03\x04 the rest of a LibTorch archive' > "$checkpoint"
expect_exit 2 eval --config small.yaml --no-progress
expect_output "it was written by an older bitline, checkpoint format 1"
expect_exit 0 train --config small.yaml --no-progress
expect_output "written by an older bitline (checkpoint format 1, without a checksum); retraining the float stage"
head -c 19 "$checkpoint" | grep -q "^bitline checkpoint" || fail "the retrained checkpoint has no checked header"
echo "hardening regression tests passed"
