# `bitline adc` characterizes a converter as documented (docs/adc.md), and ADC tables and configs
# with errors give exit code 2 and a message naming the file or key.
source "$(dirname "$0")/lib.sh" "$@"

# The shipped example: files written, figures consistent with the INL table it reads.
cp -r "$SOURCE_DIR/configs" .

# expect_bad_table NAME FIELD CSV MESSAGE: a 2-bit table converter whose FIELD (thresholds_csv,
# inl_csv or dnl_csv) is NAME.csv with the text CSV exits 2 with MESSAGE.
expect_bad_table() {
  printf '%b' "$3" > "$1.csv"
  printf 'adc: {bits: 2, model: table, table: {%s: %s.csv}}\n' "$2" "$1" > "$1.yaml"
  expect_exit 2 adc --config "$1.yaml"
  expect_output "$4"
}
expect_exit 0 adc --config configs/adc/inl_table_6bit.yaml
expect_output "INL max |0.800| LSB"
for f in transfer.csv linearity.csv summary.json; do [[ -s runs/adc/inl_table_6bit/$f ]] || fail "missing $f"; done
[[ $(wc -l < runs/adc/inl_table_6bit/linearity.csv) -eq 64 ]] || fail "linearity.csv: expected a header and 63 codes"
python3 - <<'PY' || fail "linearity.csv does not reproduce the INL table"
import csv
given = {int(r["code"]): float(r["inl_lsb"]) for r in csv.DictReader(l for l in open("configs/adc/example_inl_6bit.csv") if not l.startswith("#"))}
found = {int(r["code"]): float(r["inl_lsb"]) for r in csv.DictReader(open("runs/adc/inl_table_6bit/linearity.csv"))}
assert all(abs(given[k] - found[k]) < 1e-6 for k in given), "INL differs"
PY

# A per-column table: the column chosen is characterized, and wrong columns are errors.
expect_exit 0 adc --config configs/adc/per_column_inl_6bit.yaml
expect_output "column 2 of 8"
[[ $(json_get runs/adc/per_column_inl_6bit/summary.json '["table_columns"]') == 8 ]] || fail "per-column table: expected 8 columns"
python3 - <<'PY' || fail "linearity.csv does not reproduce column 2 of the table"
import csv
given = {int(r["code"]): float(r["inl_lsb"]) for r in csv.DictReader(l for l in open("configs/adc/example_inl_6bit_8columns.csv") if not l.startswith("#")) if r["column"] == "2"}
found = {int(r["code"]): float(r["inl_lsb"]) for r in csv.DictReader(open("runs/adc/per_column_inl_6bit/linearity.csv"))}
assert len(given) == 63 and all(abs(given[k] - found[k]) < 1e-6 for k in given), "INL differs"
PY
printf 'adc: {bits: 6, model: table, table: {inl_csv: configs/adc/example_inl_6bit_8columns.csv}}\ncharacterize: {column: 8}\n' > column8.yaml
expect_exit 2 adc --config column8.yaml
expect_output "key 'characterize.column': expected a column of the per-column table, 0..7, found 8"
expect_bad_table columns_short thresholds_csv 'column,code,threshold_lsb\n0,1,0.5\n0,2,1.5\n0,3,2.5\n1,1,0.6\n1,2,1.4\n' \
  "columns_short.csv: expected one row for each code 1..3 of every column 0..1, code 3 is missing in column 1 (found 5 rows)"
expect_bad_table columns_falling thresholds_csv 'column,code,threshold_lsb\n0,1,0.5\n0,2,1.5\n0,3,2.5\n1,1,0.6\n1,2,1.4\n1,3,1.3\n' \
  "columns_falling.csv: column 1: thresholds must be nondecreasing"
expect_bad_table columns_negative thresholds_csv 'column,code,threshold_lsb\n-1,1,0.5\n' \
  "columns_negative.csv: line 2: expected a column index in [0, 65535], found -1"
printf 'macros:\n  - {name: m, analog_sram: {adc: {bits: 6, model: table, table: {inl_csv: configs/adc/example_inl_6bit_8columns.csv}}}}\n' > columns_macro.yaml
expect_exit 0 config --check columns_macro.yaml

# The ideal converter: ramp ENOB equals its bits, and a CCO at low supply costs less energy.
printf 'adc: {bits: 5}\noutput_dir: out/ideal\n' > ideal.yaml
expect_exit 0 adc ideal.yaml  # the config as a positional argument
expect_exit 2 adc
expect_output "Exactly 1 option from [-c,--config,config] is required"
[[ $(json_get out/ideal/summary.json '["ramp_enob_bits"]') == 5.0* || $(json_get out/ideal/summary.json '["ramp_enob_bits"]') == 4.99* ]] \
  || fail "ideal 5-bit ramp ENOB: $(json_get out/ideal/summary.json '["ramp_enob_bits"]')"
printf 'adc: {bits: 6, model: cco, cco: {vdd_v: %s}}\noutput_dir: out/cco%s\n' 0.9 09 > cco09.yaml
printf 'adc: {bits: 6, model: cco, cco: {vdd_v: %s}}\noutput_dir: out/cco%s\n' 0.6 06 > cco06.yaml
expect_exit 0 adc --config cco09.yaml
expect_exit 0 adc --config cco06.yaml
python3 -c "
import json
high = json.load(open('out/cco09/summary.json'))['energy_per_conversion_pj']['mean_over_ramp']
low = json.load(open('out/cco06/summary.json'))['energy_per_conversion_pj']['mean_over_ramp']
assert 0 < low < high, (low, high)" || fail "CCO energy does not fall with V_DD"

# Bad tables: non-monotonic thresholds, a wrong number of codes, a non-numeric cell.
expect_bad_table falling thresholds_csv 'code,threshold_lsb\n1,0.5\n2,1.5\n3,1.2\n' \
  "nondecreasing: code 3 starts at 1.2 LSB, below code 2 at 1.5 LSB"
expect_output "adc"
expect_bad_table short inl_csv 'code,inl_lsb\n1,0\n2,0.1\n' \
  "short.csv: expected one row for each code 1..3 (3 rows), code 3 is missing (found 2 rows)"
expect_bad_table text dnl_csv 'code,dnl_lsb\n1,0.1\n2,abc\n' \
  "text.csv: line 3, column 'dnl_lsb': expected a finite number, found 'abc'"
printf 'adc: {bits: 1, model: table, table: {dnl_csv: text.csv}}\n' > dnl_1bit.yaml
expect_exit 2 adc --config dnl_1bit.yaml
expect_output "key 'adc.table.dnl_csv': a DNL table needs an ADC of 2 bits or more"

printf 'adc: {bits: 2, model: table}\n' > no_table.yaml
expect_exit 2 adc --config no_table.yaml
expect_output "model table expects exactly one of thresholds_csv, inl_csv and dnl_csv, found 0"

printf 'adc: {bits: 6, model: cco, cco: {corner: XX}}\n' > corner.yaml
expect_exit 2 adc --config corner.yaml
expect_output "no CCO operating point for corner 'XX'"

printf 'corner,vdd_v,f0_mhz,gain_mhz_per_ua,isat_ua\nTT,0.9,100,20\n' > points.csv
printf 'adc: {bits: 6, model: cco, cco: {operating_points_csv: points.csv}}\n' > points.yaml
expect_exit 2 adc --config points.yaml
expect_output "points.csv: line 2: expected 5 cells like the header"

printf 'characterize: {sine_samples: 4096, sine_cycles: 128}\n' > incoherent.yaml
expect_exit 2 adc --config incoherent.yaml
expect_output "expected coprime values"

# A macro with a bad table fails when the experiment config is checked, before any training.
printf 'macros:\n  - {name: m, analog_sram: {adc: {bits: 2, model: table, table: {thresholds_csv: falling.csv}}}}\n' > macro.yaml
expect_exit 2 config --check macro.yaml
expect_output "nondecreasing"

echo "adc command OK"
