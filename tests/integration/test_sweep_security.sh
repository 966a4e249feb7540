# What a sweep folder and the Slurm settings can make bitline do (docs/reliability.md): nothing but
# what bitline means to. Hostile job ids in slurm/jobs.json, hostile Slurm settings, files of the
# wrong shape and refused submissions, with a fake sbatch and squeue first on PATH that record the
# arguments they were given, one per line. Issue 25.
source "$(dirname "$0")/lib.sh"

mkdir -p fake_bin
cat > fake_bin/squeue <<'EOF'
#!/bin/bash
printf '%s\n' "$@" > "$FAKE_LOG/squeue.args"
EOF
cat > fake_bin/sbatch <<'EOF'
#!/bin/bash
# --test-only: refused when FAKE_SBATCH_REFUSE is set; otherwise "submits": records its arguments and
# the script, prints a job id.
printf '%s\n' "$@" > "$FAKE_LOG/sbatch.args"
if [[ $1 == --test-only ]]; then
  cat > "$FAKE_LOG/sbatch.stdin"
  if [[ -n ${FAKE_SBATCH_REFUSE:-} ]]; then echo "sbatch: error: invalid partition specified" >&2; exit 1; fi
  echo "sbatch: Job 1 to start at 2026-12-07T10:00:00" >&2
  exit 0
fi
cp "${@: -1}" "$FAKE_LOG/submitted.sh"
echo 4242
EOF
chmod +x fake_bin/*
export FAKE_LOG=$WORK/fake_log
mkdir -p "$FAKE_LOG"
export PATH=$WORK/fake_bin:$PATH

small_config base.yaml runs/unused
cat > sweep.yaml <<'YAML'
base: base.yaml
experiment: {name: secure, run_dir: sweeps/s}
macros:
  - {name: asim, type: analog_sram, analog_sram: {adc: {bits: 8}}}
evaluation:
  runs:
    - {name: analog, mode: simulate, macro: asim}
sweep:
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [4, 8]}
YAML

# ---- Hostile Slurm settings: refused before anything is written or started ----------------------
refused() {  # refused OPTION_OR_KEY ARGS...: exit 2 naming it, no sweep folder, no sbatch started
  local what=$1
  shift
  rm -f "$FAKE_LOG"/*
  expect_exit 2 sweep "$@"
  expect_output "$what"
  [[ ! -e sweeps ]] || fail "a refused sweep ($what) left a sweep folder"
  [[ ! -e $FAKE_LOG/sbatch.args ]] || fail "a refused sweep ($what) started sbatch"
  [[ ! -e X ]] || fail "a refused sweep ($what) ran a command"
}
refused "--partition: expected a partition name" --config sweep.yaml --executor slurm --partition $'debug\ntouch X'
refused "--partition: expected a partition name" --config sweep.yaml --executor slurm --partition 'debug;touch X'
refused "--time: expected a Slurm time limit" --config sweep.yaml --executor slurm --time $'01:00:00\ntouch X'
refused "--mem: expected an integer with an optional unit" --config sweep.yaml --executor slurm --mem '8G $(touch X)'
refused "--sbatch-arg: expected one sbatch option" --config sweep.yaml --executor slurm --sbatch-arg $'--account=a\ntouch X'
refused "--sbatch-arg: expected one sbatch option" --config sweep.yaml --executor slurm --sbatch-arg '--wrap=touch X'
refused "found 'debug\\ntouch X'" --config sweep.yaml --executor slurm --partition $'debug\ntouch X'

hostile_key() {  # hostile_key KEY YAML: the sweep with YAML appended refuses, naming KEY
  { cat sweep.yaml; printf '%s\n' "$2"; } > hostile.yaml
  refused "key '$1'" --config hostile.yaml --executor slurm
}
printf '  slurm: {partition: "debug\\ntouch X"}\n' > tail.yaml
hostile_key sweep.slurm.partition "$(cat tail.yaml)"
hostile_key sweep.slurm.time '  slurm: {time: "1:00 touch X"}'
hostile_key sweep.slurm.memory '  slurm: {memory: "8G\ntouch X"}'
hostile_key 'sweep.slurm.sbatch_args[0]' '  slurm: {sbatch_args: ["--qos=a\ntouch X"]}'
hostile_key sweep.slurm.bitline '  slurm: {bitline: "/bin/bitline\ntouch X"}'
sed 's|name: secure|name: "secure\\ntouch X"|' sweep.yaml > hostile.yaml
refused "key 'experiment.name': expected text without control characters" --config hostile.yaml --executor slurm

# No sbatch on PATH, or sbatch refusing the array: exit 2, and nothing written.
mkdir -p empty_bin
PATH=$WORK/empty_bin expect_exit 2 sweep --config sweep.yaml --executor slurm
expect_output "sbatch not found on PATH"
[[ ! -e sweeps ]] || fail "a sweep refused for want of sbatch left a sweep folder"
rm -f "$FAKE_LOG"/*
FAKE_SBATCH_REFUSE=1 expect_exit 2 sweep --config sweep.yaml --executor slurm
expect_output "sbatch refused the job array (exit 1), nothing was written: sbatch: error: invalid partition"
[[ ! -e sweeps ]] || fail "a sweep sbatch refused left a sweep folder"
[[ $(head -n 1 "$FAKE_LOG/sbatch.args") == --test-only && ! -e $FAKE_LOG/submitted.sh ]] || fail "sbatch was asked more than --test-only"
grep -q '"$bitline" run --config' "$FAKE_LOG/sbatch.stdin" || fail "sbatch --test-only was not given the task script"

# ---- Hostile but valid values: passed as they are, one argument each, never through a shell --------
# An experiment name and a sweep folder with quotes, $( ), spaces and #.
cat > recorder.sh <<EOF
#!/bin/bash
printf '%s\n' "\$@" >> "$FAKE_LOG/bitline.args"
EOF
chmod +x recorder.sh
cat > valid.yaml <<'YAML'
base: base.yaml
experiment: {name: 'it''s $(touch X) "q" #1', run_dir: 'sweeps/h it''s $(touch X)'}
macros:
  - {name: asim, type: analog_sram, analog_sram: {adc: {bits: 8}}}
evaluation:
  runs:
    - {name: analog, mode: simulate, macro: asim}
sweep:
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [4, 8]}
  slurm: {sbatch_args: ['--comment=a b $(touch X)']}
YAML
sed -i "s|slurm: {|slurm: {bitline: '$WORK/recorder.sh', |" valid.yaml
rm -f "$FAKE_LOG"/*
expect_exit 0 sweep --config valid.yaml --executor slurm --partition debug
expect_output "submitted Slurm job array 4242"
dir="sweeps/h it's \$(touch X)"
[[ -f "$dir/sweep.json" ]] || fail "no sweep folder at $dir"
grep -qxF -- "--job-name=bitline-it's \$(touch X) \"q\" #1" "$FAKE_LOG/sbatch.args" || { cat "$FAKE_LOG/sbatch.args" >&2; fail "the job name did not reach sbatch as one argument"; }
grep -qxF -- "--comment=a b \$(touch X)" "$FAKE_LOG/sbatch.args" || fail "the sbatch option did not reach sbatch as one argument"
grep -qxF -- "--partition=debug" "$FAKE_LOG/sbatch.args" || fail "--partition did not reach sbatch"
! grep -q "^#SBATCH" "$FAKE_LOG/submitted.sh" || fail "the script holds #SBATCH lines"
# The task script, run as Slurm would, hands bitline the point's paths as they are and runs nothing else.
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_JOB_ID=4242 SLURM_CPUS_PER_TASK=1 bash "$FAKE_LOG/submitted.sh" || true
[[ ! -e X ]] || fail "running the task script ran a command from the experiment name or the folder name"
grep -qxF "$WORK/$dir/configs/p001.yaml" "$FAKE_LOG/bitline.args" || { cat "$FAKE_LOG/bitline.args" >&2; fail "the task did not pass the point's config as one argument"; }
grep -q "^finished 0 " "$dir/logs/p001.status" || fail "the task did not record its status"
# As a task killed while it runs leaves it.
echo "running 2026-12-07T10:00:00Z slurm 4242_1 node01" > "$dir/logs/p001.status"
jobs="$dir/slurm/jobs.json"
[[ $(json_get "$jobs" '[0]["job_id"]') == 4242 ]] || fail "jobs.json does not hold the job id"
# --status asks squeue with the recorded job ids, one argument each.
expect_exit 0 sweep --status "$dir"
[[ "$(cat "$FAKE_LOG/squeue.args")" == $'--noheader\n--array\n--format=%i %T\n--jobs=4242' ]] ||
  { cat "$FAKE_LOG/squeue.args" >&2; fail "squeue's arguments"; }
# p001's task is not in the (empty) queue: interrupted, and submitted again; p000 never started: pending.
expect_output "Slurm 4242_1 is no longer queued or running"

# ---- Hostile slurm/jobs.json: refused naming the file; squeue is never started -------------------
for id in '1; touch X #' '$(touch X)' '1 2' '' '123_4' '-1' '99999999999'; do
  python3 - "$jobs" "$id" <<'PY'
import json, sys
path, job_id = sys.argv[1:]
jobs = json.load(open(path))
jobs[0]["job_id"] = job_id
json.dump(jobs, open(path, "w"))
PY
  rm -f "$FAKE_LOG/squeue.args"
  for command in --status --gather; do
    expect_exit 2 sweep "$command" "$dir"
    expect_output "$jobs: key '[0].job_id': expected"
    [[ ! -e $FAKE_LOG/squeue.args ]] || fail "squeue was started for job id '$id'"
    [[ ! -e X ]] || fail "job id '$id' ran a command"
  done
done
printf '[{"job_id": "4242", "points": [{"point": 1, "id": "../../x"}]}]' > "$jobs"
expect_exit 2 sweep --status "$dir"
expect_output "$jobs: key '[0].points[0].id': expected a string: a point id"
printf '{"job_id": "4242"}' > "$jobs"
expect_exit 2 sweep --gather "$dir"
expect_output "$jobs: key '(the document)': expected a list, found an object"
rm "$jobs"

# ---- Files of the wrong shape: exit 2 naming the file and the key (not an internal error) ----------
cp "$dir/sweep.json" sweep.json.good
python3 - "$dir/sweep.json" <<'PY'
import json, sys
sweep = json.load(open(sys.argv[1]))
del sweep["points"]
json.dump(sweep, open(sys.argv[1], "w"))
PY
for command in "sweep --status" "sweep --gather" "report"; do
  expect_exit 2 $command "$dir"
  expect_output "$dir/sweep.json: key 'points': expected a list, found no such key"
done
python3 - sweep.json.good "$dir/sweep.json" <<'PY'
import json, sys
sweep = json.load(open(sys.argv[1]))
sweep["points"][0]["id"] = "../../../etc"
json.dump(sweep, open(sys.argv[2], "w"))
PY
expect_exit 2 sweep --status "$dir"
expect_output "$dir/sweep.json: key 'points[0].id': expected a string: a point id"
python3 - sweep.json.good "$dir/sweep.json" <<'PY'
import json, sys
sweep = json.load(open(sys.argv[1]))
sweep["rows"] = [{"point": 0, "label": "x", "evaluation": "analog", "accuracy_percent": "high"}]
sweep["points"][0]["state"] = "done"
json.dump(sweep, open(sys.argv[2], "w"))
PY
expect_exit 2 report "$dir"
expect_output "$dir/sweep.json: key 'rows[0].accuracy_percent': expected a finite number in [0, 100] or null, found the string \"high\""

# A finished point whose results.json has the wrong shape: the gather names it.
cp sweep.json.good "$dir/sweep.json"
mkdir -p "$dir/points/p000"
cp "$dir/configs/p000.yaml" "$dir/points/p000/config.yaml"
echo '{"evaluations": [{"name": "analog", "accuracy": "0.9"}]}' > "$dir/points/p000/results.json"
expect_exit 2 sweep --gather "$dir"
expect_output "$dir/points/p000/results.json: key 'evaluations[0].accuracy': expected a finite number in [0, 1], found the string \"0.9\""
echo '{"evaluations": {"name": "analog"}}' > "$dir/points/p000/results.json"
expect_exit 2 sweep --status "$dir"
expect_output "$dir/points/p000/results.json: key 'evaluations': expected a list, found an object"

# A run folder's results.json of the wrong shape: the report names it.
mkdir -p run
echo '{"evaluations": [{"name": "fp32", "layers": [{"layer": 3, "csnr_db": null}]}]}' > run/results.json
expect_exit 2 report run
expect_output "run/results.json: key 'evaluations[0].layers[0].layer': expected a string, found the number 3"
echo '{"evaluations": [{"name": "a", "cost": {"energy_per_inference_pj": -1}}]}' > run/results.json
expect_exit 2 report run
expect_output "run/results.json: key 'evaluations[0].cost.energy_per_inference_pj': expected a finite number >= 0, found the number -1"
[[ ! -e X ]] || fail "something ran a command"
echo "PASS test_sweep_security"
