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
grep -q "^#SBATCH --cpus-per-task=1" sweeps/s/slurm/array.sh || fail "the array script lacks the resources"
grep -q "^#SBATCH --partition=debug" sweeps/s/slurm/array.sh || fail "the array script lacks the partition"

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
echo "PASS test_sweep_slurm"
