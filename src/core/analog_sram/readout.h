#pragma once
// The column readout of one kind of conversion cycle: analog MAC m -> (compression, noise, clamp,
// ADC) -> code -> reconstructed MAC m^. Because m takes only (2^e - 1) N + 1 values, the noise-free
// transfer is a lookup table over m, and the noisy one a per-m discrete distribution over a few
// codes, sampled with one 32-bit uniform (DESIGN.md, performance notes).
#include <cstdint>
#include <vector>

#include "core/analog_sram/spec.h"

namespace bitline::core::analog_sram {

class Readout {
 public:
  // chunk_bits: input bits converted together (e); noisy: whether this cycle kind has noise.
  Readout(const Spec& spec, int chunk_bits, bool noisy);

  int64_t max_mac() const { return max_mac_; }
  double full_scale() const { return full_scale_; }
  // True when the readout returns m exactly for every m (no noise, no information lost).
  bool lossless() const { return lossless_; }

  int32_t noiseless_code(int64_t mac) const { return noiseless_code_[static_cast<std::size_t>(mac)]; }
  float value(int32_t code) const { return code_value_[static_cast<std::size_t>(code)]; }
  // A code drawn from the per-m distribution with a uniform 32-bit random number.
  int32_t sample_code(int64_t mac, uint32_t uniform) const;
  // The readout of one conversion (noisy when constructed so).
  float convert(int64_t mac, uint32_t uniform) const {
    return value(noisy_ ? sample_code(mac, uniform) : noiseless_code(mac));
  }
  // Probability of each code for a MAC value (the analytic model the sampler follows).
  std::vector<double> code_probabilities(int64_t mac) const;
  // Standard deviation of the analog value (fraction of full scale) at a MAC value.
  double sigma_fs(int64_t mac) const;
  // The analog value the ADC sees, a fraction of full scale, before noise: m / FS through the gain
  // compression and the parasitic charge sharing.
  double analog_value(int64_t mac) const;
  // N / (N + C_par / C_u): charge sharing with the bitline's parasitic capacitance.
  double charge_sharing_gain() const;
  // The sampler's tables (noisy readouts): sample_code(mac, u) = first_code(mac) + the number of
  // thresholds t of `mac` with u >= t. Thresholds are nondecreasing; for noise-free readouts
  // first_code is the noiseless code and there are none.
  bool noisy() const { return noisy_; }
  int32_t first_code(int64_t mac) const {
    return noisy_ ? first_code_[static_cast<std::size_t>(mac)] : noiseless_code(mac);
  }
  int threshold_count(int64_t mac) const {
    return noisy_ ? static_cast<int>(threshold_offset_[static_cast<std::size_t>(mac) + 1] -
                                     threshold_offset_[static_cast<std::size_t>(mac)])
                  : 0;
  }
  const uint32_t* thresholds(int64_t mac) const {
    return noisy_ ? thresholds_.data() + threshold_offset_[static_cast<std::size_t>(mac)] : nullptr;
  }
  int levels() const { return levels_; }

 private:
  int levels_;
  int64_t max_mac_;
  double full_scale_;
  bool noisy_, lossless_ = false;
  const Spec spec_;
  std::shared_ptr<const adc::Converter> converter_;  // null: ASiM's ideal rounding
  std::vector<int32_t> noiseless_code_;
  std::vector<float> code_value_;
  // Noisy: for each m, its first code and cumulative thresholds (scaled to 2^32) of the codes after it.
  std::vector<int32_t> first_code_;
  std::vector<uint32_t> threshold_offset_;
  std::vector<uint32_t> thresholds_;
};

// The most frequent of `codes` (n >= 1), ties resolved by `rule`.
int32_t majority_vote(const int32_t* codes, int n, VoteTieRule rule);

}  // namespace bitline::core::analog_sram
