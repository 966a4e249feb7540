#!/usr/bin/env bash
# The mutation run (docs/testing.md): proves that the unit suite fails when the code it guards is
# wrong. Each mutant in tests/mutants/ is a small patch that puts one bug into src/ (a flipped sign,
# an off-by-one clamp, a dropped term in a count, a wrong rounding mode, a swapped operand, a wrong
# encoding offset). For each, on a copy of the tree, this applies the patch, rebuilds incrementally,
# runs the unit suite and reverts the patch. A mutant is killed when a test fails (or the build
# breaks); it survives when the whole unit suite passes.
#
#   bash scripts/mutate.sh                      every mutant in tests/mutants/
#   bash scripts/mutate.sh tests/mutants/03-*   the mutants named
#
# The copy and its build live in build-mutate/ (kept between runs, so a second run rebuilds only
# what changed). The unit suite runs in the order core, io, app, nn and stops at the first test
# binary that fails: most mutants are in core, whose tests build without LibTorch, and the LibTorch
# test binaries are built only when a mutant survives the ones before. Prints one line per mutant
# (killed by which test, or SURVIVED) and a summary; exits 0 only when every mutant was killed, 2 on a
# usage error or a mutant that no longer applies to the source.
set -euo pipefail
mutants=()
for mutant in "$@"; do
  [[ -f $mutant ]] || { echo "mutate.sh: no such mutant: $mutant" >&2; exit 2; }
  mutants+=("$(realpath "$mutant")")
done
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build-mutate
tree=$work/tree
build=$work/build
if [[ ${#mutants[@]} -eq 0 ]]; then mutants=("$root"/tests/mutants/*.patch); fi

# The copy: the files git sees (committed or not, ignored ones left out). Only files that differ are
# copied, so unchanged ones keep their times and the copy's build stays incremental between runs.
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | sort -z > "$work/files"
while IFS= read -r -d '' file; do
  [[ -f $file ]] || continue  # deleted, not yet committed
  if ! cmp -s "$file" "$tree/$file"; then
    mkdir -p "$(dirname "$tree/$file")"
    cp -p "$file" "$tree/$file"
  fi
done < "$work/files"
# Files removed from the source leave the copy too (a stale test file would still be globbed).
(cd "$tree" && find . -path ./web/node_modules -prune -o -type f -printf '%P\0' | sort -z) |
  comm -z -23 - "$work/files" | while IFS= read -r -d '' stale; do rm -f "$tree/$stale"; done
# The report's JavaScript libraries (npm ci in web/, ignored by git) are read at configure time.
[[ -e $tree/web/node_modules ]] || ln -s "$root/web/node_modules" "$tree/web/node_modules"
cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" ||
  { cat "$work/configure.log" >&2; exit 1; }

# The unit test binaries, in the order they run; a mutant stops at the first one that fails.
test_binaries=(core_tests io_tests app_tests nn_tests)

# Builds and runs one test binary; returns its status. The log of a failure is in $2.
run_binary() {
  local binary=$1 log=$2
  cmake --build "$build" --target "$binary" > "$log" 2>&1 || return 3
  "$build/tests/$binary" --gtest_brief=1 > "$log" 2>&1
}

# Each binary must pass on the unmutated copy before it may kill a mutant, or a failure of its own
# would look like a kill. Checked the first time a mutant reaches it (the LibTorch binaries are built
# only then), with the mutant ($1) taken out meanwhile.
declare -A baseline_passed
check_baseline() {
  local binary=$1 mutant=$2
  [[ -n ${baseline_passed[$binary]:-} ]] && return
  patch -p1 --fuzz=0 -R -d "$tree" --quiet < "$mutant"
  echo "baseline: $binary on the unmutated copy" >&2
  if ! run_binary "$binary" "$work/baseline-$binary.log"; then
    echo "mutate.sh: $binary fails without any mutant; see $work/baseline-$binary.log" >&2
    exit 1
  fi
  baseline_passed[$binary]=1
  patch -p1 --fuzz=0 -d "$tree" --quiet < "$mutant"
}

# Runs the unit suite on the mutated copy; sets result to "killed by <test>" or "survived".
run_suite() {
  local mutant=$1 log=$2 binary status failed
  for binary in "${test_binaries[@]}"; do
    check_baseline "$binary" "$mutant"
    status=0
    run_binary "$binary" "$log" || status=$?
    if [[ $status -eq 3 ]]; then
      result="killed by the build of $binary"
      return
    elif [[ $status -ne 0 ]]; then
      failed=$(sed -n 's/^\[  FAILED  \] \([A-Za-z0-9_/]*\.[A-Za-z0-9_/]*\).*/\1/p' "$log" | sort -u | head -3 | paste -sd, -)
      result="killed by $binary: ${failed:-a crash (see $log)}"
      return
    fi
  done
  result=survived
}

killed=0 survived=0
for mutant in "${mutants[@]}"; do
  name=$(basename "$mutant" .patch)
  if ! patch -p1 --fuzz=0 -d "$tree" --dry-run --quiet < "$mutant" > /dev/null; then
    echo "mutate.sh: $mutant no longer applies to the source: update it" >&2
    exit 2
  fi
  patch -p1 --fuzz=0 -d "$tree" --quiet < "$mutant"
  start=$SECONDS
  run_suite "$mutant" "$work/$name.log"
  patch -p1 --fuzz=0 -R -d "$tree" --quiet < "$mutant"
  if [[ $result == survived ]]; then
    survived=$((survived + 1))
    printf '%-44s SURVIVED (%ds): every unit test passed with this bug (%s)\n' "$name" $((SECONDS - start)) "$mutant"
  else
    killed=$((killed + 1))
    printf '%-44s %s (%ds)\n' "$name" "$result" $((SECONDS - start))
  fi
done
# Leave the copy's build matching the unmutated source.
cmake --build "$build" --target core_tests > /dev/null 2>&1 || true
echo "mutants: ${#mutants[@]}, killed: $killed, survived: $survived, in ${SECONDS} s"
[[ $survived -eq 0 ]]
