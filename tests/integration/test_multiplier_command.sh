# `bitline multiplier` characterizes DAISM's multiplier variants (docs/macros/daism.md): its table and
# summary.json agree with an independent brute force, its CSV covers every pair, and bad settings
# exit 2 naming the option.
source "$(dirname "$0")/lib.sh" "$@"

expect_exit 0 multiplier --format bf16 --variants or,pc2,top3
expect_output "16384 pairs per variant (every pair)"
expect_output "pc2         11     1 |   -8.674    8.674  -32.777   92.7%"
dir=runs/multiplier/bf16
[[ $(wc -l < $dir/pc2.csv) -eq 16385 ]] || fail "pc2.csv: expected a header and 128 x 128 pairs"
python3 - $dir <<'PY' || fail "summary.json or pc2.csv disagree with a brute-force bf16 product"
import csv, json, math, sys
d = sys.argv[1]
summary = json.load(open(d + "/summary.json"))
assert summary["exhaustive"] and summary["pairs"] == 16384
def approx(a, b, k=2):  # PC2 digit rows ORed, then the bf16 result: top 8 bits, toward zero
    r, g = 0, 0
    while g < 8:
        r |= (a * ((b >> g) & ((1 << k) - 1))) << g
        g += k
    top = r.bit_length() - 1
    return (r >> (top - 7)) * 2.0 ** (top - 7) / 2 ** 14
errors = []
for row in csv.DictReader(open(d + "/pc2.csv")):
    a, b = int(row["stored"]), int(row["driving"])
    exact = a * b / 2 ** 14
    assert math.isclose(float(row["exact"]), exact, rel_tol=0, abs_tol=0), row
    assert float(row["approximate"]) == approx(a, b), row
    errors.append((approx(a, b) - exact) / exact)
pc2 = next(v for v in summary["variants"] if v["variant"] == "pc2")
assert math.isclose(pc2["product"]["mean_relative_error"], sum(errors) / len(errors), rel_tol=1e-12)
assert math.isclose(pc2["product"]["worst_relative_error"], min(errors), rel_tol=1e-12)
assert pc2["rows_per_operand"] == 11 and pc2["precompute_additions"] == 1
PY

# fp32 has 2^46 pairs: a seeded sample, the same twice.
expect_exit 0 multiplier --format fp32 --variants pc3 --max-pairs 5000 --no-csv --output-dir fp32_a
expect_output "5000 pairs per variant (a random sample, seed 1"
expect_exit 0 multiplier --format fp32 --variants pc3 --max-pairs 5000 --no-csv --output-dir fp32_b
cmp fp32_a/summary.json fp32_b/summary.json || fail "a sample with the same seed differs"
[[ ! -e fp32_a/pc3.csv ]] || fail "--no-csv wrote a CSV"

# Bad settings.
expect_exit 2 multiplier --format fp8
expect_output "--format: expected one of bf16, fp16, fp32, int8, found 'fp8'"
expect_exit 2 multiplier --variants or,pc9
expect_output "--variants (variant 'pc9' on bf16): k must be in [1, operand_bits = 8], found 9"
expect_exit 2 multiplier --variants top
expect_output "'top' is not a variant: expected exact, or, pc<k> or top<k>"
expect_exit 2 multiplier --kept-columns 17
expect_output "--kept-columns (variant 'exact' on bf16): kept_columns must be in [1, 2 * operand_bits = 16], found 17"
expect_exit 2 multiplier --rounding up
expect_output "--rounding: expected toward_zero or nearest_even, found 'up'"
mkdir -p occupied && touch occupied/notes.txt
expect_exit 2 multiplier --output-dir occupied
expect_output "--output-dir: expected a new or empty directory"
echo "multiplier command: ok"
