# bitline sweep --executor slurm on a real Slurm: a single-node cluster on localhost
# (scripts/local_slurm.sh: Debian's slurmctld, slurmd and munge with a generated slurm.conf) runs the
# sweep as a job array; --status follows it; the tasks gather the table as they finish. Needs root
# (the daemons); exits 77 (skipped) without it or without the packages (scripts/install-deps.sh).
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then echo "SKIP: the local Slurm needs root"; exit 77; fi
for binary in slurmctld slurmd sbatch munged; do
  command -v "$binary" > /dev/null || { echo "SKIP: $binary missing (scripts/install-deps.sh installs Slurm)"; exit 77; }
done

# Ports of their own, so that a Slurm already on this machine is left alone.
export BITLINE_SLURMCTLD_PORT=16817 BITLINE_SLURMD_PORT=16818
slurm_dir=$WORK/slurm
trap 'bash "$SOURCE_DIR/scripts/local_slurm.sh" stop "$slurm_dir" > /dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
eval "$(bash "$SOURCE_DIR/scripts/local_slurm.sh" start "$slurm_dir")"
[[ -n ${SLURM_CONF:-} ]] || fail "local_slurm.sh printed no SLURM_CONF"

small_config base.yaml runs/unused
cat > sweep.yaml <<'YAML'
base: base.yaml
experiment: {name: slurm_sweep, run_dir: sweeps/s}
macros:
  - {name: asim, type: analog_sram, analog_sram: {adc: {bits: 8}}}
evaluation:
  runs:
    - {name: w8a8, mode: quantized}
    - {name: analog, mode: simulate, macro: asim}
sweep:
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [4, 6, 8]}
YAML

expect_exit 0 sweep --config sweep.yaml --executor slurm --cpus-per-task 1 --time 00:10:00 --partition debug
expect_output "submitted Slurm job array"
expect_output "--array=0-2"
# sbatch took the resources as arguments (no #SBATCH lines: nothing in the script is parsed for
# options); the script's header records the command.
grep -q "^#   sbatch .*'--cpus-per-task=1'.*'--partition=debug'" sweeps/s/slurm/array.sh ||
  fail "the array script's header lacks the resources"
! grep -q "^#SBATCH" sweeps/s/slurm/array.sh || fail "the array script has #SBATCH lines"
job=$(python3 -c "import json; print(json.load(open('sweeps/s/slurm/jobs.json'))[0]['job_id'])")
scontrol show job "$job" | grep -q "Partition=debug" || fail "job $job did not get the partition"

# Follow it with --status until every point is done (the points train once: the first task holds
# the checkpoint's lock, the others wait and reuse it).
for _ in $(seq 1 300); do
  "$BITLINE" sweep --status sweeps/s > status.txt 2>&1 || { cat status.txt >&2; fail "--status failed"; }
  grep -q "3 points: 3 done" status.txt && break
  grep -q "failed" status.txt && { cat status.txt sweeps/s/logs/*.log >&2; fail "a point failed"; }
  sleep 1
done
grep -q "3 points: 3 done" status.txt || { cat status.txt >&2; squeue >&2 || true; fail "the sweep did not finish in 300 s"; }
[[ $(ls sweeps/s/checkpoints/*.ckpt | wc -l) -eq 2 ]] || fail "expected one float and one QAT checkpoint: $(ls sweeps/s/checkpoints)"
ls sweeps/s/logs/slurm-*_0.out > /dev/null || fail "no Slurm output file of task 0"

# The table: gathered by the tasks themselves as they finished (the last one saw every point).
"$BITLINE" sweep --gather sweeps/s > /dev/null
python3 - sweeps/s/sweep.json <<'PY' || fail "the gathered table"
import json, sys
sweep = json.load(open(sys.argv[1]))
analog = sorted((r["adc_bits"], r["accuracy_percent"]) for r in sweep["rows"] if r["evaluation"] == "analog")
assert [bits for bits, _ in analog] == [4, 6, 8], analog
assert len(sweep["rows"]) == 6, len(sweep["rows"])
assert all(p["state"] == "done" for p in sweep["points"]), sweep["points"]
PY

# A second submission finds nothing left to run.
expect_exit 0 sweep --config sweep.yaml --executor slurm
expect_output "nothing to submit"

# A task cancelled while it runs is submitted again by the same command (issue 25). The nodes run a
# wrapper of bitline (sweep.slurm.bitline) that holds point p001 while the file `hold` exists.
cat > held_bitline.sh <<EOF
#!/bin/bash
if [[ "\$*" == *p001.yaml* ]]; then while [[ -e $WORK/hold ]]; do sleep 0.2; done; fi
exec "$BITLINE" "\$@"
EOF
chmod +x held_bitline.sh
sed -e "s|run_dir: sweeps/s|run_dir: sweeps/c|" -e "s|^sweep:|sweep:\n  slurm: {bitline: $WORK/held_bitline.sh}|" sweep.yaml > cancel.yaml
touch hold
expect_exit 0 sweep --config cancel.yaml --executor slurm --cpus-per-task 1
for _ in $(seq 1 300); do
  grep -qs "^running .* slurm " sweeps/c/logs/p001.status && break
  sleep 0.2
done
task=$(awk '{print $4}' sweeps/c/logs/p001.status)
[[ $task == *_1 ]] || fail "p001 did not start under Slurm: $(cat sweeps/c/logs/p001.status 2>&1)"
scancel "$task"
for _ in $(seq 1 300); do
  [[ -z $(squeue -h -o %i -j "${task%_*}" 2>/dev/null) ]] && break
  sleep 0.2
done
[[ -z $(squeue -h -o %i -j "${task%_*}" 2>/dev/null) ]] || fail "the job array of $task did not leave the queue"
"$BITLINE" sweep --status sweeps/c > status.txt 2>&1 || { cat status.txt >&2; fail "--status failed"; }
grep -q "^p001 *interrupted .*Slurm $task is no longer queued or running" status.txt ||
  { cat status.txt >&2; fail "the cancelled point is not shown as interrupted"; }
grep -q "^running" sweeps/c/logs/p001.status || fail "the cancelled task's status file changed"
rm hold
expect_exit 0 sweep --config cancel.yaml --executor slurm --cpus-per-task 1
expect_output "(1 points, --array=1)"
for _ in $(seq 1 300); do
  "$BITLINE" sweep --status sweeps/c > status.txt 2>&1 || { cat status.txt >&2; fail "--status failed"; }
  grep -q "3 points: 3 done" status.txt && break
  sleep 1
done
grep -q "3 points: 3 done" status.txt || { cat status.txt >&2; fail "the resubmitted point did not finish"; }
python3 - sweeps/c/sweep.json <<'PY' || fail "the table after the resubmission"
import json, sys
sweep = json.load(open(sys.argv[1]))
assert len(sweep["rows"]) == 6, len(sweep["rows"])
assert sorted(r["adc_bits"] for r in sweep["rows"] if r["evaluation"] == "analog") == [4, 6, 8]
PY
jobs=$(python3 -c "import json; print(len(json.load(open('sweeps/c/slurm/jobs.json'))))")
[[ $jobs -eq 2 ]] || fail "expected two job arrays in jobs.json, found $jobs"
echo "PASS test_sweep_slurm"
