#include "core/quantizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace bitline::core {

int64_t QuantGrid::max_code() const {
  return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
}

int64_t QuantGrid::min_code() const { return is_signed ? -max_code() : 0; }

void validate_grid(const QuantGrid& grid) {
  const int min_bits = grid.is_signed ? 2 : 1;
  if (grid.bits < min_bits || grid.bits > 31) {
    throw std::invalid_argument("quantizer bits must be in [" + std::to_string(min_bits) +
                                ", 31], got " + std::to_string(grid.bits));
  }
}

int64_t quantize_value(float x, float range, const QuantGrid& grid) {
  const float unit = std::clamp(x / range, grid.lower_unit(), 1.0f);
  // std::nearbyint rounds half to even under the default rounding mode, like torch.round.
  return static_cast<int64_t>(std::nearbyint(unit * static_cast<float>(grid.max_code())));
}

float dequantize_value(int64_t code, float range, const QuantGrid& grid) {
  return static_cast<float>(code) * range / static_cast<float>(grid.max_code());
}

void quantize(const float* x, std::size_t count, float range, const QuantGrid& grid, int64_t* codes) {
  for (std::size_t i = 0; i < count; ++i) codes[i] = quantize_value(x[i], range, grid);
}

float asim_dynamic_range(const float* x, std::size_t count, bool is_signed) {
  float peak = 0.0f;
  for (std::size_t i = 0; i < count; ++i) peak = std::max(peak, is_signed ? std::fabs(x[i]) : x[i]);
  return peak + 1e-7f;
}

}  // namespace bitline::core
