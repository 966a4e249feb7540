#pragma once
// The column ADC a config describes (analog_sram.adc: model ideal, table or cco), built from its
// keys and CSV files. docs/adc.md documents the models.
#include <memory>
#include <string>

#include "app/config.h"
#include "core/adc/converter.h"

namespace bitline::app {

// Null for model ideal (the macro keeps ASiM's exact rounding). `key` names the adc section in
// errors, e.g. "macros[0].analog_sram.adc". Throws InputError for missing or malformed CSV files and
// inconsistent tables.
std::shared_ptr<const core::adc::Converter> make_converter(const AdcConfig& adc, const std::string& key);

}  // namespace bitline::app
