#include "core/sot_mram/fp_format.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace bitline::core::sot_mram {
namespace {

constexpr int kDoubleMantissaBits = 52;

// v (finite, nonzero) rounded to m + 1 significant bits at an unbounded exponent.
double round_significand(double v, int mantissa_bits, Rounding rounding) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  const int drop = kDoubleMantissaBits - mantissa_bits;
  const uint64_t drop_mask = (uint64_t{1} << drop) - 1;
  // A carry out of the mantissa field increments the exponent field: the renormalisation.
  if (rounding == Rounding::NearestEven) bits += (drop_mask >> 1) + ((bits >> drop) & 1);
  bits &= ~drop_mask;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// The range checks: ±infinity above the largest finite, ±0 below the smallest normal.
float finish(double v, const NumberFormat& format) {
  if (std::fabs(v) > largest_finite(format)) return std::copysign(std::numeric_limits<float>::infinity(), static_cast<float>(v));
  if (std::fabs(v) < smallest_normal(format)) return std::copysign(0.0f, static_cast<float>(v));
  return static_cast<float>(v);
}

}  // namespace

void validate_format(const NumberFormat& format) {
  const auto check = [](const char* name, int value, int low, int high) {
    if (value < low || value > high) {
      throw std::invalid_argument(std::string(name) + " must be in [" + std::to_string(low) + ", " +
                                  std::to_string(high) + "] (the formats a float holds), found " + std::to_string(value));
    }
  };
  check("exponent_bits", format.exponent_bits, kMinExponentBits, kMaxExponentBits);
  check("mantissa_bits", format.mantissa_bits, kMinMantissaBits, kMaxMantissaBits);
}

NumberFormat preset_format(const std::string& name) {
  if (name == "bf16") return {8, 7};
  if (name == "fp16") return {5, 10};
  if (name == "fp32") return {8, 23};
  throw std::invalid_argument("expected one of " + std::string(kPresetFormatNames) + ", found '" + name + "'");
}

std::string format_name(const NumberFormat& format) {
  for (const char* name : {"bf16", "fp16", "fp32"}) {
    if (preset_format(name) == format) return name;
  }
  return "e" + std::to_string(format.exponent_bits) + "m" + std::to_string(format.mantissa_bits);
}

int exponent_bias(const NumberFormat& format) { return (1 << (format.exponent_bits - 1)) - 1; }
double smallest_normal(const NumberFormat& format) { return std::ldexp(1.0, 1 - exponent_bias(format)); }
double largest_finite(const NumberFormat& format) {
  return std::ldexp(2.0 - std::ldexp(1.0, -format.mantissa_bits), exponent_bias(format));
}

int guard_bits(const NumberFormat& format, Rounding rounding) {
  return rounding == Rounding::TowardZero ? 1 : format.mantissa_bits + 2;
}

float to_format(float x, const NumberFormat& format) {
  if (std::isnan(x)) return std::numeric_limits<float>::quiet_NaN();
  if (std::fpclassify(x) == FP_SUBNORMAL) return std::copysign(0.0f, x);  // below every format's normals
  if (std::isinf(x) || x == 0.0f) return x;
  return finish(round_significand(x, format.mantissa_bits, Rounding::NearestEven), format);
}

float multiply(float a, float b, const NumberFormat& format, Rounding rounding) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  const double exact = static_cast<double>(a) * static_cast<double>(b);  // 2 (m + 1) <= 48 bits: exact
  if (!std::isfinite(a) || !std::isfinite(b) || exact == 0.0) return static_cast<float>(exact);
  return finish(round_significand(exact, format.mantissa_bits, rounding), format);
}

float add(float a, float b, const NumberFormat& format, Rounding rounding) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<float>::quiet_NaN();
  if (!std::isfinite(a) || !std::isfinite(b) || a == 0.0f || b == 0.0f) {
    return static_cast<float>(static_cast<double>(a) + static_cast<double>(b));  // IEEE: exact here
  }
  double larger = a, smaller = b;
  if (std::fabs(smaller) > std::fabs(larger)) std::swap(larger, smaller);
  double sum;
  if (rounding == Rounding::TowardZero) {
    // The alignment register's last bit: the smaller operand's bits below it are lost.
    const double grid = std::ldexp(1.0, std::ilogb(larger) - format.mantissa_bits - guard_bits(format, rounding));
    sum = larger + std::trunc(smaller / grid) * grid;  // exact: at most m + 3 bits
  } else {
    // Correctly rounded: rounding the double sum to m + 1 <= 24 bits again is innocuous, as double
    // has at least 2 (m + 1) + 2 bits (Figueroa, "When is double rounding innocuous?", 1995).
    sum = larger + smaller;
  }
  if (sum == 0.0) return 0.0f;
  return finish(round_significand(sum, format.mantissa_bits, rounding), format);
}

Fields fields_of(float value, const NumberFormat& format) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  Fields fields;
  fields.sign = (bits >> 31) != 0;
  const uint32_t all_ones = (1u << format.exponent_bits) - 1;
  if (std::isnan(value)) return {fields.sign, all_ones, 1};
  if (std::isinf(value)) return {fields.sign, all_ones, 0};
  if (value == 0.0f) return {fields.sign, 0, 0};
  const int float_exponent = static_cast<int>((bits >> 23) & 0xffu) - 127;
  fields.exponent = static_cast<uint32_t>(float_exponent + exponent_bias(format));
  fields.mantissa = (bits & 0x7fffffu) >> (23 - format.mantissa_bits);
  return fields;
}

float value_of(const Fields& fields, const NumberFormat& format) {
  const uint32_t all_ones = (1u << format.exponent_bits) - 1;
  const float sign = fields.sign ? -1.0f : 1.0f;
  if (fields.exponent == all_ones) {
    return fields.mantissa != 0 ? std::numeric_limits<float>::quiet_NaN() : sign * std::numeric_limits<float>::infinity();
  }
  if (fields.exponent == 0) return sign * 0.0f;
  const double significand = 1.0 + std::ldexp(static_cast<double>(fields.mantissa), -format.mantissa_bits);
  return sign * static_cast<float>(std::ldexp(significand, static_cast<int>(fields.exponent) - exponent_bias(format)));
}

}  // namespace bitline::core::sot_mram
