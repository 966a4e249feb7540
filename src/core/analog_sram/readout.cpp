#include "core/analog_sram/readout.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bitline::core::analog_sram {
namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Probability mass beyond this many sigmas is dropped from the sampled window.
constexpr double kWindowSigmas = 8.0;

}  // namespace

Readout::Readout(const Spec& spec, int chunk_bits, bool noisy)
    : levels_(spec.adc_levels()),
      max_mac_(((int64_t{1} << chunk_bits) - 1) * spec.rows_per_conversion),
      full_scale_(static_cast<double>(max_mac_) *
                  (spec.full_scale == FullScale::Calibrated ? spec.calibrated_fraction : 1.0)),
      noisy_(noisy && spec.noisy()),
      spec_(spec),
      converter_(noisy ? spec.converter : nullptr) {
  const float fs = static_cast<float>(full_scale_);
  const float levels = static_cast<float>(levels_);
  noiseless_code_.resize(static_cast<std::size_t>(max_mac_ + 1));
  for (int64_t m = 0; m <= max_mac_; ++m) {
    if (converter_) {
      noiseless_code_[static_cast<std::size_t>(m)] = converter_->code(analog_value(m));
      continue;
    }
    // The ideal transfer in float32, in ASiM's order of operations, for bit-exact parity:
    // v = clamp(m / FS, 0, 1); code = round(v * (2^B - 1)); m^ = code * FS / (2^B - 1).
    float v = static_cast<float>(m) / fs;
    if (spec.gain_compression_alpha > 0) v = v / (1.0f + static_cast<float>(spec.gain_compression_alpha) * v);
    if (spec.parasitic_capacitance_ratio > 0) v = v * static_cast<float>(charge_sharing_gain());
    v = std::clamp(v, 0.0f, 1.0f);
    noiseless_code_[static_cast<std::size_t>(m)] = static_cast<int32_t>(std::nearbyint(v * levels));
  }
  code_value_.resize(static_cast<std::size_t>(levels_ + 1));
  for (int c = 0; c <= levels_; ++c) code_value_[static_cast<std::size_t>(c)] = static_cast<float>(c) * fs / levels;

  lossless_ = !noisy_;
  for (int64_t m = 0; m <= max_mac_ && lossless_; ++m) {
    lossless_ = code_value_[static_cast<std::size_t>(noiseless_code(m))] == static_cast<float>(m);
  }
  if (!noisy_) return;

  first_code_.resize(static_cast<std::size_t>(max_mac_ + 1));
  threshold_offset_.resize(static_cast<std::size_t>(max_mac_ + 2));
  for (int64_t m = 0; m <= max_mac_; ++m) {
    const auto probabilities = code_probabilities(m);
    // Window: the codes holding all but ~1e-15 of the mass.
    int first = 0, last = levels_;
    const double sigma = sigma_fs(m);
    const double v = analog_value(m);
    if (converter_) {  // the codes of nonzero probability
      while (first < last && probabilities[static_cast<std::size_t>(first)] <= 0) ++first;
      while (last > first && probabilities[static_cast<std::size_t>(last)] <= 0) --last;
    } else if (sigma > 0) {
      // Clamped to the codes: with a calibrated (clipping) full scale v may lie far above 1, and all
      // of the mass then sits on the top code.
      first = std::clamp(static_cast<int>(std::floor((v - kWindowSigmas * sigma) * levels_)), 0, levels_);
      last = std::clamp(static_cast<int>(std::ceil((v + kWindowSigmas * sigma) * levels_)), first, levels_);
    } else {
      first = last = noiseless_code(m);
    }
    first_code_[static_cast<std::size_t>(m)] = first;
    threshold_offset_[static_cast<std::size_t>(m)] = static_cast<uint32_t>(thresholds_.size());
    double cumulative = 0;
    double window_mass = 0;
    for (int c = first; c <= last; ++c) window_mass += probabilities[static_cast<std::size_t>(c)];
    // Threshold k: uniform values >= it pick a code after first + k.
    for (int c = first; c < last; ++c) {
      cumulative += probabilities[static_cast<std::size_t>(c)] / window_mass;
      const double scaled = std::min(cumulative * 4294967296.0, 4294967295.0);
      thresholds_.push_back(static_cast<uint32_t>(scaled));
    }
  }
  threshold_offset_[static_cast<std::size_t>(max_mac_ + 1)] = static_cast<uint32_t>(thresholds_.size());
}

double Readout::charge_sharing_gain() const {
  const double n = static_cast<double>(spec_.rows_per_conversion);
  return n / (n + spec_.parasitic_capacitance_ratio);
}

double Readout::analog_value(int64_t mac) const {
  double v = static_cast<double>(mac) / full_scale_;
  if (spec_.gain_compression_alpha > 0) v = v / (1.0 + spec_.gain_compression_alpha * v);
  return v * charge_sharing_gain();
}

double Readout::sigma_fs(int64_t mac) const {
  const double m = static_cast<double>(mac);
  const double asim = spec_.asim_mac_sigma_fs / std::sqrt(m + 1.0);
  const double physical = spec_.physical_mac_sigma_fs * std::sqrt(m / full_scale_);
  return std::sqrt(spec_.additive_sigma_fs * spec_.additive_sigma_fs + asim * asim + physical * physical);
}

std::vector<double> Readout::code_probabilities(int64_t mac) const {
  std::vector<double> p(static_cast<std::size_t>(levels_ + 1), 0.0);
  const double v = analog_value(mac);
  const double sigma = noisy_ ? sigma_fs(mac) : 0.0;
  if (converter_) {
    std::vector<double> at_least(static_cast<std::size_t>(levels_) + 1, 0.0);  // at_least[levels] = 0
    converter_->exceedance(v, sigma, at_least.data());
    p[0] = std::max(0.0, 1.0 - at_least[0]);
    for (int c = 1; c <= levels_; ++c) {
      p[static_cast<std::size_t>(c)] = std::max(0.0, at_least[static_cast<std::size_t>(c) - 1] - at_least[static_cast<std::size_t>(c)]);
    }
    return p;
  }
  if (sigma <= 0) {
    p[static_cast<std::size_t>(noiseless_code(mac))] = 1.0;
    return p;
  }
  // code c collects v + noise in [(c - 1/2)/L, (c + 1/2)/L); the clamp to [0, 1] sends the tails to
  // codes 0 and L.
  auto below = [&](double edge) { return normal_cdf((edge - v) / sigma); };
  for (int c = 0; c <= levels_; ++c) {
    const double lo = c == 0 ? 0.0 : below((c - 0.5) / levels_);
    const double hi = c == levels_ ? 1.0 : below((c + 0.5) / levels_);
    p[static_cast<std::size_t>(c)] = std::max(0.0, hi - lo);
  }
  return p;
}

int32_t Readout::sample_code(int64_t mac, uint32_t uniform) const {
  const auto m = static_cast<std::size_t>(mac);
  const uint32_t* begin = thresholds_.data() + threshold_offset_[m];
  const uint32_t* end = thresholds_.data() + threshold_offset_[m + 1];
  int32_t code = first_code_[m];
  for (const uint32_t* t = begin; t != end && uniform >= *t; ++t) ++code;
  return code;
}

int32_t majority_vote(const int32_t* codes, int n, VoteTieRule rule) {
  // Fixed arrays, no allocation: the SIMD kernel calls this per voted conversion.
  int32_t sorted[32];
  std::copy(codes, codes + n, sorted);
  std::sort(sorted, sorted + n);
  int best_count = 0;
  int32_t tied[32] = {};  // the most frequent codes, ascending (n >= 1: at least one)
  int tied_count = 0;
  for (int start = 0; start < n;) {
    int end = start;
    while (end < n && sorted[end] == sorted[start]) ++end;
    const int count = end - start;
    if (count > best_count) {
      best_count = count;
      tied_count = 0;
    }
    if (count == best_count) tied[tied_count++] = sorted[start];
    start = end;
  }
  switch (rule) {
    case VoteTieRule::Smallest: return tied[0];
    case VoteTieRule::Largest: return tied[tied_count - 1];
    case VoteTieRule::ClosestToMean: {
      double mean = 0;
      for (int k = 0; k < n; ++k) mean += codes[k];
      mean /= n;
      int32_t best = tied[0];
      for (int k = 0; k < tied_count; ++k) {
        const int32_t c = tied[k];
        if (std::fabs(c - mean) < std::fabs(best - mean)) best = c;
      }
      return best;
    }
  }
  return tied[0];
}

}  // namespace bitline::core::analog_sram
