#!/usr/bin/env bash
# Measures the sweep driver (docs/performance.md, "Sweeps"): its overhead per point beyond the
# points' own runs, --cost-only on a 100-point resnet20 sweep, and --jobs 2 against --jobs 1 on an
# evaluation-only sweep of the default experiment (8 points: ADC bits x noise, the checkpoints
# trained beforehand, untimed). Run on an idle machine from the repository root after building:
#   bash scripts/sweep_benchmark.sh [BITLINE]        (default build/bin/bitline)
set -euo pipefail
cd "$(dirname "$0")/.."
bitline=$(realpath "${1:-build/bin/bitline}")
work=$(mktemp -d "${TMPDIR:-/tmp}/sweep-benchmark.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo=$(pwd)

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; bitline $("$bitline" --version)"

# 1. --cost-only: 100 points of resnet20 (ADC bits 4..8 x rows 16..244), every point validated and priced.
cat > "$work/cost.yaml" <<YAML
base: $repo/configs/default.yaml
experiment: {name: resnet20_cost, run_dir: $work/cost}
model: {name: resnet20}
sweep:
  axes:
    - {key: 'macros[asim_sram].analog_sram.adc.bits', name: adc_bits, range: {start: 4, stop: 8, step: 1}}
    - {key: 'macros[asim_sram].analog_sram.rows_per_conversion', name: rows, range: {start: 16, stop: 244, step: 12}}
YAML
for run in 1 2 3; do
  start=$(now)
  "$bitline" sweep --config "$work/cost.yaml" --cost-only > "$work/cost.log"
  echo "cost-only, 100 resnet20 points, run $run: $(elapsed "$start" "$(now)") s"
done

# 2. An evaluation-only sweep: the default experiment's trained checkpoints, 8 hardware points.
cat > "$work/base.yaml" <<YAML
base: $repo/configs/default.yaml
experiment: {name: eval_sweep, run_dir: $work/unused, checkpoint_dir: $work/checkpoints}
YAML
"$bitline" train --config "$work/base.yaml" --no-progress > "$work/train.log"
sweep_config() {  # sweep_config NAME
  cat > "$work/$1.yaml" <<YAML
base: base.yaml
experiment: {run_dir: $work/$1}
sweep:
  axes:
    - {key: 'macros[asim_sram].analog_sram.adc.bits', name: adc_bits, values: [5, 6, 7, 8]}
    - {key: 'macros[asim_sram].analog_sram.noise.additive_sigma_lsb', name: noise_lsb, values: [0.25, 0.5]}
YAML
}
timed_sweep() {  # timed_sweep NAME ARGS...: prints the wall time
  local name=$1; shift
  sweep_config "$name"
  local start; start=$(now)
  "$bitline" sweep --config "$work/$name.yaml" "$@" > "$work/$name.log"
  elapsed "$start" "$(now)"
}
jobs1=$(timed_sweep jobs1 --jobs 1)
jobs2=$(timed_sweep jobs2 --jobs 2)
jobs1_t1=$(timed_sweep jobs1_t1 --jobs 1 --threads 1)
echo "evaluation-only sweep, 8 points: --jobs 1 (2 threads per point) ${jobs1} s, --jobs 2 (1 thread each) ${jobs2} s: $(python3 -c "print(f'{$jobs2 / $jobs1:.2f}')")x"
echo "  at 1 thread per point: --jobs 1 ${jobs1_t1} s, --jobs 2 ${jobs2} s: $(python3 -c "print(f'{$jobs2 / $jobs1_t1:.2f}')")x"

# 3. The driver's overhead: the --jobs 1 sweep against its 8 points run one after another by hand
# (the same `bitline run` on each point's config, 2 threads).
start=$(now)
for config in "$work"/jobs1/configs/p*.yaml; do
  "$bitline" run --config "$config" --no-progress --run-dir "$work/direct" > /dev/null
done
direct=$(elapsed "$start" "$(now)")
echo "the same 8 points run directly: ${direct} s; driver overhead $(python3 -c "print(f'{($jobs1 - $direct) / 8:.3f}')") s per point"
