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
