#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan, build-fuzz/) and runs each for SECONDS
# (default 60), printing the executions and findings per harness. docs/reliability.md.
#
# Usage: bash scripts/fuzz.sh [SECONDS] [HARNESS ...]     (from anywhere; default: every harness)
#
# A harness fails on a crash, a sanitizer report, a leak, an input that takes over 1 s, an
# allocation over 256 MiB or a resident size over 2 GiB. Its working corpus persists in
# build-fuzz/corpus/<harness>; a finding is saved in build-fuzz/findings/<harness>/: copy it into
# fuzz/regressions/<harness>/ with the fix, so that the unit tests replay it. Exits 1 on findings.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ $# -gt 0 ]] && shift
build=build-fuzz

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DBITLINE_FUZZ=ON > /dev/null
cmake --build "$build" --target bitline_fuzzers

harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for binary in "$build"/fuzz/fuzz_*; do harnesses+=("$(basename "$binary")"); done
fi

# Dictionaries: the config schemas' keys and choices (generated, so never stale), and the formats'.
"$build/fuzz/yaml_dictionary" > "$build/yaml.dict"
dictionary_of() {
  case $1 in
    fuzz_experiment_config | fuzz_sweep_config | fuzz_layer_config | fuzz_adc_config) echo "$build/yaml.dict" ;;
    fuzz_npy) echo fuzz/dictionaries/npy.dict ;;
    fuzz_idx) echo fuzz/dictionaries/idx.dict ;;
    fuzz_csv_table | fuzz_adc_table | fuzz_cco_table) echo fuzz/dictionaries/csv.dict ;;
    fuzz_checked_file | fuzz_checkpoint) echo fuzz/dictionaries/checkpoint.dict ;;
    fuzz_pairing_file) echo fuzz/dictionaries/pairing.dict ;;
    fuzz_run_results | fuzz_sweep_state | fuzz_slurm_jobs) echo fuzz/dictionaries/sweep_files.dict ;;
  esac
}

# Seeds beyond fuzz/seeds: the repository's own configs and tables, and checkpoints of a model.
extra_seeds="$build/extra_seeds"
rm -rf "$extra_seeds"
mkdir -p "$extra_seeds"/{fuzz_experiment_config,fuzz_adc_config,fuzz_csv_table,fuzz_checkpoint}
cp configs/default.yaml configs/hardware/*.yaml "$extra_seeds/fuzz_experiment_config/"
cp configs/adc/*.yaml "$extra_seeds/fuzz_adc_config/"
cp configs/adc/*.csv "$extra_seeds/fuzz_csv_table/"
BITLINE_FUZZ_WRITE_SEEDS="$extra_seeds/fuzz_checkpoint" "$build/fuzz/fuzz_checkpoint" > /dev/null 2>&1

printf '%-24s %12s %10s %8s %9s  %s\n' harness executions "exec/s" corpus "peak MB" findings
status=0
for harness in "${harnesses[@]}"; do
  corpus="$build/corpus/$harness" findings="$build/findings/$harness" log="$build/logs/$harness.log"
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  dict=$(dictionary_of "$harness")
  set +e
  # Leak checks count what an input allocates and does not free; LibTorch keeps caches alive
  # across inputs, so its harness checks leaks only at exit.
  leaks=1
  [[ $harness == fuzz_checkpoint ]] && leaks=0
  "$build/fuzz/$harness" -max_total_time="$seconds" -timeout=1 -malloc_limit_mb=256 -rss_limit_mb=2048 \
    -detect_leaks=$leaks -print_final_stats=1 -artifact_prefix="$findings/" ${dict:+-dict="$dict"} \
    "$corpus" $(for dir in fuzz/seeds fuzz/regressions "$extra_seeds"; do [[ -d $dir/$harness ]] && echo "$dir/$harness"; done) \
    > "$log" 2>&1
  code=$?
  set -e
  stat() { grep -o "stat::$1: *[0-9]*" "$log" | grep -o "[0-9]*$" | tail -1; }
  found=$(find "$findings" -type f | wc -l)
  if [[ $code -ne 0 || $found -gt 0 ]]; then status=1; fi
  printf '%-24s %12s %10s %8s %9s  %s\n' "$harness" "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
    "$(find "$corpus" -type f | wc -l)" "$(stat peak_rss_mb)" \
    "$([[ $found -gt 0 || $code -ne 0 ]] && echo "$found in $findings (exit $code, log $log)" || echo none)"
done
exit $status
