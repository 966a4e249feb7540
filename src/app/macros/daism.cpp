#include "app/macros/daism.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/daism/macro.h"
#include "core/error.h"

namespace bitline::app {
namespace {

core::NumberFormat float_format(const std::string& name) { return core::daism::parse_operand_format(name).fp; }

}  // namespace

std::shared_ptr<const core::MacroSpec> DaismType::build(const Config& config, const std::string& key) {
  using namespace core::daism;
  Spec spec;
  spec.format = parse_operand_format(config.format);
  spec.multiplier.variant = config.variant == "exact"                ? Variant::Exact
                            : config.variant == "or"                 ? Variant::Or
                            : config.variant == "precomputed_digits" ? Variant::PrecomputedDigits
                                                                     : Variant::PrecomputedTop;
  spec.multiplier.k = spec.multiplier.variant == Variant::Or ? 1 : static_cast<int>(config.k);
  spec.multiplier.operand_bits = spec.format.floating ? spec.format.operand_bits() : 8;
  if (spec.multiplier.variant == Variant::Exact) spec.multiplier.k = spec.multiplier.operand_bits;
  spec.multiplier.kept_columns = config.kept_columns ? static_cast<int>(*config.kept_columns) : 0;
  spec.multiplier.rounding = core::parse_rounding(config.rounding);  // one of its choices: the schema checked it
  spec.accumulation = float_format(config.accumulation);
  spec.stored_operand = config.stored_operand == "inputs" ? StoredOperand::Inputs : StoredOperand::Weights;
  const auto trains = [&](const char* product) {
    return std::find(config.train_products.begin(), config.train_products.end(), product) !=
           config.train_products.end();
  };
  spec.training = {trains("forward"), trains("input_gradient"), trains("weight_gradient"), false};
  try {
    return std::make_shared<DaismSpec>(spec);
  } catch (const std::invalid_argument& error) {
    // The core's message starts with the knob it refuses ("k must be ..."): the key names it.
    const std::string message = error.what();
    const auto space = message.find(' ');
    const std::string knob = message.substr(0, space);
    const bool names_knob = knob == "k" || knob == "kept_columns" || knob == "accumulation";
    throw InputError(fmt::format("key '{}{}': {} (format {}, variant {})", key, names_knob ? "." + knob : "",
                                 names_knob ? message.substr(space + 1) : message, config.format, config.variant));
  }
}

std::vector<MacroExample<DaismConfig>> DaismType::examples() {
  DaismConfig pc2;  // the defaults: bf16, PC2
  DaismConfig or_truncated;
  or_truncated.variant = "or";
  or_truncated.kept_columns = 9;
  DaismConfig top3_fp16;
  top3_fp16.format = "fp16";
  top3_fp16.variant = "precomputed_top";
  top3_fp16.k = 3;
  top3_fp16.rounding = "nearest_even";
  top3_fp16.stored_operand = "inputs";
  DaismConfig int8_exact;
  int8_exact.format = "int8";
  int8_exact.variant = "exact";
  DaismConfig int8_pc3;
  int8_pc3.format = "int8";
  int8_pc3.variant = "precomputed_digits";
  int8_pc3.k = 3;
  return {{"bf16 PC2 (the defaults)", pc2, false},
          {"bf16 OR, 9 columns kept", or_truncated, false},
          {"fp16 top-3, nearest even, inputs stored", top3_fp16, false},
          {"int8 exact", int8_exact, true},
          {"int8 PC3", int8_pc3, false}};
}

}  // namespace bitline::app
