#include "app/macros/sot_mram_fp.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/sot_mram/fp_format.h"
#include "core/sot_mram/macro.h"

namespace bitline::app {

std::shared_ptr<const core::MacroSpec> SotMramFpType::build(const Config& config, const std::string& key) {
  using namespace core::sot_mram;
  Spec spec;
  spec.engine.format = config.format == "custom"
                           ? core::NumberFormat{static_cast<int>(config.exponent_bits), static_cast<int>(config.mantissa_bits)}
                           : preset_format(config.format);
  spec.engine.rounding = core::parse_rounding(config.rounding);  // the schema checked the choices
  spec.logic = config.logic == "magic_nor" ? Logic::MagicNor : Logic::SotMram;
  const std::string difference = config.exponent_difference.value_or(spec.logic == Logic::MagicNor ? "subtract" : "search");
  spec.engine.exponent_difference = difference == "search" ? ExponentDifference::Search : ExponentDifference::Subtract;
  const auto trains = [&](const char* product) {
    return std::find(config.train_products.begin(), config.train_products.end(), product) != config.train_products.end();
  };
  spec.training = {trains("forward"), trains("input_gradient"), trains("weight_gradient"), trains("weight_update")};
  spec.device = config.device;
  try {
    return std::make_shared<SotMramFpSpec>(spec);
  } catch (const std::invalid_argument& error) {
    // The core's message starts with the field it refuses ("exponent_difference: ...").
    const std::string message = error.what();
    const std::string field = message.substr(0, message.find_first_of(" :"));
    throw InputError(fmt::format("key '{}.{}': {} (format {}, logic {})", key, field, message, config.format, config.logic));
  }
}

std::vector<MacroExample<SotMramFpConfig>> SotMramFpType::examples() {
  SotMramFpConfig bf16;  // the defaults: bf16, truncation, sot_mram
  SotMramFpConfig fp16_nearest;
  fp16_nearest.format = "fp16";
  fp16_nearest.rounding = "nearest_even";
  SotMramFpConfig nor_baseline;
  nor_baseline.logic = "magic_nor";
  SotMramFpConfig custom;
  custom.format = "custom";
  custom.exponent_bits = 5;
  custom.mantissa_bits = 2;
  custom.exponent_difference = "subtract";
  return {{"bf16, truncation (the defaults)", bf16, false},
          {"fp16, nearest even", fp16_nearest, false},
          {"bf16 on MAGIC NOR (the FloatPIM-style baseline)", nor_baseline, false},
          {"e5m2, subtracting the exponents", custom, false}};
}

}  // namespace bitline::app
