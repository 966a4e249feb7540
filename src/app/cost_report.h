#pragma once
// Energy, latency and area of a config's model on each macro's chip (core/cost; docs/cost.md):
// `bitline cost`, and the cost columns of `bitline run`'s results.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config.h"
#include "core/cost/cost_model.h"
#include "nn/model.h"

namespace bitline::app {

// The cost of `model` on `macro`'s chip, from the products its layers recorded in their last
// forward call (nn::ProductsPerSample); layers that an override keeps in fp32 run off the macro
// and are left out. Throws InputError naming the macro's hardware keys when the chip or a layer's
// mapping is invalid.
core::cost::NetworkCost model_cost(nn::Model& model, const Config& config, const MacroConfig& macro);

// The model after one fp32 forward pass on a random image, which records each layer's products
// (what model_cost prices); the observers calibrate on it, so that activation_sign auto resolves as
// it would on data.
std::shared_ptr<nn::Model> probed_model(const Config& config);
// model_cost, its errors prefixed with `source` (the config's file).
core::cost::NetworkCost probed_cost(nn::Model& model, const Config& config, const MacroConfig& macro,
                                    const std::string& source);

// Event counts by kind name (every kind a macro can record when every_macro_kind, zeros included,
// so that reports of different macros have the same keys), and per width for kinds with one
// ("adc_conversions_by_bits": {"8": ...}).
nlohmann::json events_json(const core::Events& events, bool every_macro_kind);
nlohmann::json cost_json(const core::cost::NetworkCost& cost);
std::string cost_csv(const core::cost::NetworkCost& cost);    // one row per layer, then a total row
std::string cost_table(const core::cost::NetworkCost& cost);  // console

}  // namespace bitline::app
