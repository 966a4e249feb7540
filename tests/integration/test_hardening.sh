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

# ---- Issue 25: outputs that exist but cannot be written, sizes without bounds, overflow, divergence.
# An output location that cannot be written is refused up front (exit 2 naming it), and no temporary
# file is made outside the requested folder.
echo '{"experiment": "x", "evaluations": [{"name": "fp32", "mode": "float", "accuracy": 0.5, "loss": 1.0}]}' > results.json
mkdir -p run_ok && cp results.json run_ok/
ls -a / > root_before.txt
expect_exit 2 report run_ok -o /
expect_output "-o/--output: expected a file path, found the directory /"
ls -a / > root_after.txt
cmp -s root_before.txt root_after.txt || fail "report -o / left files in /: $(diff root_before.txt root_after.txt)"
expect_exit 2 report run_ok -o ''
expect_output "-o/--output: expected a file path, found ''"
expect_exit 2 report run_ok -o /proc/bitline-report.html
expect_output "-o/--output: cannot write /proc/bitline-report.html: its folder /proc is not writable"
expect_exit 2 layer --config linear.yaml --input x.npy --weight w.npy --output /proc/bitline-o.npy
expect_output "--output: cannot write /proc/bitline-o.npy: its folder /proc is not writable"
expect_exit 2 multiplier --format bf16 --variants or --output-dir /proc/self
expect_output "--output-dir: expected a new or empty directory"
expect_exit 2 multiplier --format bf16 --variants or --output-dir ''
expect_output "--output-dir: expected a directory path for the output files, found ''"
# A folder that exists but is read-only for the user: as root, the commands run as nobody, on a copy
# of the binary and files in this test's folder (the checkout may be closed to other users).
chmod 755 "$WORK"
mkdir -p ro_out && chmod 555 ro_out
cp "$BITLINE" bitline_copy
printf 'experiment: {run_dir: ro_out}\nmacros: [{name: daism, type: daism}]\n' > daism_chip.yaml
printf 'adc: {bits: 6}\noutput_dir: ro_out\n' > adc_ro.yaml
printf 'model: {name: cnn}\nmacros: [{name: asim, type: analog_sram}]\nexperiment: {run_dir: ro_out}\n' > cost_ro.yaml
unprivileged() { if [[ $(id -u) -eq 0 ]]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
expect_unwritable() {  # expect_unwritable MESSAGE ARGS...: the command, as a user who cannot write ro_out, exits 2
  local message=$1
  shift
  set +e
  unprivileged "$WORK/bitline_copy" "$@" > out.txt 2>&1
  local got=$?
  set -e
  [[ $got -eq 2 ]] || { cat out.txt >&2; fail "bitline $* into a read-only folder exited $got, expected 2"; }
  expect_output "$message"
  [[ -z $(ls -A ro_out) ]] || fail "bitline $* wrote into the read-only folder"
}
expect_unwritable "-o/--output: cannot write ro_out/r.html: its folder ro_out is not writable (Permission denied)" \
  report run_ok -o ro_out/r.html
expect_unwritable "--output: cannot write ro_out/o.npy: its folder ro_out is not writable (Permission denied)" \
  layer --config linear.yaml --input x.npy --weight w.npy --output ro_out/o.npy
expect_unwritable "--output-dir: cannot write into directory ro_out: Permission denied" multiplier --format bf16 --variants or --output-dir ro_out
expect_unwritable "key 'output_dir': cannot write into directory ro_out: Permission denied" adc --config adc_ro.yaml
expect_unwritable "experiment.run_dir: cannot write into directory ro_out: Permission denied" cost --config cost_ro.yaml
expect_unwritable "experiment.run_dir: cannot write into directory ro_out: Permission denied" daism-chip --config daism_chip.yaml

# Sizes with documented ranges that end in minutes on 2 cores and fit in memory.
expect_exit 2 multiplier --format fp32 --max-pairs 70368744177664
expect_output "--max-pairs: expected an integer in [1, 4194304] (with --no-csv: up to 134217728), found 70368744177664"
expect_exit 2 multiplier --format fp32 --max-pairs 1000000000
expect_output "--max-pairs: expected an integer in [1, 4194304]"
expect_exit 2 multiplier --format fp32 --max-pairs 1000000000 --no-csv
expect_output "--max-pairs: expected an integer in [1, 134217728], found 1000000000"
expect_exit 2 multiplier --format fp32 --max-pairs 99999999999999999999
expect_output "--max-pairs"
expect_exit 2 multiplier --format bf16 --seed -1
expect_output "--seed: expected an integer >= 0, found -1"
expect_exit 2 fp-ops --samples 1000000000
expect_output "option --samples: expected an integer in [1, 1000000], found 1000000000"
expect_exit 2 fp-ops --format e99999999999m1
expect_output "option --format 'e99999999999m1'"

# Counts past int64 and hardware figures past their physical ranges: refused, never printed as results.
chip=$SOURCE_DIR/configs/hardware/daism_chip.yaml
expect_exit 2 daism-chip --config "$chip" --gemm 3000000,3000000,3000000
expect_output "--gemm '3000000,3000000,3000000': gemm m x n x k must be at most 2^53"
expect_exit 2 daism-chip --config "$chip" --gemm 9223372036854775807,9223372036854775807,2
expect_output "must be at most 2^53"
for setting in "technology_node_nm: 1e300" "vdd_v: 1e200" "clock_mhz: 1e300" "components: {cell_energy_fj: 1e308}"; do
  key=${setting%%:*}
  printf 'model: {name: cnn}\nmacros: [{name: asim, type: analog_sram, hardware: {%s}}]\nexperiment: {run_dir: runs/huge}\n' "$setting" > huge.yaml
  expect_exit 2 cost --config huge.yaml
  expect_output "key 'macros[0].hardware.$key"
  [[ ! -e runs/huge ]] || fail "cost with $setting wrote runs/huge"
done

# A sweep whose data set does not exist is refused before its folder is made, as `bitline run` refuses it.
small_config sweep_base.yaml runs/unused
cat > missing_data_sweep.yaml <<'YAML'
base: sweep_base.yaml
experiment: {run_dir: sweeps/nodata}
data: {path: /nonexistent/fashion}
sweep:
  axes:
    - {key: quantization.weight_bits, values: [4, 8]}
YAML
expect_exit 2 sweep --config missing_data_sweep.yaml
expect_output "sweep point p000 (weight_bits=4):"
expect_output "/nonexistent/fashion"
[[ ! -e sweeps/nodata ]] || fail "a sweep without its data set made its folder"

# A training that diverges is a result of the config: exit 2 naming stage, epoch, batch and loss; in a
# sweep, the point fails with that reason.
cat > diverge.yaml <<'YAML'
experiment: {name: diverge, seed: 3, threads: 2, run_dir: runs/diverge}
data: {train_samples: 512, test_samples: 100}
model: {name: cnn, width_multiplier: 0.5}
train:
  batch_size: 64
  float: {epochs: 1, learning_rate: 100}
  qat: {epochs: 0}
YAML
expect_exit 2 run --config diverge.yaml --no-progress
expect_output "error: training diverged in stage float, epoch 1, batch"
expect_output "the loss is NaN; lower the stage's learning rate"
cat > diverge_sweep.yaml <<'YAML'
base: diverge.yaml
experiment: {run_dir: sweeps/diverge}
sweep:
  axes:
    - {key: train.float.learning_rate, name: lr, values: [0.05, 100]}
YAML
expect_exit 1 sweep --config diverge_sweep.yaml
expect_output "p001 FAILED (exit 2: error: training diverged in stage float"
expect_exit 0 sweep --status sweeps/diverge
grep -q "^p001 *failed .*exit 2: error: training diverged in stage float, epoch 1" out.txt || { cat out.txt >&2; fail "--status lacks the failure's reason"; }
grep -q "^p000 *done" out.txt || fail "the sweep's other point did not finish"
echo "hardening regression tests passed"
