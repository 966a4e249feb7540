#pragma once
// The analog SRAM macro type (ASiM; docs/macros/analog_sram.md) in the app: its config section
// (macros[].analog_sram) and its registration traits (app/macros/registry.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/adc_config.h"
#include "app/config_schema.h"
#include "app/macros/macro_example.h"
#include "core/analog_sram/spec.h"
#include "core/macro.h"

namespace bitline::app {

struct LayerQuantizationConfig;

struct NoiseConfig {
  double additive_sigma_lsb = 0;
  std::optional<double> additive_sigma_fs_percent;
  double asim_mac_sigma_fs_percent = 0;
  double physical_sigma_fs_percent = 0;
  double gain_compression_alpha = 0;
  double parasitic_capacitance_ratio = 0;
};
template <class V>
void describe(V& v, NoiseConfig& c) {
  v.field("additive_sigma_lsb", c.additive_sigma_lsb,
          Doc("Gaussian noise added before the ADC, in ADC LSB (1 LSB = 1/(2^bits - 1) of full scale)")
              .unit("LSB").range(0, 1000));
  v.field("additive_sigma_fs_percent", c.additive_sigma_fs_percent,
          Doc("the same noise in percent of full scale (ASiM's rand_noise_sigma); null = use additive_sigma_lsb")
              .unit("% FS").range(0, 100));
  v.field("asim_mac_sigma_fs_percent", c.asim_mac_sigma_fs_percent,
          Doc("ASiM's MAC-dependent noise: sigma / sqrt(m + 1), sigma in percent of full scale (non_linear_sigma)")
              .unit("% FS").range(0, 100));
  v.field("physical_sigma_fs_percent", c.physical_sigma_fs_percent,
          Doc("noise growing as sqrt(m): sigma * sqrt(m / full scale), sigma in percent of full scale [assumed model]")
              .unit("% FS").range(0, 100));
  v.field("gain_compression_alpha", c.gain_compression_alpha,
          Doc("current-domain gain compression v -> v / (1 + alpha v), v = MAC / full scale (ASiM's current domain)")
              .range(0, 100));
  v.field("parasitic_capacitance_ratio", c.parasitic_capacitance_ratio,
          Doc("charge domain: bitline parasitic over unit cell capacitance C_par / C_u; v -> v N / (N + C_par / C_u)")
              .range(0, 1e6));
}

struct HybridConfig {
  int64_t levels = 0;
  std::string top_levels = "digital";
  int64_t vote_samples = 3;
  std::string tie_rule = "smallest";
};
template <class V>
void describe(V& v, HybridConfig& c) {
  v.field("levels", c.levels,
          Doc("L: the top L significance levels (i + j > B_w + P - L - 2) are handled by top_levels").range(0, 32));
  v.field("top_levels", c.top_levels,
          Doc("digital: computed noise-free (hybrid CiM); majority_vote: converted vote_samples times")
              .choices({"digital", "majority_vote"}));
  v.field("vote_samples", c.vote_samples, Doc("conversions per voted cycle").range(1, 31));
  v.field("tie_rule", c.tie_rule,
          Doc("tied vote: smallest code (ASiM's torch.mode), largest, or the one closest to the samples' mean")
              .choices({"smallest", "largest", "closest_to_mean"}));
}

struct AnalogSramConfig {
  int64_t rows_per_conversion = 255;
  int64_t input_bits_per_cycle = 1;
  std::string row_mapping = "channel_aligned";
  AdcConfig adc;
  NoiseConfig noise;
  HybridConfig hybrid;
  bool asim_compatible = false;
  int64_t seed = 0;
};
template <class V>
void describe(V& v, AnalogSramConfig& c) {
  v.field("rows_per_conversion", c.rows_per_conversion,
          Doc("N: rows activated together and converted by one ADC read (ASiM's nrow)").unit("rows").range(1, 65536));
  v.field("input_bits_per_cycle", c.input_bits_per_cycle,
          Doc("input bits applied per cycle: 1 = bit-serial, more = bit-parallel (ASiM's act_enc)").unit("bits").range(1, 16));
  v.field("row_mapping", c.row_mapping,
          Doc("channel_aligned: whole input channels per tile (ASiM); packed: contiguous chunks of N rows")
              .choices({"channel_aligned", "packed"}));
  v.section("adc", c.adc, Doc("column ADC"));
  v.section("noise", c.noise, Doc("analog non-idealities before the ADC"));
  v.section("hybrid", c.hybrid, Doc("hybrid CiM and majority voting on the most significant cycles"));
  v.field("asim_compatible", c.asim_compatible,
          Doc("reproduce ASiM exactly: channel-aligned tiles including ASiM's dropped channels, full-range ADC; "
              "requires quantization per_tensor + asim_dynamic"));
  v.field("seed", c.seed, Doc("seed of the macro's noise streams").range(0, 9.0e15));
}

// The Spec of a section (operand fields left at their defaults; for_operands sets them); reads its
// ADC tables. `key` names the section in errors (InputError).
core::analog_sram::Spec to_core_spec(const AnalogSramConfig& config, const std::string& key);

struct AnalogSramType {
  using Config = AnalogSramConfig;
  static constexpr const char* kName = "analog_sram";
  static constexpr const char* kSummary =
      "analog SRAM CiM (ASiM): bit-serial inputs, N rows per column ADC conversion, noise, non-linear ADCs, HCiM";
  static constexpr const char* kDocs = "docs/macros/analog_sram.md";
  static std::shared_ptr<const core::MacroSpec> build(const Config& config, const std::string& key);
  // At most one of the two additive noise keys; asim_compatible needs ASiM's per-tensor, dynamic
  // quantization.
  static void check(const Config& config, const LayerQuantizationConfig& quantization, const std::string& source,
                    const std::string& key);
  static std::vector<MacroExample<Config>> examples();
};

}  // namespace bitline::app
