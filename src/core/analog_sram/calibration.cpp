#include "core/analog_sram/calibration.h"

#include <algorithm>
#include <cmath>

namespace bitline::core::analog_sram {

void MacStatistics::add(const Spec& spec, const ProductShape& shape, const int32_t* x, const int32_t* w,
                        int64_t max_outputs) {
  const auto tiles = row_tiles(spec, shape.channels, shape.kernel_area);
  const auto cycles = cycle_plan(spec);
  const int64_t outputs = shape.rows * shape.cols;
  const int64_t stride = std::max<int64_t>(1, outputs / max_outputs);
  const int64_t depth = shape.depth();
  const uint32_t x_mask = (1u << spec.input_bits) - 1, w_mask = (1u << spec.weight_bits) - 1;
  for (int64_t index = 0; index < outputs; index += stride) {
    const int32_t* x_row = x + (index / shape.cols) * depth;
    const int32_t* w_row = w + (index % shape.cols) * depth;
    for (const auto& tile : tiles) {
      for (const auto& cycle : cycles) {
        if (cycle.kind == CycleKind::Digital) continue;
        int64_t mac = 0;
        for (int64_t k = tile.begin; k < tile.end; ++k) {
          const uint32_t w_bits = static_cast<uint32_t>(w_row[k]) & w_mask;
          if (!((w_bits >> cycle.weight_bit) & 1u)) continue;
          const uint32_t x_bits = static_cast<uint32_t>(x_row[k]) & x_mask;
          mac += (x_bits >> cycle.input_first_bit) & ((1u << cycle.input_bit_count) - 1);
        }
        const double full_range = static_cast<double>(((int64_t{1} << cycle.input_bit_count) - 1) * spec.rows_per_conversion);
        const int bin = std::min(kBins - 1, static_cast<int>(mac / full_range * kBins));
        ++bins_[static_cast<std::size_t>(bin)];
        ++samples_;
      }
    }
  }
}

double MacStatistics::full_scale_fraction(double percentile, int adc_levels) const {
  const double minimum = 1.0 / adc_levels;
  if (samples_ == 0) return 1.0;
  const auto wanted = static_cast<int64_t>(std::ceil(percentile / 100.0 * static_cast<double>(samples_)));
  int64_t seen = 0;
  for (int bin = 0; bin < kBins; ++bin) {
    seen += bins_[static_cast<std::size_t>(bin)];
    if (seen >= wanted) return std::clamp(static_cast<double>(bin + 1) / kBins, minimum, 1.0);
  }
  return 1.0;
}

}  // namespace bitline::core::analog_sram
