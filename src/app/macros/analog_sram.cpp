#include "app/macros/analog_sram.h"

#include <fmt/format.h>

#include "app/adc_model.h"
#include "app/config.h"
#include "core/analog_sram/macro_type.h"
#include "core/error.h"

namespace bitline::app {

core::analog_sram::Spec to_core_spec(const AnalogSramConfig& c, const std::string& key) {
  using namespace core::analog_sram;
  Spec spec;
  spec.rows_per_conversion = c.rows_per_conversion;
  spec.input_bits_per_cycle = static_cast<int>(c.input_bits_per_cycle);
  spec.row_mapping = c.row_mapping == "packed" ? RowMapping::Packed : RowMapping::ChannelAligned;
  spec.adc_bits = static_cast<int>(c.adc.bits);
  spec.full_scale = c.adc.full_scale == "calibrated" ? FullScale::Calibrated : FullScale::AsimFullRange;
  spec.calibration_percentile = c.adc.calibration_percentile;
  spec.additive_sigma_fs = c.noise.additive_sigma_fs_percent ? *c.noise.additive_sigma_fs_percent / 100.0
                                                             : c.noise.additive_sigma_lsb / spec.adc_levels();
  spec.asim_mac_sigma_fs = c.noise.asim_mac_sigma_fs_percent / 100.0;
  spec.physical_mac_sigma_fs = c.noise.physical_sigma_fs_percent / 100.0;
  spec.gain_compression_alpha = c.noise.gain_compression_alpha;
  spec.parasitic_capacitance_ratio = c.noise.parasitic_capacitance_ratio;
  auto adc_model = make_adc_model(c.adc, key + ".adc");
  spec.converter = adc_model.converter;
  spec.column_converters = std::move(adc_model.column_converters);
  spec.variation = {c.adc.variation.gain_sigma_percent / 100.0, c.adc.variation.offset_sigma_lsb,
                    static_cast<uint64_t>(c.adc.variation.chip_seed)};
  spec.hybrid_levels = static_cast<int>(c.hybrid.levels);
  spec.top_levels = c.hybrid.top_levels == "majority_vote" ? TopLevels::MajorityVote : TopLevels::Digital;
  spec.vote_samples = static_cast<int>(c.hybrid.vote_samples);
  spec.vote_tie_rule = c.hybrid.tie_rule == "largest"           ? VoteTieRule::Largest
                       : c.hybrid.tie_rule == "closest_to_mean" ? VoteTieRule::ClosestToMean
                                                                : VoteTieRule::Smallest;
  if (c.asim_compatible) {
    spec.row_mapping = RowMapping::ChannelAligned;
    spec.asim_drop_channels = true;
    spec.full_scale = FullScale::AsimFullRange;
  }
  spec.seed = static_cast<uint64_t>(c.seed);
  return spec;
}

std::shared_ptr<const core::MacroSpec> AnalogSramType::build(const Config& config, const std::string& key) {
  return std::make_shared<core::analog_sram::AnalogSramSpec>(to_core_spec(config, key));
}

void AnalogSramType::check(const Config& config, const LayerQuantizationConfig& quantization, const std::string& source,
                           const std::string& key) {
  const auto& noise = config.noise;
  if (noise.additive_sigma_fs_percent && noise.additive_sigma_lsb != 0) {
    throw InputError(fmt::format("{}: keys '{}.noise.additive_sigma_lsb' and 'additive_sigma_fs_percent': expected at "
                                 "most one of them set, found both ({} LSB and {} %)",
                                 source, key, noise.additive_sigma_lsb, *noise.additive_sigma_fs_percent));
  }
  if (config.asim_compatible &&
      (quantization.weight_granularity != "per_tensor" || quantization.activation_scaling != "asim_dynamic")) {
    throw InputError(fmt::format("{}: key '{}.asim_compatible': ASiM quantizes per tensor with dynamic batch ranges, "
                                 "so it expects quantization.weight_granularity: per_tensor and "
                                 "quantization.activation_scaling: asim_dynamic, found {} and {}",
                                 source, key, quantization.weight_granularity, quantization.activation_scaling));
  }
}

std::vector<MacroExample<AnalogSramConfig>> AnalogSramType::examples() {
  std::vector<MacroExample<AnalogSramConfig>> examples;
  AnalogSramConfig ideal;  // an 8-bit ideal ADC over N = 255 bit-serial rows reads every MAC exactly
  ideal.adc.bits = 8;
  examples.push_back({"8-bit ADC, N = 255, bit-serial, noise-free", ideal, true});
  AnalogSramConfig noisy = ideal;
  noisy.adc.bits = 6;
  noisy.rows_per_conversion = 40;
  noisy.noise.additive_sigma_lsb = 0.7;
  noisy.row_mapping = "packed";
  examples.push_back({"6-bit ADC, N = 40, packed, 0.7 LSB noise", noisy, false});
  AnalogSramConfig hybrid = ideal;
  hybrid.adc.bits = 5;
  hybrid.input_bits_per_cycle = 2;
  hybrid.rows_per_conversion = 31;
  hybrid.noise.asim_mac_sigma_fs_percent = 2;
  hybrid.hybrid = {3, "majority_vote", 3, "closest_to_mean"};
  examples.push_back({"5-bit ADC, N = 31, 2-bit inputs, voting on 3 levels", hybrid, false});
  AnalogSramConfig digital_top = ideal;
  digital_top.adc.bits = 4;
  digital_top.rows_per_conversion = 20;
  digital_top.hybrid.levels = 4;
  digital_top.adc.variation.gain_sigma_percent = 3;
  examples.push_back({"4-bit ADC, N = 20, HCiM on 4 levels, per-column gain variation", digital_top, false});
  return examples;
}

}  // namespace bitline::app
