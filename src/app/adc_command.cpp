#include "app/adc_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "app/adc_model.h"
#include "app/config.h"
#include "core/adc/characterize.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {
namespace {

std::string number_or_empty(double value) { return std::isnan(value) ? "" : fmt::format("{:.6f}", value); }

}  // namespace

int run_adc_command(const std::string& config_path) {
  const AdcCommandConfig config = load_adc_command_config(config_path);
  std::shared_ptr<const core::adc::Converter> converter;
  std::size_t table_columns = 0;
  try {
    const auto model = make_adc_model(config.adc, "adc");
    converter = model.converter;
    table_columns = model.column_converters.size();
    const auto column = static_cast<std::size_t>(config.characterize.column);
    if (table_columns > 0 && column >= table_columns) {
      throw InputError(fmt::format("key 'characterize.column': expected a column of the per-column table, 0..{}, found {}",
                                   table_columns - 1, column));
    }
    if (table_columns > 0) converter = model.column_converters[column];
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: {}", config_path, error.what()));
  }
  if (!converter) converter = converter_or_ideal(config.adc, "adc");  // model ideal: thresholds without INL
  core::adc::CharacterizeOptions options;
  options.noise_sigma_lsb = config.noise_sigma_lsb;
  options.ramp_steps_per_lsb = static_cast<int>(config.characterize.ramp_steps_per_lsb);
  options.sine_samples = static_cast<int>(config.characterize.sine_samples);
  options.sine_cycles = static_cast<int>(config.characterize.sine_cycles);
  options.sine_amplitude_fs = config.characterize.sine_amplitude_fs;
  options.seed = static_cast<uint64_t>(config.characterize.seed);
  const auto result = core::adc::characterize(*converter, options);

  const std::filesystem::path dir = config.output_dir;
  io::prepare_output_directory(dir, {"transfer.csv", "linearity.csv", "summary.json", "*.tmp-*"},
                               config_path + ": key 'output_dir'");
  std::string transfer = "input_lsb,mean_code,code_sigma,median_code,energy_pj\n";
  for (const auto& p : result.ramp) {
    transfer += fmt::format("{:.6f},{:.6f},{:.6f},{},{:.6g}\n", p.input_lsb, p.mean_code, p.code_sigma, p.median_code,
                            p.energy_pj);
  }
  std::string linearity = "code,transition_lsb,inl_lsb,dnl_lsb\n";
  for (std::size_t k = 0; k < result.transition_lsb.size(); ++k) {
    const bool reached = !std::isnan(result.transition_lsb[k]);
    linearity += fmt::format("{},{},{},{}\n", k + 1, number_or_empty(result.transition_lsb[k]),
                             reached ? number_or_empty(result.linearity.inl_lsb[k]) : "",
                             k < result.linearity.dnl_lsb.size() && reached && !std::isnan(result.transition_lsb[k + 1])
                                 ? number_or_empty(result.linearity.dnl_lsb[k])
                                 : "");
  }
  nlohmann::json summary = {
      {"config", config_path},
      {"converter", converter->description()},
      {"table_columns", table_columns},  // 0: one table for every column
      {"characterized_column", table_columns > 0 ? nlohmann::json(config.characterize.column) : nlohmann::json()},
      {"bits", converter->bits()},
      {"noise_sigma_lsb", config.noise_sigma_lsb},
      {"max_abs_inl_lsb", result.linearity.max_abs_inl_lsb},
      {"max_abs_dnl_lsb", result.linearity.max_abs_dnl_lsb},
      {"missing_codes", result.missing_codes},
      {"ramp_rms_error_lsb", result.ramp_rms_error_lsb},
      {"ramp_enob_bits", result.ramp_enob_bits},
      {"sine_sndr_db", result.sine_sndr_db},
      {"sine_enob_bits", result.sine_enob_bits},
      {"energy_per_conversion_pj", {{"mean_over_ramp", result.energy_mean_pj},
                                    {"mid_scale", result.energy_mid_scale_pj},
                                    {"full_scale", result.energy_full_scale_pj}}},
      {"conversion_ns", converter->conversion_ns() > 0 ? nlohmann::json(converter->conversion_ns()) : nlohmann::json()},
  };
  io::write_file_atomically(dir / "transfer.csv", transfer);
  io::write_file_atomically(dir / "linearity.csv", linearity);
  io::write_file_atomically(dir / "summary.json", summary.dump(2) + "\n");

  fmt::print("{}{}\n", converter->description(),
             table_columns > 0 ? fmt::format(", column {} of {}", config.characterize.column, table_columns) : "");
  fmt::print("  INL max |{:.3f}| LSB, DNL max |{:.3f}| LSB, missing codes {}\n", result.linearity.max_abs_inl_lsb,
             result.linearity.max_abs_dnl_lsb, result.missing_codes);
  fmt::print("  ramp: RMS error {:.3f} LSB, ENOB {:.2f} bits; sine: SNDR {:.2f} dB, ENOB {:.2f} bits\n",
             result.ramp_rms_error_lsb, result.ramp_enob_bits, result.sine_sndr_db, result.sine_enob_bits);
  fmt::print("  energy per conversion: {:.4g} pJ mean over the ramp, {:.4g} pJ at mid-scale, {:.4g} pJ at full scale\n",
             result.energy_mean_pj, result.energy_mid_scale_pj, result.energy_full_scale_pj);
  fmt::print("wrote {}, {} and {}\n", (dir / "transfer.csv").string(), (dir / "linearity.csv").string(),
             (dir / "summary.json").string());
  return 0;
}

}  // namespace bitline::app
