#pragma once
// DAISM's operand formats and its floating-point datapath around the approximate mantissa product
// (docs/macros/daism.md; papers.md §1(b)): inputs rounded to the operand format (nearest-even),
// sign XOR, exponent add, the mantissa product on the SRAM array, one normalisation shift, the
// kept mantissa bits rounded (toward zero by default), zeros and subnormals flushed to zero,
// Inf/NaN through a side path; products accumulated in fp32 or a narrower format.
#include <cstdint>
#include <string>

#include "core/daism/multiplier.h"
#include "core/events.h"

namespace bitline::core::daism {

// An operand format: floating point (exponent and mantissa bits) or sign-magnitude integers.
struct OperandFormat {
  std::string name;  // "bf16", "fp16", "fp32", "int8"
  bool floating = true;
  NumberFormat fp;         // floating: {exponent_bits, mantissa_bits}, at most {8, 23}
  int magnitude_bits = 0;  // sign-magnitude: bits of |x| (7 for int8)
  // n: the multiplier's operand width (mantissa bits with the hidden one, or magnitude bits).
  int operand_bits() const { return floating ? fp.mantissa_bits + 1 : magnitude_bits; }
};
// "bf16" (1-8-7), "fp16" (1-5-10), "fp32" (1-8-23), "int8" (sign and 7 magnitude bits [A]: the
// paper's integer support is unconfirmed). Throws std::invalid_argument listing the names.
OperandFormat parse_operand_format(const std::string& name);
constexpr const char* kOperandFormatNames = "bf16, fp16, fp32, int8";

// A value in a floating-point format: zero, a normal number mantissa * 2^(exponent - (n - 1)) with
// mantissa in [2^(n-1), 2^n), infinity or NaN.
struct Decoded {
  enum class Class { Zero, Normal, Infinity, NaN };
  Class value_class = Class::Zero;
  bool negative = false;
  int exponent = 0;       // unbiased
  uint64_t mantissa = 0;  // with the hidden bit
};
// x rounded to the format: the mantissa to nearest, ties to even; then a magnitude above the
// format's largest finite becomes infinity and one below its smallest normal (subnormals included)
// flushes to zero.
Decoded decode(float x, const NumberFormat& format);
float encode(const Decoded& value, const NumberFormat& format);  // exact: every such value is a float
inline float round_to_format(float x, const NumberFormat& format) { return encode(decode(x, format), format); }

// The multiplier of one format: MultiplierConfig with operand_bits set from the format.
class Datapath {
 public:
  // Throws std::invalid_argument naming the field (the config's, or "format").
  Datapath(const OperandFormat& format, MultiplierConfig config);
  const OperandFormat& format() const { return format_; }
  const MultiplierConfig& config() const { return config_; }

  // The product of two decoded floating-point operands (stored: in the array; driving: raising
  // the wordlines), normalised and rounded to the format.
  Decoded multiply(const Decoded& stored, const Decoded& driving) const;
  // Floats rounded to the format first (a floating format).
  float multiply(float stored, float driving) const;
  // Sign-magnitude integers (|x| < 2^magnitude_bits): sign XOR, the sensed magnitude product.
  int64_t multiply_integers(int64_t stored, int64_t driving) const;

 private:
  OperandFormat format_;
  MultiplierConfig config_;
};

// The products' accumulator: fp32, or a narrower float format whose additions round to it.
// Adding a value of the accumulator's format in fp32 and rounding the sum to the format is the
// correctly rounded sum whenever fp32 has at least 2p + 2 mantissa bits for the format's p (bf16,
// fp16): double rounding is then innocuous (Figueroa, "When is double rounding innocuous?", 1995).
struct Accumulator {
  NumberFormat format{8, 23};  // fp32
  float add(float sum, float product) const {
    const float exact_in_fp32 = sum + product;
    return format.mantissa_bits >= 23 ? exact_in_fp32 : round_to_format(exact_in_fp32, format);
  }
};

}  // namespace bitline::core::daism
