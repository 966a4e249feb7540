# bitline sweep on this machine (docs/sweeps.md): points that train once, --jobs 2, a killed sweep
# that resumes to the same table, --status, --cost-only, bad sweep sections (exit 2 naming the point
# and key, nothing written), and the report of the sweep and of one point's run opened in headless
# Chromium (every figure drawn with its marks, no console error; screenshots kept next to the binary).
source "$(dirname "$0")/lib.sh"

small_config base.yaml runs/unused
cat > sweep.yaml <<'YAML'
base: base.yaml
experiment: {name: adc_sweep, run_dir: sweeps/a}
macros:
  - {name: asim, type: analog_sram, analog_sram: {adc: {bits: 8}, noise: {additive_sigma_lsb: 0.5}}}
evaluation:
  runs:
    - {name: fp32, mode: float}
    - {name: w8a8, mode: quantized}
    - {name: analog, mode: simulate, macro: asim}
sweep:
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [4, 8]}
    - {key: 'macros[asim].analog_sram.rows_per_conversion', name: rows, range: {start: 64, stop: 128, step: 64}}
YAML

# --dry-run lists the points and writes nothing.
expect_exit 0 sweep --config sweep.yaml --dry-run
expect_output "p003  adc_bits=8, rows=128"
[[ ! -e sweeps ]] || fail "--dry-run wrote $(ls sweeps)"

# Two points at a time; the hardware axes share one trained float and one QAT checkpoint.
expect_exit 0 sweep --config sweep.yaml --jobs 2
expect_output "4/4 points done, 0 failed"
[[ $(ls sweeps/a/checkpoints/*.ckpt | wc -l) -eq 2 ]] || fail "expected 2 checkpoints, found: $(ls sweeps/a/checkpoints)"
[[ $(tail -n +2 sweeps/a/sweep.csv | wc -l) -eq 12 ]] || fail "expected 12 rows (4 points x 3 evaluations)"
head -1 sweeps/a/sweep.csv | grep -q "^point,label,adc_bits,rows,evaluation,mode,macro,precision,accuracy_percent" ||
  fail "sweep.csv header: $(head -1 sweeps/a/sweep.csv)"
for point in p000 p001 p002 p003; do [[ -f sweeps/a/points/$point/results.json ]] || fail "no results of $point"; done
# The points' own configs set the axis values.
grep -A3 "adc:" sweeps/a/points/p002/config.yaml | grep -q "bits: 8" || fail "p002 does not run 8-bit ADCs"
python3 - sweeps/a/sweep.json <<'PY' || fail "sweep.json rows"
import json, sys
sweep = json.load(open(sys.argv[1]))
assert [a["name"] for a in sweep["axes"]] == ["adc_bits", "rows"], sweep["axes"]
assert all(p["state"] == "done" for p in sweep["points"]), sweep["points"]
analog = {(r["adc_bits"], r["rows"]): r for r in sweep["rows"] if r["evaluation"] == "analog"}
assert len(analog) == 4
for row in analog.values():
    assert 0 < row["accuracy_percent"] <= 100 and row["energy_nj_per_image"] > 0 and row["tops_per_w"] > 0, row
# fewer ADC bits cost less energy per image
assert analog[(4, 64)]["energy_nj_per_image"] < analog[(8, 64)]["energy_nj_per_image"]
PY

# Run again: everything is done, nothing reruns.
expect_exit 0 sweep --config sweep.yaml
expect_output "(4 already done)"

# A sweep killed in the middle resumes: finished points are kept, the interrupted one reruns, and
# the table equals the uninterrupted sweep's. It reuses the first sweep's checkpoints.
sed -e 's|run_dir: sweeps/a}|run_dir: sweeps/b, checkpoint_dir: sweeps/a/checkpoints}|' sweep.yaml > resumed.yaml
"$BITLINE" sweep --config resumed.yaml --jobs 1 > killed.txt 2>&1 &
driver=$!
for _ in $(seq 1 600); do grep -q "p000 done" killed.txt && break; sleep 0.1; done
grep -q "p000 done" killed.txt || { cat killed.txt >&2; fail "the first point never finished"; }
expect_exit 2 sweep --config resumed.yaml
expect_output "another \`bitline sweep\` is running"
kill -9 "$driver"
wait "$driver" 2>/dev/null || true
sleep 0.5
if pgrep -f "sweeps/b/configs/p0" | grep -q .; then fail "a point kept running after its driver was killed"; fi
expect_exit 0 sweep --status sweeps/b
expect_output "p000     done"
python3 -c "import json; s=json.load(open('sweeps/b/sweep.json')); assert s['points'][3]['state'] != 'done'" ||
  fail "the killed sweep finished its last point"
expect_exit 0 sweep --config resumed.yaml --jobs 1
expect_output "already done)"
expect_output "4/4 points done"
# Equal but for the CSNR's last digits: its sums run on 2 threads here, on 1 in each of the --jobs 2 points.
python3 - sweeps/a/sweep.csv sweeps/b/sweep.csv <<'PY' || fail "the resumed sweep's table differs from the uninterrupted one's"
import csv, math, sys
first, resumed = (list(csv.reader(open(p))) for p in sys.argv[1:])
assert len(first) == len(resumed) == 13
for row_a, row_b in zip(first, resumed):
    for a, b in zip(row_a, row_b):
        try:
            assert math.isclose(float(a), float(b), rel_tol=1e-6), (row_a, row_b)
        except ValueError:
            assert a == b, (row_a, row_b)
PY

# --cost-only prices every point without training: energy, latency, TOPS/W, area; no accuracy.
sed -e 's|run_dir: sweeps/a}|run_dir: sweeps/c}|' sweep.yaml > cost.yaml
expect_exit 0 sweep --config cost.yaml --cost-only
expect_output "priced 4 points"
[[ ! -e sweeps/c/checkpoints ]] || fail "--cost-only trained"
python3 - sweeps/c/sweep.json sweeps/a/sweep.json <<'PY' || fail "cost-only rows"
import json, sys
cost, full = (json.load(open(p)) for p in sys.argv[1:])
full_rows = {r["point"]: r for r in full["rows"] if r["evaluation"] == "analog"}
assert len(cost["rows"]) == 4
for row in cost["rows"]:
    assert row["accuracy_percent"] is None
    # the same cost model as the evaluated points
    assert abs(row["energy_nj_per_image"] / full_rows[row["point"]]["energy_nj_per_image"] - 1) < 1e-9, row
PY

expect_exit 0 sweep --status sweeps/c
expect_output "4 points: 4 priced"
python3 -c "import json; assert len(json.load(open('sweeps/c/sweep.json'))['rows']) == 4" || fail "--status dropped the priced rows"

# Bad sweep sections: exit 2 naming the point and the key; nothing is written.
bad_sweep() {  # bad_sweep SWEEP_SECTION EXPECTED_TEXT...
  local section=$1; shift
  printf 'base: base.yaml\nexperiment: {name: bad, run_dir: sweeps/bad}\nmacros: [{name: asim, type: analog_sram}]\n%s\n' \
    "$section" > bad.yaml
  expect_exit 2 sweep --config bad.yaml
  for text in "$@"; do expect_output "$text"; done
  [[ ! -e sweeps/bad ]] || fail "a refused sweep wrote sweeps/bad"
}
bad_sweep "sweep: {axes: [{key: 'macros[asim].analog_sram.adc.bits', name: bits, values: [6, 40]}]}" \
  "sweep point p001 (bits=40)" "macros[0].analog_sram.adc.bits"
bad_sweep "sweep: {axes: [{key: 'macros[nope].analog_sram.adc.bits', values: [6]}]}" "sweep point p000" "no entry named 'nope'"
bad_sweep "sweep: {axes: [{key: quantization.weight_bitz, values: [6]}]}" "sweep point p000" "weight_bitz"
bad_sweep "sweep: {combine: zip, axes: [{key: experiment.seed, values: [1, 2]}, {key: quantization.weight_bits, values: [8]}]}" \
  "sweep.axes" "one length"
bad_sweep "sweep: {axes: [{key: experiment.seed, range: {start: 1, stop: 4, step: 0}}]}" "sweep.axes[0]" "step"
bad_sweep "sweep: {axes: [{key: 'macros[0].analog_sram.rows_per_conversion', values: [0]}]}" \
  "sweep point p000 (rows_per_conversion=0)" "rows_per_conversion"
bad_sweep "sweep: [1, 2]" "key 'sweep'"
expect_exit 2 sweep --status sweeps/nothing
expect_output "expected a sweep directory"

# The reports open in headless Chromium with every figure drawn (tests/browser/check_report.mjs).
artifacts=$(cd "$(dirname "$BITLINE")/.." && pwd)/test-artifacts
mkdir -p "$artifacts"
check_report() {  # check_report DIR NAME [EXPECTED_MARKS_JSON] -> checker's JSON in NAME.json
  expect_exit 0 report "$1"
  expect_output "works offline"
  node "$SOURCE_DIR/tests/browser/check_report.mjs" "$1/report.html" "$artifacts/$2.png" ${3:+"$3"} > "$2.json" ||
    { cat "$2.json" >&2; fail "the report of $1 failed in Chromium"; }
}
# The marks each figure must draw, counted from sweep.csv (read here, not from the report's data): one
# point per row with an accuracy on the accuracy plots, one per simulate row with a cost on the Pareto plots.
python3 - sweeps/a/sweep.csv > expected_marks.json <<'PY' || fail "counting sweep.csv's rows"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
with_accuracy = sum(1 for r in rows if r["accuracy_percent"] != "")
with_cost = sum(1 for r in rows if r["mode"] == "simulate" and r["energy_nj_per_image"] != "")
assert (with_accuracy, with_cost) == (12, 4), (with_accuracy, with_cost)  # 4 points x 3 evaluations, 1 on the macro
print(json.dumps({"fig-accuracy-vs-adc-bits": with_accuracy, "fig-accuracy-vs-rows": with_accuracy,
                  "fig-pareto-energy": with_cost, "fig-pareto-tops-per-w": with_cost, "fig-pareto-area": with_cost}))
PY
check_report sweeps/a sweep_report expected_marks.json
python3 - sweep_report.json <<'PY' || { cat sweep_report.json >&2; fail "sweep report figures"; }
import json, sys
figures = {f["id"]: f for f in json.load(open(sys.argv[1]))["figures"]}
for figure in ["fig-layer-csnr", "fig-energy-by-component", "fig-area-by-component", "fig-energy-by-layer",
               "fig-training-loss", "fig-training-accuracy", "fig-adc-transfer-asim", "fig-adc-linearity-asim"]:
    assert figures[figure]["ok"] and figures[figure]["rendered"] > 0, figure
PY
check_report sweeps/a/points/p000 run_report
python3 -c "import json,sys; f={x['id'] for x in json.load(open('run_report.json'))['figures']}; assert 'fig-pareto-energy' in f and 'fig-adc-transfer-asim' in f, f" ||
  fail "run report figures"
expect_exit 2 report sweeps/a/points
expect_output "found neither"
echo "PASS test_sweep"
