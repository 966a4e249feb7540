# Training killed after its first epoch resumes and ends with the same weights as an
# uninterrupted run with the same seed.
source "$(dirname "$0")/lib.sh" "$@"

small_config straight.yaml runs/straight
expect_exit 0 run --config straight.yaml --no-progress

small_config killed.yaml runs/killed
"$BITLINE" train --config killed.yaml --no-progress > killed.log 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  compgen -G "runs/killed/checkpoints/float-*.ckpt" > /dev/null && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || fail "training finished before it could be killed"
wait $pid 2>/dev/null || true
compgen -G "runs/killed/checkpoints/float-*.ckpt" > /dev/null || fail "no checkpoint after the first epoch"
! compgen -G "runs/killed/checkpoints/qat-*.ckpt" > /dev/null || fail "killed too late: the QAT stage had started"

expect_exit 0 run --config killed.yaml --no-progress
expect_output "resumed the float stage after epoch"
for stage in 0 1; do
  a=$(json_get runs/straight/results.json "[\"training\"][$stage][\"weights_digest\"]")
  b=$(json_get runs/killed/results.json "[\"training\"][$stage][\"weights_digest\"]")
  [[ "$a" == "$b" ]] || fail "stage $stage weights differ after resume: $a vs $b"
done
cmp <(cut -d, -f2-8 runs/straight/results.csv) <(cut -d, -f2-8 runs/killed/results.csv) || fail "results differ"
echo "resume test passed"
