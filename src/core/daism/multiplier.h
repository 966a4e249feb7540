#pragma once
// DAISM's approximate multiplier (docs/macros/daism.md; papers.md §1(b)), bit-accurate, on n-bit
// magnitudes. The stored operand A sits in the SRAM array as rows of shifted copies (and rows of
// precomputed multiples); the driving operand B raises the wordlines of the rows its bits (or k-bit
// digits) select; the bitline returns the bitwise OR of the raised rows instead of their sum, so
// carries between rows are lost and the product never exceeds the exact one.
#include <cstdint>
#include <string>

#include "core/rounding.h"

namespace bitline::core::daism {

enum class Variant {
  Exact,              // the exact product (every multiple of A stored: one row raised per product)
  Or,                 // one row per multiplier bit, A << i (k = 1)
  PrecomputedDigits,  // B in k-bit digits d_g, rows (A * d_g) << k g for every nonzero digit value [A]
  PrecomputedTop,     // the top k bits of B multiplied exactly (precomputed rows), the other bits ORed [A]
};

// Rounding of the kept mantissa bits (core/rounding.h): toward zero by default (the OR datapath has
// no rounder [A]); nearest even rounds over the sensed columns.

struct MultiplierConfig {
  Variant variant = Variant::PrecomputedDigits;
  int k = 2;             // digit width (PrecomputedDigits) or exact top bits (PrecomputedTop); 1 for Or
  int operand_bits = 8;  // n: magnitude bits of both operands (8: a bf16 mantissa with its hidden bit)
  int kept_columns = 0;  // product MSB columns sensed, of 2n (0: all); the 2n - kept lowest read as 0
  Rounding rounding = Rounding::TowardZero;
};
constexpr int kMaxOperandBits = 24;  // an fp32 mantissa with its hidden bit

// Throws std::invalid_argument naming the field: operand_bits in [1, 24], kept_columns in
// [0, 2 operand_bits], k in [1, operand_bits] (exactly 1 for Or; unused by Exact).
void validate(const MultiplierConfig& config);
// The columns sensed: kept_columns, or all 2n when it is 0.
int sensed_columns(const MultiplierConfig& config);

// The digit width that selects rows of B: k for the digit variant, 1 for Or, n for Exact.
int digit_bits(const MultiplierConfig& config);

// The product as the bitlines return it, before truncation: a, b < 2^n.
uint64_t approximate_product(uint64_t a, uint64_t b, const MultiplierConfig& config);
// The product as sensed: the approximate product with its 2n - kept_columns low columns cleared.
uint64_t sensed_product(uint64_t a, uint64_t b, const MultiplierConfig& config);

// Array rows one stored operand takes (its shifted copies and precomputed multiples). Normalised
// driving operands (bit n-1 always set, a floating-point mantissa) need fewer rows for the top
// group: only the multiples whose top bit is set.
int rows_per_operand(const MultiplierConfig& config, bool normalized_driving);
// Additions a peripheral adder performs to precompute one stored operand's multiples when it is
// written: one per distinct odd multiple 3A, 5A, ... (even multiples are shifts) [A].
int precompute_additions(const MultiplierConfig& config);
// Wordlines one driving operand raises in a read: its nonzero digits (set bits for Or, nonzero
// top part plus set low bits for PrecomputedTop, one for Exact unless b = 0).
int rows_raised(uint64_t b, const MultiplierConfig& config);

// "exact", "or", "pc2" (PrecomputedDigits, k = 2), "top3" (PrecomputedTop, k = 3): the short names
// of `bitline multiplier --variants`; the inverse of short_name. Throws std::invalid_argument.
MultiplierConfig parse_short_name(const std::string& name, MultiplierConfig base);
std::string short_name(const MultiplierConfig& config);
std::string to_string(Variant variant);    // "exact", "or", "precomputed_digits", "precomputed_top"

}  // namespace bitline::core::daism
