# `bitline layer` on .npy tensors: the ASiM golden case, simulate == quantized when lossless, and
# clear errors (exit 2) for bad tensors and configs.
source "$(dirname "$0")/lib.sh" "$@"

# ASiM's golden example (spec/papers.md §5(b)): 255 -> 1, W2A2, nrow 255, 4-bit ADC -> 102.0.
cat > golden.yaml <<'YAML'
layer: {type: linear, mode: simulate}
quantization: {weight_bits: 2, activation_bits: 2, activation_sign: unsigned,
               weight_granularity: per_tensor, activation_scaling: asim_dynamic}
macro: {type: analog_sram, analog_sram: {rows_per_conversion: 255, adc: {bits: 4}, asim_compatible: true}}
YAML
write_npy x.npy 1,255 "[3.0] * 40 + [0.0] * 215"
write_npy w.npy 1,255 "[1.0] * 255"
expect_exit 0 layer --config golden.yaml --input x.npy --weight w.npy --output y.npy
python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if abs(v - 102.0) < 1e-3 else 1)" "$(read_npy y.npy)" ||
  fail "golden output $(read_npy y.npy), expected 102.0"

# A conv with an 8-bit ADC at N = 255 is lossless: simulate equals the integer reference.
cat > conv.yaml <<'YAML'
layer: {type: conv2d, padding: 1, mode: simulate}
quantization: {weight_bits: 8, activation_bits: 8}
macro: {analog_sram: {rows_per_conversion: 255, adc: {bits: 8}}}
YAML
write_npy cx.npy 2,16,6,6 "[random.random() for _ in range(n)]"
write_npy cw.npy 8,16,3,3 "[random.uniform(-1, 1) for _ in range(n)]"
write_npy cb.npy 8 "[0.1 * i for i in range(n)]"
expect_exit 0 layer --config conv.yaml --input cx.npy --weight cw.npy --bias cb.npy --output sim.npy
expect_output "CSNR against the integer reference: exact"
sed 's/mode: simulate/mode: quantized/' conv.yaml > conv_q.yaml
expect_exit 0 layer --config conv_q.yaml --input cx.npy --weight cw.npy --bias cb.npy --output ref.npy
cmp sim.npy ref.npy || fail "lossless simulate differs from the integer reference"
# ... and a 5-bit ADC is not.
sed 's/bits: 8}}}/bits: 5}}}/' conv.yaml > conv5.yaml
expect_exit 0 layer --config conv5.yaml --input cx.npy --weight cw.npy --bias cb.npy --output lossy.npy
expect_output " dB"
! cmp -s lossy.npy ref.npy || fail "a 5-bit ADC gave the exact result"

# "Exact" is exact past 2^24 (issue 25): a K = 4096 linear layer whose codes are the values
# themselves (activations 0..255 with a 255, weights up to 127 in each row: both steps are 1), so that
# the output is Σ x w itself, which Python sums in integers and rounds once to float32. An fp32 GEMM
# of the whole depth gets some of these outputs wrong by tens of units.
python3 - "$SOURCE_DIR/tests/integration" <<'PY'
import random, sys
sys.path.insert(0, sys.argv[1])
random.seed(11)
from npy_file import write_float32 as npy
rows, depth, outs = 6, 4096, 4
x = [[random.randint(200, 255) for _ in range(depth)] for _ in range(rows)]
w = [[random.randint(100, 127) for _ in range(depth)] for _ in range(outs)]
x[0][0] = 255
for row in w:
    row[0] = 127
npy("big_x.npy", (rows, depth), [v for row in x for v in row])
npy("big_w.npy", (outs, depth), [v for row in w for v in row])
exact = [sum(a * b for a, b in zip(xr, wr)) for xr in x for wr in w]
assert max(exact) > 2 ** 24
npy("big_expected.npy", (rows, outs), exact)  # struct rounds each to the nearest float32
PY
for macro in ddc_pim digital_sram; do
  printf 'layer: {type: linear, mode: %s}\nquantization: {weight_bits: 8, activation_bits: 8, activation_sign: unsigned}\nmacro: {type: %s}\n' \
    simulate $macro > big_$macro.yaml
  expect_exit 0 layer --config big_$macro.yaml --input big_x.npy --weight big_w.npy --output big_$macro.npy
  expect_output "CSNR against the integer reference: exact"
  cmp -s <(tail -c 96 big_$macro.npy) <(tail -c 96 big_expected.npy) ||
    fail "$macro: the K = 4096 outputs are not the exact integer sums: $(read_npy big_$macro.npy | head -3) vs $(read_npy big_expected.npy | head -3)"
done
sed 's/mode: simulate/mode: quantized/' big_ddc_pim.yaml > big_q.yaml
expect_exit 0 layer --config big_q.yaml --input big_x.npy --weight big_w.npy --output big_q.npy
cmp -s <(tail -c 96 big_q.npy) <(tail -c 96 big_expected.npy) || fail "quantized mode: the K = 4096 outputs are not the exact integer sums"

# Bad input: each exits 2 and names the problem.
write_npy bad_w.npy 8,15,3,3 "[0.0] * n"
expect_exit 2 layer --config conv.yaml --input cx.npy --weight bad_w.npy --output o.npy
expect_output "cx.npy: conv2d input: expected [N, 15, H, W]"
write_npy bad_b.npy 7 "[0.0] * n"
expect_exit 2 layer --config conv.yaml --input cx.npy --weight cw.npy --bias bad_b.npy --output o.npy
expect_output "bad_b.npy: bias: expected [8]"
printf 'not an npy file' > junk.npy
expect_exit 2 layer --config conv.yaml --input junk.npy --weight cw.npy --output o.npy
expect_output "junk.npy"
expect_exit 2 layer --config conv.yaml --input missing.npy --weight cw.npy --output o.npy
expect_output "missing.npy"
[[ ! -e o.npy ]] || fail "an output was written despite the error"
printf 'layer: {type: conv2d}\nmacro: {analog_sram: {rows_per_conversion: 0}}\n' > nrow0.yaml
expect_exit 2 layer --config nrow0.yaml --input cx.npy --weight cw.npy --output o.npy
expect_output "key 'macro.analog_sram.rows_per_conversion': expected an integer in [1, 65536], found '0'"
printf 'macro: {analog_sram: {adc: {bits: 17}}}\n' > adc17.yaml
expect_exit 2 layer --config adc17.yaml --input cx.npy --weight cw.npy --output o.npy
expect_output "key 'macro.analog_sram.adc.bits'"
printf 'quantization: {activation_bits: 4}\nmacro: {analog_sram: {input_bits_per_cycle: 6}}\n' > ebits.yaml
expect_exit 2 layer --config ebits.yaml --input cx.npy --weight cw.npy --output o.npy
expect_output "input_bits_per_cycle must not exceed input_bits"
printf 'macro: {type: digital_sram, digital_sram: {input_bits_per_cycle: 6}}\nquantization: {activation_bits: 4}\n' > debits.yaml
expect_exit 2 layer --config debits.yaml --input cx.npy --weight cw.npy --output o.npy
expect_output "key 'macro.digital_sram': input_bits_per_cycle must not exceed input_bits (with quantization W8A4)"
printf 'macro: {type: no_such_macro}\n' > nosuch.yaml
expect_exit 2 layer --config nosuch.yaml --input cx.npy --weight cw.npy --output o.npy
# Every registered type is listed (`bitline macros` prints one per line, its name first).
types=$("$BITLINE" macros | awk 'NF {print $1}' | paste -sd, - | sed 's/,/, /g')
expect_output "key 'macro.type': expected one of $types, found 'no_such_macro'"
printf 'macro: {analog_sram: {asim_compatible: true}}\n' > asim.yaml
expect_exit 2 layer --config asim.yaml --input cx.npy --weight cw.npy --output o.npy
expect_output "asim_compatible"

# The all-digital macro is exact: simulate equals the integer reference, and it says what it did.
sed 's/macro: {analog_sram: {rows_per_conversion: 255, adc: {bits: 8}}}/macro: {type: digital_sram}/' conv.yaml > dconv.yaml
expect_exit 0 layer --config dconv.yaml --input cx.npy --weight cw.npy --bias cb.npy --output dsim.npy
expect_output "CSNR against the integer reference: exact"
expect_output "digital_sram macro (exact adder tree over 255 rows, 1 input bit per cycle) events: macs "
cmp dsim.npy ref.npy || fail "digital_sram differs from the integer reference"
echo "layer command tests passed"
