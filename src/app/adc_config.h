#pragma once
// The config of a column ADC (docs/adc.md): the `adc` section of an analog_sram macro and of
// `bitline adc`. app/adc_model.h builds the converter it describes.
#include <cstdint>
#include <string>
#include <vector>

#include "app/config_schema.h"

namespace bitline::app {

struct AdcTableConfig {
  std::string thresholds_csv;
  std::string inl_csv;
  std::string dnl_csv;
};
template <class V>
void describe(V& v, AdcTableConfig& c) {
  v.field("thresholds_csv", c.thresholds_csv,
          Doc("CSV with columns code, threshold_lsb: the input level (LSB) at which each code 1..2^bits-1 starts "
              "(ideal: code - 0.5); path relative to the working directory. Any of the three tables may add a "
              "column `column` (0, 1, ...): one table per physical column of the array, o * weight_bits + i, "
              "repeated for wider layers"));
  v.field("inl_csv", c.inl_csv, Doc("CSV with columns code, inl_lsb for codes 1..2^bits-1: threshold = code - 0.5 + INL"));
  v.field("dnl_csv", c.dnl_csv,
          Doc("CSV with columns code, dnl_lsb for codes 1..2^bits-2: threshold(code + 1) = threshold(code) + 1 + DNL, "
              "the first threshold ideal [assumption]"));
}

struct CcoConfig {
  std::string corner = "TT";
  double vdd_v = 0.9;
  std::string design_corner = "TT";
  double design_vdd_v = 0.9;
  double full_scale_current_ua = 5;
  double c_eff_ff = 10;
  bool offset_calibrated = true;
  std::string operating_points_csv;
};
template <class V>
void describe(V& v, CcoConfig& c) {
  v.field("corner", c.corner, Doc("process corner the ADC runs at (a corner of the operating-point table)"));
  v.field("vdd_v", c.vdd_v, Doc("supply voltage it runs at; interpolated linearly between the table's points").unit("V").above(0, 5));
  v.field("design_corner", c.design_corner, Doc("corner at which the counting window was sized"));
  v.field("design_vdd_v", c.design_vdd_v,
          Doc("supply at which the counting window was sized so that full scale spans all codes").unit("V").above(0, 5));
  v.field("full_scale_current_ua", c.full_scale_current_ua,
          Doc("column current at full scale [assumed default]").unit("uA").above(0, 1e6));
  v.field("c_eff_ff", c.c_eff_ff,
          Doc("capacitance switched per oscillation; energy per conversion = C V^2 f T [assumed default]").unit("fF").range(0, 1e6));
  v.field("offset_calibrated", c.offset_calibrated,
          Doc("subtract the zero-input count measured at the operating point (true) or at the design point (false)"));
  v.field("operating_points_csv", c.operating_points_csv,
          Doc("CSV with columns corner, vdd_v, f0_mhz, gain_mhz_per_ua, isat_ua (f = f0 + K I / (1 + I / Isat)); "
              "empty: the built-in TT/FF/SS table at 0.6-1.0 V [assumed, docs/adc.md]"));
}

struct AdcVariationConfig {
  double gain_sigma_percent = 0;
  double offset_sigma_lsb = 0;
  int64_t chip_seed = 1;
};
template <class V>
void describe(V& v, AdcVariationConfig& c) {
  v.field("gain_sigma_percent", c.gain_sigma_percent,
          Doc("per-column gain error g ~ N(1, sigma^2) of the column readout: v -> g v + o").unit("%").range(0, 100));
  v.field("offset_sigma_lsb", c.offset_sigma_lsb, Doc("per-column offset error o ~ N(0, sigma^2)").unit("LSB").range(0, 1000));
  v.field("chip_seed", c.chip_seed,
          Doc("the chip instance: each physical column's (gain, offset) is a function of this seed and the column")
              .range(0, 9.0e15));
}

struct AdcConfig {
  int64_t bits = 8;
  std::string full_scale = "asim_full_range";
  double calibration_percentile = 99.99;
  std::string model = "ideal";
  AdcTableConfig table;
  CcoConfig cco;
  AdcVariationConfig variation;
};
template <class V>
void describe(V& v, AdcConfig& c) {
  v.field("bits", c.bits, Doc("ADC resolution").unit("bits").range(1, 16));
  v.field("full_scale", c.full_scale,
          Doc("ADC input range: asim_full_range = (2^e - 1) * rows_per_conversion MAC units (ASiM), or calibrated "
              "per layer from partial-sum statistics, clipping above")
              .choices({"asim_full_range", "calibrated"}));
  v.field("calibration_percentile", c.calibration_percentile,
          Doc("calibrated: the full scale is this percentile of the layer's partial sums").unit("%").above(0, 100));
  v.field("model", c.model,
          Doc("converter: ideal (ASiM's rounding, exact parity), table (thresholds or INL/DNL from a CSV) or cco "
              "(current-controlled oscillator ADC); docs/adc.md")
              .choices({"ideal", "table", "cco"}));
  v.section("table", c.table, Doc("model table: exactly one of the three CSV files"));
  v.section("cco", c.cco, Doc("model cco: operating point and design of the oscillator ADC"));
  v.section("variation", c.variation,
            Doc("per-column gain/offset mismatch of one chip instance (any model; runs on the scalar path)"));
}

}  // namespace bitline::app
