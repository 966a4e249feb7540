#!/usr/bin/env bash
# Configures (if needed), builds and runs the test suite. Used by the README and .ci/run.
#
#   bash scripts/test.sh                      Release build in build/, every test
#   bash scripts/test.sh --sanitize           AddressSanitizer + UndefinedBehaviorSanitizer build in
#                                             build-sanitize/, every test but those labelled slow
#   bash scripts/test.sh --sanitize --quick   the same build, only the core and io tests (what CI runs)
#
# A sanitizer report fails the test that triggered it (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=false quick=false
for argument in "$@"; do
  case $argument in
    --sanitize) sanitize=true ;;
    --quick) quick=true ;;
    *) echo "usage: bash scripts/test.sh [--sanitize [--quick]]" >&2; exit 2 ;;
  esac
done
if ! $sanitize; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build
  ctest --test-dir build --output-on-failure -j2
  exit
fi

build=build-sanitize
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBITLINE_SANITIZE=ON
# Leaks are reported at exit; UBSan stops at its first report like ASan does.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if $quick; then
  cmake --build "$build" --target core_tests io_tests replay_fuzz_npy replay_fuzz_idx replay_fuzz_cifar10 \
    replay_fuzz_csv_table replay_fuzz_checked_file
  ctest --test-dir "$build" --output-on-failure -j2 -L 'unit-(core|io)'
else
  cmake --build "$build"
  ctest --test-dir "$build" --output-on-failure -j2 -LE slow
fi
