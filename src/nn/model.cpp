#include "nn/model.h"

#include <cmath>
#include <functional>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"
#include "nn/models/zoo.h"

namespace bitline::nn {
namespace {

using Factory = std::function<std::shared_ptr<Model>(const ModelSpec&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> entries = {
      {"mlp", models::make_mlp},
      {"lenet5", models::make_lenet5},
      {"cnn", models::make_cnn},
      {"resnet20", models::make_resnet},
      {"mobilenetv2", models::make_mobilenetv2},
      {"efficientnet_b0", models::make_efficientnet_b0},
      {"vit", models::make_vit},
  };
  return entries;
}

// Options every model reads.
void validate_common(const ModelSpec& spec) {
  if (spec.in_channels < 1) {
    throw InputError(fmt::format("model.in_channels: expected a positive channel count, found {}",
                                 spec.in_channels));
  }
  if (spec.image_size < 1) {
    throw InputError(fmt::format("model.image_size: expected a positive image size, found {}", spec.image_size));
  }
  if (spec.num_classes < 1) {
    throw InputError(fmt::format("model.num_classes: expected a positive class count, found {}",
                                 spec.num_classes));
  }
  if (!(spec.width_multiplier > 0.0) || !std::isfinite(spec.width_multiplier)) {
    throw InputError(fmt::format("model.width_multiplier: expected a positive finite number, found {}",
                                 spec.width_multiplier));
  }
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : registry()) out.push_back(entry.first);
    return out;
  }();
  return names;
}

std::shared_ptr<Model> build_model(const ModelSpec& spec) {
  for (const auto& [name, factory] : registry()) {
    if (name == spec.name) {
      validate_common(spec);
      return factory(spec);
    }
  }
  throw InputError(fmt::format("model.name: unknown model '{}'; expected one of {}", spec.name,
                               fmt::join(model_names(), ", ")));
}

}  // namespace bitline::nn
