#include "core/adc/characterize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/counter_hash.h"

namespace bitline::core::adc {
namespace {

constexpr double kPi = 3.14159265358979323846;

// P(code >= k) at an input in LSB.
double exceed(const Converter& converter, double input_lsb, double sigma_fs, int k, std::vector<double>& scratch) {
  converter.exceedance(input_lsb / converter.levels(), sigma_fs, scratch.data());
  return scratch[static_cast<std::size_t>(k - 1)];
}

// Solves the 3x3 system a x = b (Gaussian elimination with partial pivoting).
void solve3(double a[3][3], double b[3], double x[3]) {
  for (int c = 0; c < 3; ++c) {
    int pivot = c;
    for (int r = c + 1; r < 3; ++r) {
      if (std::fabs(a[r][c]) > std::fabs(a[pivot][c])) pivot = r;
    }
    std::swap(a[c], a[pivot]);
    std::swap(b[c], b[pivot]);
    for (int r = c + 1; r < 3; ++r) {
      const double f = a[r][c] / a[c][c];
      for (int k = c; k < 3; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (int r = 2; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < 3; ++k) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
}

}  // namespace

int sample_code(const std::vector<double>& at_least, double u) {
  // code >= k with probability at_least[k - 1]: count the k with u < at_least[k - 1] (nonincreasing).
  int code = 0;
  while (code < static_cast<int>(at_least.size()) && u < at_least[static_cast<std::size_t>(code)]) ++code;
  return code;
}

Characterization characterize(const Converter& converter, const CharacterizeOptions& options) {
  const int levels = converter.levels();
  const double sigma_fs = options.noise_sigma_lsb / levels;
  std::vector<double> at_least(static_cast<std::size_t>(levels));
  Characterization result;

  // Ramp: exact moments of the code at each input.
  const int steps = options.ramp_steps_per_lsb;
  double squared_error = 0, energy = 0;
  int in_range = 0;
  std::vector<bool> reached(static_cast<std::size_t>(levels) + 1, false);
  for (int s = -steps; s <= (levels + 1) * steps; ++s) {
    RampPoint point;
    point.input_lsb = static_cast<double>(s) / steps;
    converter.exceedance(point.input_lsb / levels, sigma_fs, at_least.data());
    double mean = 0, second = 0;
    for (int k = 1; k <= levels; ++k) {
      const double p = at_least[static_cast<std::size_t>(k - 1)];
      mean += p;                // E[code] = sum_k P(code >= k)
      second += (2 * k - 1) * p;  // E[code^2] = sum_k (2k - 1) P(code >= k)
    }
    point.mean_code = mean;
    point.code_sigma = std::sqrt(std::max(0.0, second - mean * mean));
    point.median_code = median_code(at_least.data(), levels);
    point.energy_pj = converter.energy_pj(point.input_lsb / levels);
    reached[static_cast<std::size_t>(point.median_code)] = true;
    if (s >= 0 && s <= levels * steps) {
      // E[(code - x)^2] = Var + (E[code] - x)^2.
      squared_error += point.code_sigma * point.code_sigma + (mean - point.input_lsb) * (mean - point.input_lsb);
      energy += point.energy_pj;
      ++in_range;
    }
    result.ramp.push_back(point);
  }
  result.missing_codes = static_cast<int>(std::count(reached.begin(), reached.end(), false));
  result.ramp_rms_error_lsb = std::sqrt(squared_error / in_range);
  result.ramp_enob_bits = converter.bits() - std::log2(result.ramp_rms_error_lsb * std::sqrt(12.0));
  result.energy_mean_pj = energy / in_range;
  result.energy_mid_scale_pj = converter.energy_pj(0.5);
  result.energy_full_scale_pj = converter.energy_pj(1.0);

  // Transition levels by bisection on the (nondecreasing) P(code >= k) over [-2, levels + 2] LSB.
  const double lo_limit = -2.0, hi_limit = levels + 2.0;
  for (int k = 1; k <= levels; ++k) {
    double lo = lo_limit, hi = hi_limit;
    if (exceed(converter, hi, sigma_fs, k, at_least) < 0.5 || exceed(converter, lo, sigma_fs, k, at_least) >= 0.5) {
      result.transition_lsb.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    for (int iteration = 0; iteration < 60; ++iteration) {
      const double mid = 0.5 * (lo + hi);
      (exceed(converter, mid, sigma_fs, k, at_least) >= 0.5 ? hi : lo) = mid;
    }
    result.transition_lsb.push_back(hi);
  }
  auto finite = result.transition_lsb;
  for (auto& t : finite) {
    if (std::isnan(t)) t = hi_limit;  // a code never reached counts as a threshold past the range
  }
  result.linearity = linearity(finite);
  // The maxima cover the codes that occur (and the steps between two of them).
  result.linearity.max_abs_inl_lsb = result.linearity.max_abs_dnl_lsb = 0;
  for (int k = 0; k < levels; ++k) {
    const auto i = static_cast<std::size_t>(k);
    if (std::isnan(result.transition_lsb[i])) continue;
    result.linearity.max_abs_inl_lsb = std::max(result.linearity.max_abs_inl_lsb, std::fabs(result.linearity.inl_lsb[i]));
    if (k + 1 < levels && !std::isnan(result.transition_lsb[i + 1])) {
      result.linearity.max_abs_dnl_lsb = std::max(result.linearity.max_abs_dnl_lsb, std::fabs(result.linearity.dnl_lsb[i]));
    }
  }

  // Sine test: coherent samples converted with their own randomness, then a least-squares fit of
  // A cos + B sin + C at the known frequency; SNDR = fitted power / residual power.
  const int n = options.sine_samples;
  double normal[3][3] = {}, rhs[3] = {};
  std::vector<double> codes(static_cast<std::size_t>(n)), basis_cos(codes.size()), basis_sin(codes.size());
  for (int i = 0; i < n; ++i) {
    const double phase = 2 * kPi * options.sine_cycles * i / n;
    const double v = 0.5 + options.sine_amplitude_fs * std::sin(phase);
    converter.exceedance(v, sigma_fs, at_least.data());
    const double u = static_cast<double>(counter_hash(options.seed, static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53;
    codes[static_cast<std::size_t>(i)] = sample_code(at_least, u);
    basis_cos[static_cast<std::size_t>(i)] = std::cos(phase);
    basis_sin[static_cast<std::size_t>(i)] = std::sin(phase);
    const double row[3] = {basis_cos[static_cast<std::size_t>(i)], basis_sin[static_cast<std::size_t>(i)], 1.0};
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) normal[r][c] += row[r] * row[c];
      rhs[r] += row[r] * codes[static_cast<std::size_t>(i)];
    }
  }
  double fit[3];
  solve3(normal, rhs, fit);
  double residual = 0;
  for (int i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double e = codes[k] - (fit[0] * basis_cos[k] + fit[1] * basis_sin[k] + fit[2]);
    residual += e * e;
  }
  const double signal_power = 0.5 * (fit[0] * fit[0] + fit[1] * fit[1]);
  result.sine_sndr_db = 10 * std::log10(signal_power / std::max(residual / n, 1e-300));
  result.sine_enob_bits = (result.sine_sndr_db - 1.76) / 6.02;
  return result;
}

}  // namespace bitline::core::adc
