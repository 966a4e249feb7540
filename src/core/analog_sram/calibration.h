#pragma once
// Calibration of the ADC full scale from a layer's partial sums (FullScale::Calibrated): the
// smallest fraction of ASiM's full range that holds a given percentile of the analog conversions'
// MAC values; larger MACs clip.
#include <cstdint>
#include <vector>

#include "core/analog_sram/engine.h"

namespace bitline::core::analog_sram {

class MacStatistics {
 public:
  // Records the normalized MACs m / ((2^e - 1) N) of the analog conversions of a product, on an
  // evenly strided sample of at most `max_outputs` (row, column) pairs (deterministic).
  void add(const Spec& spec, const ProductShape& shape, const int32_t* x, const int32_t* w,
           int64_t max_outputs = 4096);
  int64_t samples() const { return samples_; }
  // The full-scale fraction holding `percentile` % of the recorded MACs, at least one ADC step of
  // the full range so that the ADC always has a useful range.
  double full_scale_fraction(double percentile, int adc_levels) const;

 private:
  static constexpr int kBins = 8192;
  std::vector<int64_t> bins_ = std::vector<int64_t>(kBins, 0);
  int64_t samples_ = 0;
};

}  // namespace bitline::core::analog_sram
