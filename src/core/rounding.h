#pragma once
// How a floating-point datapath rounds the bits it drops: shared by the macros with FP arithmetic
// (DAISM's multiplier, the SOT-MRAM FP engine).
#include <string>

namespace bitline::core {

enum class Rounding {
  TowardZero,   // drop the bits below the kept ones (truncation: a datapath without a rounder)
  NearestEven,  // round to nearest, ties to even
};

std::string to_string(Rounding rounding);  // "toward_zero", "nearest_even"
// The inverse of to_string(Rounding). Throws std::invalid_argument naming both choices.
Rounding parse_rounding(const std::string& name);

}  // namespace bitline::core
