#include "core/daism/number_format.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace bitline::core::daism {
namespace {

constexpr int kFloatMantissaBits = 23;
constexpr int kFloatBias = 127;

// C++17 stand-ins for <bit>.
int bit_width(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }
template <class To, class From>
To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof(to));
  return to;
}

int max_exponent(const NumberFormat& format) { return (1 << (format.exponent_bits - 1)) - 1; }
int min_exponent(const NumberFormat& format) { return 2 - (1 << (format.exponent_bits - 1)); }

// mantissa >> shift, rounded as `rounding` says.
uint64_t shift_right_rounded(uint64_t mantissa, int shift, Rounding rounding) {
  if (shift <= 0) return mantissa << -shift;
  const uint64_t kept = mantissa >> shift;
  if (rounding == Rounding::TowardZero) return kept;
  const uint64_t remainder = mantissa & ((uint64_t{1} << shift) - 1);
  const uint64_t half = uint64_t{1} << (shift - 1);
  return kept + ((remainder > half || (remainder == half && (kept & 1))) ? 1 : 0);
}

// A normal result of `mantissa` (any width, nonzero) * 2^(exponent - (top bit's position)), with
// `n` bits kept: range checks of the format applied.
Decoded normalise(bool negative, int exponent, uint64_t mantissa, int n, Rounding rounding,
                  const NumberFormat& format) {
  const int shift = bit_width(mantissa) - n;
  uint64_t kept = shift_right_rounded(mantissa, shift, rounding);
  if (kept >> n) {  // rounded up to 2^n
    kept >>= 1;
    ++exponent;
  }
  Decoded result{Decoded::Class::Normal, negative, exponent, kept};
  if (exponent > max_exponent(format)) result = {Decoded::Class::Infinity, negative, 0, 0};
  if (exponent < min_exponent(format)) result = {Decoded::Class::Zero, negative, 0, 0};
  return result;
}

}  // namespace

OperandFormat parse_operand_format(const std::string& name) {
  if (name == "bf16") return {name, true, {8, 7}, 0};
  if (name == "fp16") return {name, true, {5, 10}, 0};
  if (name == "fp32") return {name, true, {8, 23}, 0};
  if (name == "int8") return {name, false, {}, 7};
  throw std::invalid_argument("expected one of " + std::string(kOperandFormatNames) + ", found '" + name + "'");
}

Decoded decode(float x, const NumberFormat& format) {
  const auto bits = bit_cast<uint32_t>(x);
  const bool negative = (bits >> 31) != 0;
  const int biased = static_cast<int>((bits >> kFloatMantissaBits) & 0xff);
  const uint32_t fraction = bits & ((1u << kFloatMantissaBits) - 1);
  if (biased == 0xff) return {fraction != 0 ? Decoded::Class::NaN : Decoded::Class::Infinity, negative, 0, 0};
  if (biased == 0) return {Decoded::Class::Zero, negative, 0, 0};  // fp32 subnormals are below every format's normals
  const uint64_t mantissa = (uint64_t{1} << kFloatMantissaBits) | fraction;
  return normalise(negative, biased - kFloatBias, mantissa, format.mantissa_bits + 1, Rounding::NearestEven, format);
}

float encode(const Decoded& value, const NumberFormat& format) {
  const uint32_t sign = value.negative ? 0x80000000u : 0u;
  switch (value.value_class) {
    case Decoded::Class::Zero:
      return bit_cast<float>(sign);
    case Decoded::Class::Infinity:
      return bit_cast<float>(sign | 0x7f800000u);
    case Decoded::Class::NaN:
      return std::numeric_limits<float>::quiet_NaN();
    case Decoded::Class::Normal:
      break;
  }
  const int hidden = format.mantissa_bits;
  const auto fraction = static_cast<uint32_t>(value.mantissa - (uint64_t{1} << hidden))
                        << (kFloatMantissaBits - hidden);
  return bit_cast<float>(sign | static_cast<uint32_t>(value.exponent + kFloatBias) << kFloatMantissaBits | fraction);
}

Datapath::Datapath(const OperandFormat& format, MultiplierConfig config) : format_(format), config_(config) {
  if (format.floating && (format.fp.exponent_bits < 2 || format.fp.exponent_bits > 8 || format.fp.mantissa_bits < 1 ||
                          format.fp.mantissa_bits > kFloatMantissaBits)) {
    throw std::invalid_argument("format: a floating-point format of at most 8 exponent and 23 mantissa bits");
  }
  config_.operand_bits = format.operand_bits();
  if (config_.variant == Variant::Exact) config_.k = config_.operand_bits;
  validate(config_);
}

Decoded Datapath::multiply(const Decoded& stored, const Decoded& driving) const {
  using Class = Decoded::Class;
  const bool negative = stored.negative != driving.negative;
  const bool any_zero = stored.value_class == Class::Zero || driving.value_class == Class::Zero;
  const bool any_infinity = stored.value_class == Class::Infinity || driving.value_class == Class::Infinity;
  // The side path: IEEE semantics for the special values.
  if (stored.value_class == Class::NaN || driving.value_class == Class::NaN || (any_infinity && any_zero)) {
    return {Class::NaN, false, 0, 0};
  }
  if (any_infinity) return {Class::Infinity, negative, 0, 0};
  if (any_zero) return {Class::Zero, negative, 0, 0};
  const uint64_t product = sensed_product(stored.mantissa, driving.mantissa, config_);
  if (product == 0) return {Class::Zero, negative, 0, 0};  // every sensed column read 0
  const int n = config_.operand_bits;
  // product ≈ stored.mantissa * driving.mantissa, a value of 2^(2n - 2) units at exponent 0.
  const int exponent = stored.exponent + driving.exponent + (bit_width(product) - 1) - (2 * n - 2);
  return normalise(negative, exponent, product, n, config_.rounding, format_.fp);
}

float Datapath::multiply(float stored, float driving) const {
  return encode(multiply(decode(stored, format_.fp), decode(driving, format_.fp)), format_.fp);
}

int64_t Datapath::multiply_integers(int64_t stored, int64_t driving) const {
  const auto magnitude = static_cast<int64_t>(sensed_product(std::llabs(stored), std::llabs(driving), config_));
  return (stored < 0) != (driving < 0) ? -magnitude : magnitude;
}

}  // namespace bitline::core::daism
