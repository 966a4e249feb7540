#pragma once
// Column ADC models (spec/papers.md §4; docs/adc.md). A converter maps the analog column value v,
// a fraction of the ADC's full scale, to a code in [0, 2^bits - 1]. Every model is described by
// the probabilities P(code >= k | v), which also cover Gaussian noise before the converter and
// converters with randomness of their own (a CCO's initial phase). A macro therefore samples any
// of them from one per-MAC table (DESIGN.md, performance notes).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bitline::core::adc {

class Converter {
 public:
  explicit Converter(int bits);
  virtual ~Converter() = default;
  int bits() const { return bits_; }
  int levels() const { return (1 << bits_) - 1; }
  // at_least[k - 1] = P(code >= k), k = 1..levels, for input v (fraction of full scale) plus
  // Gaussian noise of sigma_fs (fraction of full scale, >= 0).
  virtual void exceedance(double v, double sigma_fs, double* at_least) const = 0;
  // True when the code is random even without input noise.
  virtual bool random() const { return false; }
  // The code without input noise: #{k : P(code >= k) >= 1/2}, the median code of a random
  // converter and the code itself of a deterministic one.
  int code(double v) const;
  // Energy of one conversion of input v (pJ); 0 when the model has no energy figure.
  virtual double energy_pj(double /*v*/) const { return 0.0; }
  // Time of one conversion (ns); 0 when the model has no timing.
  virtual double conversion_ns() const { return 0.0; }
  // One line naming the model and its parameters, for reports.
  virtual std::string description() const = 0;

 private:
  int bits_;
};

// A static transfer given by its code thresholds: code(v) = #{k : v >= T(k)}, T(k) the input level
// at which code k starts (papers.md §4(b)). Thresholds are in LSB, 1 LSB = full scale / levels;
// the ideal converter (ASiM's rounding) has T(k) = k - 1/2.
class ThresholdConverter : public Converter {
 public:
  // Throws std::invalid_argument naming the code when the thresholds are not finite and
  // nondecreasing or there are not `levels` of them.
  ThresholdConverter(int bits, std::vector<double> thresholds_lsb);
  static std::vector<double> ideal_thresholds_lsb(int bits);
  // T(k) = k - 1/2 + INL(k); inl_lsb has `levels` entries (codes 1..levels).
  static ThresholdConverter from_inl(int bits, const std::vector<double>& inl_lsb);
  // T(1) = 1/2 (the first transition taken as ideal [assumption]), T(k + 1) = T(k) + 1 + DNL(k);
  // dnl_lsb has levels - 1 entries (codes 1..levels - 1).
  static ThresholdConverter from_dnl(int bits, const std::vector<double>& dnl_lsb);

  const std::vector<double>& thresholds_lsb() const { return thresholds_lsb_; }
  void exceedance(double v, double sigma_fs, double* at_least) const override;
  std::string description() const override;

 private:
  std::vector<double> thresholds_lsb_;
};

// The median code of a distribution given as at_least[k - 1] = P(code >= k), k = 1..levels:
// #{k : P(code >= k) >= 1/2}.
int median_code(const double* at_least, int levels);

// Mean energy of one conversion (pJ) over inputs spread uniformly across the full scale.
double mean_energy_pj(const Converter& converter);

// Static linearity of a transfer from its thresholds (papers.md §4(b)):
// INL(k) = T(k) - (k - 1/2) for k = 1..levels, DNL(k) = T(k + 1) - T(k) - 1 for k = 1..levels - 1,
// both in LSB.
struct Linearity {
  std::vector<double> inl_lsb, dnl_lsb;
  double max_abs_inl_lsb = 0, max_abs_dnl_lsb = 0;
};
Linearity linearity(const std::vector<double>& thresholds_lsb);

// One process corner at one supply voltage of a current-controlled ring oscillator:
// f(I) = f0 + K I / (1 + I / Isat) (papers.md §4(b)).
struct CcoOperatingPoint {
  std::string corner;
  double vdd_v = 0;
  double f0_mhz = 0;           // free-running frequency at zero column current
  double gain_mhz_per_ua = 0;  // K
  double isat_ua = 0;          // saturation current of the frequency curve
  double frequency_mhz(double current_ua) const;
};

// Built-in operating points [assumed, docs/adc.md]: corners TT, FF, SS at 0.6 to 1.0 V from an
// alpha-power-law drive model; not measured silicon. Users supply their own table instead.
std::vector<CcoOperatingPoint> default_cco_operating_points();
// The point of `corner` at `vdd_v`, interpolated linearly in V_DD between the table's two nearest
// points of that corner. Throws std::invalid_argument when the corner is missing or V_DD lies
// outside its range.
CcoOperatingPoint cco_operating_point(const std::vector<CcoOperatingPoint>& table, const std::string& corner,
                                      double vdd_v);

struct CcoDesign {
  int bits = 6;
  double full_scale_current_ua = 5;   // column current at full scale
  double c_eff_ff = 10;               // switched capacitance per oscillation (ring and counter)
  CcoOperatingPoint design;           // the point the counting window is sized at
  CcoOperatingPoint operating;        // the point it runs at
  bool offset_calibrated = true;      // the zero-input count is measured and subtracted at `operating`
};

// A CCO ADC (papers.md §4(b)): I = v * I_fs (v < 0 gives I = 0), count = floor(f(I) T + phi) with
// phi ~ U[0, 1), code = clip(count - N0, 0, levels). The window T is sized at the design point so
// that full scale spans all levels, T = levels / (f_d(I_fs) - f_d(0)); N0 = round(f(0) T) at the
// operating point (offset_calibrated) or at the design point. Energy per conversion
// = C_eff V_DD^2 f(I) T (power C V^2 f over the window). Input noise enters to first order: the
// count is taken as Gaussian with sigma x'(v) sigma_v before the phase (the curvature term is
// ~1e-4 LSB at the defaults).
class CcoConverter : public Converter {
 public:
  explicit CcoConverter(const CcoDesign& design);
  const CcoDesign& design() const { return design_; }
  double window_ns() const { return window_ns_; }
  int offset_counts() const { return offset_counts_; }
  // The mean count above the offset, f(I) T - N0, before the phase and clipping.
  double ideal_count(double v) const;
  void exceedance(double v, double sigma_fs, double* at_least) const override;
  bool random() const override { return true; }
  double energy_pj(double v) const override;
  double conversion_ns() const override { return window_ns_; }
  std::string description() const override;

 private:
  CcoDesign design_;
  double window_ns_ = 0;
  int offset_counts_ = 0;
};

// Per-column gain and offset variation of one chip instance (papers.md §4(b)): the column sees
// v' = g v + o LSB with g ~ N(1, gain_sigma^2) and o ~ N(0, offset_sigma_lsb^2), a pure function of
// (chip_seed, column key).
struct Variation {
  double gain_sigma = 0;  // relative (0.02 = 2 %)
  double offset_sigma_lsb = 0;
  uint64_t chip_seed = 0;
  bool any() const { return gain_sigma > 0 || offset_sigma_lsb > 0; }
};
struct ColumnError {
  double gain = 1, offset_lsb = 0;
};
ColumnError column_error(const Variation& variation, uint64_t column_key);

// A converter seen through a column's gain and offset error.
class ColumnConverter : public Converter {
 public:
  ColumnConverter(std::shared_ptr<const Converter> converter, ColumnError error);
  void exceedance(double v, double sigma_fs, double* at_least) const override;
  bool random() const override { return converter_->random(); }
  double energy_pj(double v) const override { return converter_->energy_pj(input(v)); }
  double conversion_ns() const override { return converter_->conversion_ns(); }
  std::string description() const override;

 private:
  double input(double v) const;
  std::shared_ptr<const Converter> converter_;
  ColumnError error_;
};

}  // namespace bitline::core::adc
