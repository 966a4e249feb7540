#pragma once
// What one training iteration of a config's model costs on a floating-point PIM engine
// (sot_mram_fp; core/sot_mram/training_cost.h, docs/mram_validation.md), beside the FloatPIM-style
// baseline: the same programs on MAGIC NOR logic, the same chip.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/config.h"
#include "core/sot_mram/training_cost.h"
#include "nn/model.h"

namespace bitline::app {

struct TrainingCostComparison {
  std::string engine_readout, baseline_readout;
  core::sot_mram::TrainingCost engine;
  std::optional<core::sot_mram::TrainingCost> baseline;  // none when the macro is itself on magic_nor
};

// For a sot_mram_fp macro: one iteration of train.batch_size samples, from the products the model's
// layers recorded in their last forward call; nullopt for other macro types. The baseline keeps the
// macro's format, rounding and device section and takes logic magic_nor with the subtraction.
std::optional<TrainingCostComparison> training_cost_comparison(nn::Model& model, const Config& config,
                                                               const MacroConfig& macro);
nlohmann::json training_cost_json(const TrainingCostComparison& comparison);
// label: what it is for, e.g. "evaluation 'mram'".
std::string training_cost_table(const TrainingCostComparison& comparison, const std::string& label);

}  // namespace bitline::app
