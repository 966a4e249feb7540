# Shared helpers of the integration tests. Each test script is called as
#   bash test_X.sh <path to bitline> <source dir>
set -euo pipefail
BITLINE=$1
SOURCE_DIR=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitline-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }

# A small, fast experiment: 1500 training and 500 test images of Fashion-MNIST.
small_config() {
  cat > "$1" <<YAML
experiment: {name: small, seed: 3, threads: 2, run_dir: ${2:-runs/small}}
data: {train_samples: 1500, test_samples: 500}
model: {name: cnn, width_multiplier: 0.5}
train:
  batch_size: 64
  float: {epochs: 2, learning_rate: 0.05}
  qat: {epochs: 1, learning_rate: 0.005}
YAML
}

# Value of a JSON path in a file, e.g. json_get results.json '["training"][0]["weights_digest"]'.
json_get() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# Runs bitline expecting exit code $1; the rest are its arguments. Output goes to out.txt.
expect_exit() {
  local want=$1; shift
  set +e
  "$BITLINE" "$@" > out.txt 2>&1
  local got=$?
  set -e
  if [[ $got -ne $want ]]; then cat out.txt >&2; fail "bitline $* exited $got, expected $want"; fi
}

expect_output() { grep -qF -- "$1" out.txt || { cat out.txt >&2; fail "output lacks: $1"; }; }

# Writes a float32 .npy file: write_npy PATH "d0,d1,..." PYTHON_EXPR_FOR_VALUES (a list of n floats).
write_npy() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys, random, math
path, shape_text, expression = sys.argv[1:]
shape = tuple(int(s) for s in shape_text.split(","))
n = math.prod(shape)
random.seed(1)
values = eval(expression, {"random": random, "n": n, "math": math})
assert len(values) == n, (len(values), n)
header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (repr(shape),)
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%df" % n, *values))
PY
}

# Prints the float32 values of a .npy file written by bitline, one per line.
read_npy() {
  python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
header_length = struct.unpack("<H", data[8:10])[0]
body = data[10 + header_length:]
for value in struct.unpack("<%df" % (len(body) // 4), body):
    print(repr(value))
PY
}
