#pragma once
// Uniform symmetric quantization of real values onto an integer grid, the one definition that
// every quantized path in bitline (layers, macros, reference checks) uses.
//
// A tensor with range r (its calibrated or dynamic maximum magnitude) and b bits maps to
//   unsigned: q = round(clamp(x / r, 0, 1) * (2^b - 1))          q in [0, 2^b - 1]
//   signed:   q = round(clamp(x / r, -1, 1) * (2^(b-1) - 1))     q in [-(2^(b-1) - 1), 2^(b-1) - 1]
// with round-half-to-even, and dequantizes as x' = q * r / q_max. This is the order of operations
// of ASiM's quantizers (spec/papers.md §5(b)), so ASiM-compatible runs round identically.
#include <cstdint>
#include <cstddef>

namespace bitline::core {

struct QuantGrid {
  int bits = 8;
  bool is_signed = false;

  // Largest representable code: 2^b - 1 (unsigned) or 2^(b-1) - 1 (signed).
  int64_t max_code() const;
  // Smallest representable code: 0 (unsigned) or -max_code() (signed, symmetric).
  int64_t min_code() const;
  // Lower clamp bound of x / range: 0 (unsigned) or -1 (signed).
  float lower_unit() const { return is_signed ? -1.0f : 0.0f; }
};

// Throws std::invalid_argument for bits outside [1, 31] (signed needs at least 2 bits).
void validate_grid(const QuantGrid& grid);

int64_t quantize_value(float x, float range, const QuantGrid& grid);
float dequantize_value(int64_t code, float range, const QuantGrid& grid);

void quantize(const float* x, std::size_t count, float range, const QuantGrid& grid, int64_t* codes);

// ASiM's dynamic range: max |x| (signed) or max x (unsigned) plus 1e-7, so an all-zero tensor
// still has a positive range.
float asim_dynamic_range(const float* x, std::size_t count, bool is_signed);

}  // namespace bitline::core
