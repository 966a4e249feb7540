#include "core/adc/converter.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/counter_hash.h"

namespace bitline::core::adc {
namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

// Beyond this many sigmas a Gaussian tail (< 1e-19) is taken as zero.
constexpr double kTailSigmas = 9.0;

// A standard normal value from a 64-bit hash (Box-Muller on two 26-bit uniforms; only
// chip-instance sampling uses it, never a conversion).
double standard_normal(uint64_t h) {
  const double u1 = (static_cast<double>(h >> 38) + 0.5) * 0x1.0p-26;
  const double u2 = static_cast<double>((h >> 12) & ((uint64_t{1} << 26) - 1)) * 0x1.0p-26;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

Converter::Converter(int bits) : bits_(bits) { require(bits >= 1 && bits <= 16, "ADC bits must be in [1, 16]"); }

int median_code(const double* at_least, int levels) {
  int code = 0;
  while (code < levels && at_least[code] >= 0.5) ++code;
  return code;
}

int Converter::code(double v) const {
  std::vector<double> at_least(static_cast<std::size_t>(levels()));
  exceedance(v, 0.0, at_least.data());
  return median_code(at_least.data(), levels());
}

double mean_energy_pj(const Converter& converter) {
  constexpr int kPoints = 1024;
  double total = 0;
  for (int k = 0; k < kPoints; ++k) total += converter.energy_pj((k + 0.5) / kPoints);
  return total / kPoints;
}

// ---- ThresholdConverter ------------------------------------------------------------------------

ThresholdConverter::ThresholdConverter(int bits, std::vector<double> thresholds_lsb)
    : Converter(bits), thresholds_lsb_(std::move(thresholds_lsb)) {
  require(static_cast<int>(thresholds_lsb_.size()) == levels(),
          "a " + std::to_string(bits) + "-bit ADC needs " + std::to_string(levels()) + " thresholds (codes 1.." +
              std::to_string(levels()) + "), found " + std::to_string(thresholds_lsb_.size()));
  for (std::size_t k = 0; k < thresholds_lsb_.size(); ++k) {
    require(std::isfinite(thresholds_lsb_[k]), "threshold of code " + std::to_string(k + 1) + " is not finite");
    if (k > 0) {
      std::ostringstream message;
      message << "thresholds must be nondecreasing: code " << k + 1 << " starts at " << thresholds_lsb_[k]
              << " LSB, below code " << k << " at " << thresholds_lsb_[k - 1] << " LSB";
      require(thresholds_lsb_[k] >= thresholds_lsb_[k - 1], message.str());
    }
  }
}

std::vector<double> ThresholdConverter::ideal_thresholds_lsb(int bits) {
  std::vector<double> thresholds(static_cast<std::size_t>((1 << bits) - 1));
  for (std::size_t k = 0; k < thresholds.size(); ++k) thresholds[k] = static_cast<double>(k) + 0.5;
  return thresholds;
}

ThresholdConverter ThresholdConverter::from_inl(int bits, const std::vector<double>& inl_lsb) {
  auto thresholds = ideal_thresholds_lsb(bits);
  require(inl_lsb.size() == thresholds.size(), "a " + std::to_string(bits) + "-bit ADC needs " +
                                                   std::to_string(thresholds.size()) + " INL values (codes 1.." +
                                                   std::to_string(thresholds.size()) + "), found " +
                                                   std::to_string(inl_lsb.size()));
  for (std::size_t k = 0; k < thresholds.size(); ++k) thresholds[k] += inl_lsb[k];
  return ThresholdConverter(bits, std::move(thresholds));
}

ThresholdConverter ThresholdConverter::from_dnl(int bits, const std::vector<double>& dnl_lsb) {
  auto thresholds = ideal_thresholds_lsb(bits);
  require(dnl_lsb.size() + 1 == thresholds.size(), "a " + std::to_string(bits) + "-bit ADC needs " +
                                                       std::to_string(thresholds.size() - 1) +
                                                       " DNL values (codes 1.." +
                                                       std::to_string(thresholds.size() - 1) + "), found " +
                                                       std::to_string(dnl_lsb.size()));
  for (std::size_t k = 1; k < thresholds.size(); ++k) {
    require(dnl_lsb[k - 1] >= -1.0, "DNL of code " + std::to_string(k) + " is below -1 LSB (" +
                                        std::to_string(dnl_lsb[k - 1]) + "): the thresholds would decrease");
    thresholds[k] = thresholds[k - 1] + 1.0 + dnl_lsb[k - 1];
  }
  return ThresholdConverter(bits, std::move(thresholds));
}

void ThresholdConverter::exceedance(double v, double sigma_fs, double* at_least) const {
  const double v_lsb = v * levels();
  const double sigma_lsb = sigma_fs * levels();
  for (std::size_t k = 0; k < thresholds_lsb_.size(); ++k) {
    const double z = sigma_lsb > 0 ? (v_lsb - thresholds_lsb_[k]) / sigma_lsb : 0.0;
    if (sigma_lsb <= 0 || std::fabs(z) > kTailSigmas) {  // Phi(z) is 0 or 1 to within 1e-19
      at_least[k] = v_lsb >= thresholds_lsb_[k] ? 1.0 : 0.0;
    } else {
      at_least[k] = normal_cdf(z);
    }
  }
}

std::string ThresholdConverter::description() const {
  const auto shape = linearity(thresholds_lsb_);
  std::ostringstream text;
  text << bits() << "-bit threshold ADC, max |INL| " << shape.max_abs_inl_lsb << " LSB, max |DNL| "
       << shape.max_abs_dnl_lsb << " LSB";
  return text.str();
}

Linearity linearity(const std::vector<double>& thresholds_lsb) {
  Linearity result;
  for (std::size_t k = 0; k < thresholds_lsb.size(); ++k) {
    result.inl_lsb.push_back(thresholds_lsb[k] - (static_cast<double>(k) + 0.5));
    result.max_abs_inl_lsb = std::max(result.max_abs_inl_lsb, std::fabs(result.inl_lsb.back()));
    if (k + 1 < thresholds_lsb.size()) {
      result.dnl_lsb.push_back(thresholds_lsb[k + 1] - thresholds_lsb[k] - 1.0);
      result.max_abs_dnl_lsb = std::max(result.max_abs_dnl_lsb, std::fabs(result.dnl_lsb.back()));
    }
  }
  return result;
}

// ---- CCO ---------------------------------------------------------------------------------------

double CcoOperatingPoint::frequency_mhz(double current_ua) const {
  const double i = std::max(current_ua, 0.0);
  return f0_mhz + gain_mhz_per_ua * i / (1.0 + i / isat_ua);
}

std::vector<CcoOperatingPoint> default_cco_operating_points() {
  // Alpha-power-law drive (Sakurai-Newton, alpha = 1.3), normalised to TT at 0.9 V:
  // drive = m ((V - Vth) / (0.9 - 0.35))^1.3. A current-starved ring oscillates at I / (n C V), so
  // f0 = 100 MHz * drive * 0.9 / V, K = 20 MHz/uA * 0.9 / V, and the starving transistor saturates
  // at Isat = 100 uA * drive. Corners shift Vth by -+50 mV with mobility factor m = 1.15 / 0.87.
  struct Corner {
    const char* name;
    double vth_v, mobility;
  };
  const Corner corners[] = {{"TT", 0.35, 1.0}, {"FF", 0.30, 1.15}, {"SS", 0.40, 0.87}};
  std::vector<CcoOperatingPoint> points;
  for (const auto& corner : corners) {
    for (double vdd : {0.6, 0.7, 0.8, 0.9, 1.0}) {
      const double drive = corner.mobility * std::pow((vdd - corner.vth_v) / (0.9 - 0.35), 1.3);
      points.push_back({corner.name, vdd, 100.0 * drive * 0.9 / vdd, 20.0 * 0.9 / vdd, 100.0 * drive});
    }
  }
  return points;
}

CcoOperatingPoint cco_operating_point(const std::vector<CcoOperatingPoint>& table, const std::string& corner,
                                      double vdd_v) {
  std::vector<CcoOperatingPoint> same;
  for (const auto& p : table) {
    if (p.corner == corner) same.push_back(p);
  }
  require(!same.empty(), "no CCO operating point for corner '" + corner + "'");
  std::sort(same.begin(), same.end(), [](const auto& a, const auto& b) { return a.vdd_v < b.vdd_v; });
  for (std::size_t k = 1; k < same.size(); ++k) {
    require(same[k].vdd_v > same[k - 1].vdd_v,
            "corner '" + corner + "' lists V_DD " + std::to_string(same[k].vdd_v) + " V twice");
  }
  std::ostringstream range;
  range << "V_DD " << vdd_v << " V is outside corner " << corner << "'s table range [" << same.front().vdd_v << ", "
        << same.back().vdd_v << "] V";
  require(vdd_v >= same.front().vdd_v - 1e-12 && vdd_v <= same.back().vdd_v + 1e-12, range.str());
  if (same.size() == 1) return same.front();
  std::size_t hi = 1;
  while (hi + 1 < same.size() && same[hi].vdd_v < vdd_v) ++hi;
  const auto& lo_point = same[hi - 1];
  const auto& hi_point = same[hi];
  const double t = std::clamp((vdd_v - lo_point.vdd_v) / (hi_point.vdd_v - lo_point.vdd_v), 0.0, 1.0);
  auto mix = [t](double a, double b) { return a + t * (b - a); };
  return {corner, vdd_v, mix(lo_point.f0_mhz, hi_point.f0_mhz), mix(lo_point.gain_mhz_per_ua, hi_point.gain_mhz_per_ua),
          mix(lo_point.isat_ua, hi_point.isat_ua)};
}

CcoConverter::CcoConverter(const CcoDesign& design) : Converter(design.bits), design_(design) {
  require(design.full_scale_current_ua > 0, "CCO full_scale_current_ua must be > 0");
  require(design.c_eff_ff >= 0, "CCO c_eff_ff must be >= 0");
  for (const auto* point : {&design.design, &design.operating}) {
    require(point->vdd_v > 0 && point->gain_mhz_per_ua > 0 && point->isat_ua > 0 && point->f0_mhz >= 0,
            "CCO operating point " + point->corner + " needs vdd_v, gain_mhz_per_ua, isat_ua > 0 and f0_mhz >= 0");
  }
  const double span_mhz = design.design.frequency_mhz(design.full_scale_current_ua) - design.design.f0_mhz;
  window_ns_ = static_cast<double>(levels()) / span_mhz * 1e3;
  const auto& offset_point = design.offset_calibrated ? design.operating : design.design;
  offset_counts_ = static_cast<int>(std::lround(offset_point.f0_mhz * window_ns_ * 1e-3));
}

double CcoConverter::ideal_count(double v) const {
  return design_.operating.frequency_mhz(v * design_.full_scale_current_ua) * window_ns_ * 1e-3 - offset_counts_;
}

void CcoConverter::exceedance(double v, double sigma_fs, double* at_least) const {
  // P(code >= k | x) = clip(x - k + 1, 0, 1) for a uniform phase.
  const int n = levels();
  const double x = ideal_count(v);
  if (sigma_fs <= 0) {
    for (int k = 1; k <= n; ++k) at_least[k - 1] = std::clamp(x - k + 1, 0.0, 1.0);
    return;
  }
  // With input noise the count is, to first order in sigma, Gaussian: x + s n with s = x'(v) sigma
  // (the curvature of f(I) adds ~x'' sigma^2 / 2, a few 1e-4 LSB at the defaults), and
  // E[clip(x + s n - k + 1, 0, 1)] = s (G((x - k + 1) / s) - G((x - k) / s)), G(z) = z Phi(z) + phi(z).
  const double step = 1e-6;
  const double slope = (ideal_count(v + step) - ideal_count(v - step)) / (2 * step);
  const double s = std::max(slope * sigma_fs, 1e-12);
  auto integral = [](double z) { return z * normal_cdf(z) + std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI); };
  for (int k = 1; k <= n; ++k) {
    const double upper = (x - k + 1) / s, lower = (x - k) / s;
    if (lower > kTailSigmas) {
      at_least[k - 1] = 1.0;
    } else if (upper < -kTailSigmas) {
      at_least[k - 1] = 0.0;
    } else {
      at_least[k - 1] = std::clamp(s * (integral(upper) - integral(lower)), 0.0, 1.0);
    }
  }
}

double CcoConverter::energy_pj(double v) const {
  // C V^2 per oscillation (fF V^2 = 1e-3 pJ), f(I) T oscillations (MHz ns = 1e-3).
  const double oscillations = design_.operating.frequency_mhz(std::max(v, 0.0) * design_.full_scale_current_ua) *
                              window_ns_ * 1e-3;
  return design_.c_eff_ff * design_.operating.vdd_v * design_.operating.vdd_v * oscillations * 1e-3;
}

std::string CcoConverter::description() const {
  std::ostringstream text;
  text << bits() << "-bit CCO ADC at " << design_.operating.corner << " " << design_.operating.vdd_v
       << " V (window " << window_ns_ << " ns sized at " << design_.design.corner << " " << design_.design.vdd_v
       << " V, offset " << offset_counts_ << " counts)";
  return text.str();
}

// ---- Variation ---------------------------------------------------------------------------------

ColumnError column_error(const Variation& variation, uint64_t column_key) {
  ColumnError error;
  if (variation.gain_sigma > 0) {
    error.gain = 1.0 + variation.gain_sigma * standard_normal(counter_hash(variation.chip_seed, column_key, 1));
  }
  if (variation.offset_sigma_lsb > 0) {
    error.offset_lsb = variation.offset_sigma_lsb * standard_normal(counter_hash(variation.chip_seed, column_key, 2));
  }
  return error;
}

ColumnConverter::ColumnConverter(std::shared_ptr<const Converter> converter, ColumnError error)
    : Converter(converter->bits()), converter_(std::move(converter)), error_(error) {}

double ColumnConverter::input(double v) const { return error_.gain * v + error_.offset_lsb / levels(); }

void ColumnConverter::exceedance(double v, double sigma_fs, double* at_least) const {
  converter_->exceedance(input(v), sigma_fs, at_least);
}

std::string ColumnConverter::description() const {
  std::ostringstream text;
  text << converter_->description() << ", column gain " << error_.gain << ", offset " << error_.offset_lsb << " LSB";
  return text.str();
}

}  // namespace bitline::core::adc
