# The README's main job: the embedded default experiment reaches >= 90% test accuracy in both
# fp32 and W8A8 QAT (issue 2). Takes about two minutes on 2 cores.
source "$(dirname "$0")/lib.sh" "$@"
expect_exit 0 run --no-progress
cat out.txt
for row in 0 1; do
  accuracy=$(json_get runs/default/results.json "[\"evaluations\"][$row][\"accuracy\"]")
  python3 -c "import sys; sys.exit(0 if float('$accuracy') >= 0.90 else 1)" ||
    fail "evaluation $row accuracy $accuracy is below 0.90"
done
echo "default experiment test passed"
