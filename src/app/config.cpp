#include "app/config.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include "core/digest.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {
namespace {

std::string fnv1a_hex(const std::string& text) { return core::hex64(core::fnv1a64(text.data(), text.size())); }

std::string dump(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

bool glob_matches(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

nn::WeightGranularity parse_granularity(const std::string& text) {
  return text == "per_tensor" ? nn::WeightGranularity::PerTensor : nn::WeightGranularity::PerChannel;
}

nn::ActivationSign parse_sign(const std::string& text) {
  if (text == "signed") return nn::ActivationSign::Signed;
  if (text == "unsigned") return nn::ActivationSign::Unsigned;
  return nn::ActivationSign::Auto;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw InputError(fmt::format("{}: not valid YAML: {} (line {}, column {})", source, error.msg,
                                 error.mark.line + 1, error.mark.column + 1));
  }
  Config config;
  if (root.IsNull()) return config;  // an empty file means all defaults
  if (!root.IsMap()) {
    throw InputError(fmt::format("{}: expected a YAML map of sections (experiment, data, model, ...) at the top level", source));
  }
  ConfigLoader loader(source, root);
  describe(loader, config);
  loader.reject_unknown_keys();
  validate_config(config, source);
  return config;
}

Config load_config(const std::filesystem::path& path) {
  return parse_config(io::read_text_file(path), path.string());
}

void validate_config(const Config& config, const std::string& source) {
  const int64_t channels = config.data.dataset == "cifar10" ? 3 : 1;
  auto check_channels = [&](const std::optional<std::vector<double>>& values, const char* key) {
    if (values && static_cast<int64_t>(values->size()) != channels) {
      throw InputError(fmt::format("{}: key 'data.{}': expected {} value(s), one per channel of {}, found {}", source,
                                   key, channels, config.data.dataset, values->size()));
    }
  };
  check_channels(config.data.mean, "mean");
  check_channels(config.data.std, "std");
  const int64_t depth = config.model.resnet.depth;
  if ((depth - 2) % 6 != 0) {
    throw InputError(fmt::format("{}: key 'model.resnet.depth': expected 6n+2 (8, 14, 20, 32, ...), found {}", source, depth));
  }
  for (std::size_t i = 0; i < config.quantization.layer_overrides.size(); ++i) {
    if (config.quantization.layer_overrides[i].layers.empty()) {
      throw InputError(fmt::format("{}: key 'quantization.layer_overrides[{}].layers': expected at least one layer "
                                   "name or glob, found none",
                                   source, i));
    }
  }
  if (config.evaluation.runs.empty()) {
    throw InputError(fmt::format("{}: key 'evaluation.runs': expected at least one evaluation, found none", source));
  }
  for (std::size_t i = 0; i < config.evaluation.runs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (config.evaluation.runs[i].name == config.evaluation.runs[j].name) {
        throw InputError(fmt::format("{}: key 'evaluation.runs[{}].name': expected a unique name, found '{}' again",
                                     source, i, config.evaluation.runs[i].name));
      }
    }
  }
  if (config.train.float_stage.epochs == 0 && config.train.qat_stage.epochs == 0) {
    throw InputError(fmt::format("{}: keys 'train.float.epochs' and 'train.qat.epochs': expected at least one "
                                 "training epoch in total, found 0 and 0",
                                 source));
  }
}

std::string to_yaml(const Config& config) { return dump(NodeEmitter::emit(config)) + "\n"; }

std::string documented_defaults() {
  DocumentedEmitter emitter;
  Config defaults;
  describe(emitter, defaults);
  return "# bitline configuration: every key with its default, unit and range.\n"
         "# Keys you leave out take these values; unknown keys are errors.\n" +
         emitter.text;
}

std::string float_stage_hash(const Config& config) {
  YAML::Node node = NodeEmitter::emit(config);
  node.remove("quantization");
  node.remove("evaluation");
  node["experiment"].remove("name");
  node["experiment"].remove("threads");
  node["experiment"].remove("run_dir");
  node["train"].remove("qat");
  return fnv1a_hex(dump(node));
}

std::string qat_stage_hash(const Config& config) {
  YAML::Node node(YAML::NodeType::Map);
  node["float_stage"] = float_stage_hash(config);
  node["quantization"] = NodeEmitter::emit(config.quantization);
  node["qat"] = NodeEmitter::emit(config.train.qat_stage);
  return fnv1a_hex(dump(node));
}

nn::LayerMode parse_mode(const std::string& mode) {
  return mode == "float" ? nn::LayerMode::Float : nn::LayerMode::Quantized;
}

nn::LayerQuantSpec layer_spec(const QuantizationConfig& config, const std::string& layer_name, nn::LayerMode mode) {
  nn::LayerQuantSpec spec;
  spec.mode = mode;
  spec.weight_bits = static_cast<int>(config.weight_bits);
  spec.weight_granularity = parse_granularity(config.weight_granularity);
  spec.activation_bits = static_cast<int>(config.activation_bits);
  spec.activation_sign = parse_sign(config.activation_sign);
  spec.activation_scaling = config.activation_scaling == "asim_dynamic" ? nn::ActivationScaling::AsimDynamic
                                                                         : nn::ActivationScaling::Static;
  for (const auto& override_entry : config.layer_overrides) {
    bool matches = false;
    for (const auto& pattern : override_entry.layers) matches = matches || glob_matches(pattern, layer_name);
    if (!matches) continue;
    if (override_entry.keep_float.value_or(false)) spec.mode = nn::LayerMode::Float;
    if (override_entry.weight_bits) spec.weight_bits = static_cast<int>(*override_entry.weight_bits);
    if (override_entry.activation_bits) spec.activation_bits = static_cast<int>(*override_entry.activation_bits);
    if (override_entry.weight_granularity) spec.weight_granularity = parse_granularity(*override_entry.weight_granularity);
    if (override_entry.activation_sign) spec.activation_sign = parse_sign(*override_entry.activation_sign);
  }
  return spec;
}

void check_override_patterns(const QuantizationConfig& config, const std::vector<std::string>& layer_names) {
  for (std::size_t i = 0; i < config.layer_overrides.size(); ++i) {
    for (const auto& pattern : config.layer_overrides[i].layers) {
      bool matched = false;
      for (const auto& name : layer_names) matched = matched || glob_matches(pattern, name);
      if (matched) continue;
      std::string listing;
      for (const auto& name : layer_names) listing += (listing.empty() ? "" : ", ") + name;
      throw InputError(fmt::format("config key 'quantization.layer_overrides[{}].layers': expected a layer name or "
                                   "glob matching this model's layers, found '{}', which matches none; the layers are: {}",
                                   i, pattern, listing));
    }
  }
}

}  // namespace bitline::app
