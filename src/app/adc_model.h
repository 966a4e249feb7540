#pragma once
// The column ADC a config describes (analog_sram.adc: model ideal, table or cco), built from its
// keys and CSV files. docs/adc.md documents the models.
#include <memory>
#include <string>
#include <vector>

#include "app/adc_config.h"
#include "core/adc/converter.h"

namespace bitline::app {

struct AdcModel {
  // Null for model ideal (the macro keeps ASiM's exact rounding). For a per-column table, its
  // column 0 (where one converter stands for the array: descriptions, energy per conversion).
  std::shared_ptr<const core::adc::Converter> converter;
  // A per-column table (a `column` column in the CSV): one converter per column 0, 1, ...; empty
  // otherwise.
  std::vector<std::shared_ptr<const core::adc::Converter>> column_converters;
};

// `key` names the adc section in errors, e.g. "macros[0].analog_sram.adc". Throws InputError for
// missing or malformed CSV files and inconsistent tables.
AdcModel make_adc_model(const AdcConfig& adc, const std::string& key);
// make_adc_model(...).converter.
std::shared_ptr<const core::adc::Converter> make_converter(const AdcConfig& adc, const std::string& key);

// make_converter, or for model ideal (no converter) the ideal threshold converter of its bits: the
// transfer that `bitline adc` and the report characterize.
std::shared_ptr<const core::adc::Converter> converter_or_ideal(const AdcConfig& adc, const std::string& key);

}  // namespace bitline::app
