# bitline run reuses checkpoints whose config hash matches, retrains only the stages whose
# config changed, and gives identical results for the same seed whatever the thread count.
source "$(dirname "$0")/lib.sh" "$@"

small_config small.yaml runs/a
expect_exit 0 run --config small.yaml --no-progress
first_digest=$(json_get runs/a/results.json '["training"][1]["weights_digest"]')

expect_exit 0 run --config small.yaml --no-progress
expect_output "float stage: reused cached checkpoint"
expect_output "qat stage: reused cached checkpoint"

# New activation bits: the fp32 stage is reused, the QAT stage retrained.
expect_exit 0 run --config small.yaml --no-progress --set quantization.activation_bits=6
expect_output "float stage: reused cached checkpoint"
expect_output "qat stage: trained"
expect_output "W8A6"

# A fresh run in another directory with the same seed gives the same weights.
expect_exit 0 run --config small.yaml --no-progress --run-dir runs/b
[[ "$(json_get runs/b/results.json '["training"][1]["weights_digest"]')" == "$first_digest" ]] ||
  fail "same seed, different weights"

# Evaluation does not depend on the thread count or the batch size.
expect_exit 0 eval --config small.yaml --no-progress --run-dir runs/b --threads 1
cp runs/b/results.csv one_thread.csv
expect_exit 0 eval --config small.yaml --no-progress --run-dir runs/b --threads 2 --set evaluation.batch_size=37
cmp <(cut -d, -f1-6 one_thread.csv) <(cut -d, -f1-6 runs/b/results.csv) || fail "results depend on threads or batch size"
echo "cache and determinism tests passed"
