#pragma once
// The SOT-MRAM FP engine's number formats and its arithmetic, as values (docs/macros/sot_mram_fp.md;
// papers.md §3(b)). This is the functional model: what the in-memory programs of
// core/sot_mram/array_program.h compute, bit for bit (tests), and what the lanes of
// core/sot_mram/kernel.h compute fast.
//
// A format (e, m) has a sign, e exponent bits (bias 2^(e-1) - 1) and m stored mantissa bits; zeros,
// normal numbers, infinities and NaN. Subnormals are flushed to zero [A]: the datapath has no
// subnormal handling. Every value of a format with e <= 8 and m <= 23 is a float, so values travel
// as floats.
//
// Multiply: the exact product of the two significands, rounded to m bits (toward zero: the
// shift-and-add keeps no bits below the register [A default]; or to nearest even), at an unbounded
// exponent; then a result above the format's largest finite becomes ±infinity and one below its
// smallest normal ±0.
// Add: the operands ordered by magnitude, the smaller aligned to the larger's exponent in a register
// of (m + 1) + guard bits: toward zero keeps 1 guard bit, so bits of the smaller operand shifted past
// it are lost (and an operand smaller by more than m + 1 binades is lost entirely); nearest even keeps
// m + 2 guard bits and is correctly rounded. The sum is then rounded like a product. An exact zero
// sum is +0. Special values follow IEEE 754: NaN in gives NaN, inf - inf and inf * 0 give NaN,
// infinities otherwise win, x + 0 = x, zero products are signed zeros.
#include <cstdint>
#include <string>

#include "core/events.h"
#include "core/rounding.h"

namespace bitline::core::sot_mram {

// Formats are limited to what a float holds exactly.
constexpr int kMinExponentBits = 2, kMaxExponentBits = 8;
constexpr int kMinMantissaBits = 1, kMaxMantissaBits = 23;
// Throws std::invalid_argument naming exponent_bits or mantissa_bits, the range and the value.
void validate_format(const NumberFormat& format);
// "bf16" {8, 7}, "fp16" {5, 10}, "fp32" {8, 23}; throws std::invalid_argument listing them.
NumberFormat preset_format(const std::string& name);
constexpr const char* kPresetFormatNames = "bf16, fp16, fp32";
// "bf16" for a preset, else "e5m2" style.
std::string format_name(const NumberFormat& format);

int exponent_bias(const NumberFormat& format);
double smallest_normal(const NumberFormat& format);
double largest_finite(const NumberFormat& format);

// A float rounded to the format: fp32 subnormals flushed to ±0, the mantissa to nearest even
// (operands entering the engine [A]), then the range checks; NaN stays NaN.
float to_format(float x, const NumberFormat& format);

// The engine's two operations on values of the format (the results are values of the format).
float multiply(float a, float b, const NumberFormat& format, Rounding rounding);
float add(float a, float b, const NumberFormat& format, Rounding rounding);
// Guard bits of the add's alignment register.
int guard_bits(const NumberFormat& format, Rounding rounding);

// A value's fields as the array stores them: sign, biased exponent (0 for a zero, all ones for
// infinity and NaN) and the m stored mantissa bits (NaN: nonzero).
struct Fields {
  bool sign = false;
  uint32_t exponent = 0;
  uint32_t mantissa = 0;
};
Fields fields_of(float value, const NumberFormat& format);  // value: a value of the format
float value_of(const Fields& fields, const NumberFormat& format);

}  // namespace bitline::core::sot_mram
