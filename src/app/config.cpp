#include "app/config.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <sstream>

#include "app/adc_model.h"
#include "app/sweep_config.h"
#include "core/digest.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {

std::string dump_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

namespace {

std::string fnv1a_hex(const std::string& text) { return core::hex64(core::fnv1a64(text.data(), text.size())); }

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

// Copies `overlay` onto `base`, recursing into maps.
void deep_merge(YAML::Node base, const YAML::Node& overlay) {
  for (const auto& entry : overlay) {
    const std::string key = entry.first.as<std::string>();
    if (entry.second.IsMap() && base[key] && base[key].IsMap()) {
      deep_merge(base[key], entry.second);
    } else {
      base[key] = YAML::Clone(entry.second);
    }
  }
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& pattern : patterns) {
    if (glob_matches(pattern, name)) return true;
  }
  return false;
}

// The registered index of a macro type name (validated by the config's choices).
std::size_t type_index_of(const std::string& type) {
  const auto names = macro_type_names();
  const auto found = std::find(names.begin(), names.end(), type);
  if (found == names.end()) throw std::logic_error("unregistered macro type " + type);
  return static_cast<std::size_t>(found - names.begin());
}

// The YAML of the macro's section of type `type_index`, with the overrides selected by
// `selected(index)` merged in.
template <class Selected>
YAML::Node merged_section(const MacroConfig& macro, std::size_t type_index, Selected selected) {
  YAML::Node node;
  for_each_macro_type([&](auto, auto index) {
    if (index == type_index) node = NodeEmitter::emit(std::get<index>(macro.configs));
  });
  for (std::size_t i = 0; i < macro.layer_overrides.size(); ++i) {
    if (selected(i)) deep_merge(node, macro.layer_overrides[i].sections[type_index]);
  }
  return node;
}

// The MacroSpec of a section of macro type `type` given as YAML. `source` names the config and
// `key` the section (e.g. "macros[0].analog_sram") in errors.
std::shared_ptr<const core::MacroSpec> build_section(const std::string& type, const YAML::Node& node,
                                                     const std::string& source, const std::string& key) {
  std::shared_ptr<const core::MacroSpec> spec;
  for_each_macro_type([&](auto macro_type, auto) {
    using Type = decltype(macro_type);
    if (type != Type::kName) return;
    typename Type::Config section;
    ConfigLoader loader(source, node, key);
    describe(loader, section);
    loader.reject_unknown_keys();
    try {
      spec = Type::build(section, key);
    } catch (const InputError& error) {
      throw InputError(fmt::format("{}: {}", source, error.what()));
    }
  });
  return spec;
}

// Whether the macro can serve these operands (without building it): an InputError naming `source`,
// `key`, the knob that cannot (the spec's std::invalid_argument) and the operands.
void check_operands(const core::MacroSpec& spec, const core::IntegerOperands& operands, const std::string& source,
                    const std::string& key) {
  try {
    spec.check_operands(operands);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("{}: key '{}': {} (with quantization W{}A{})", source, key, error.what(),
                                 operands.weight_bits, operands.input_bits));
  }
}

// A choice's sections: only its own type's, and its type's checks against the quantization.
void check_choice(const MacroChoice& choice, const LayerQuantizationConfig& quantization, const std::string& source,
                  const std::string& key) {
  for (const auto& given : choice.given_sections) {
    if (given == choice.type) continue;
    throw InputError(fmt::format("{}: key '{}.{}': a section of macro type {}, but '{}.type' is {}; give the section "
                                 "of the macro's type",
                                 source, key, given, given, key, choice.type));
  }
  for_each_macro_type([&](auto macro_type, auto index) {
    using Type = decltype(macro_type);
    if (choice.type == Type::kName) Type::check(std::get<index>(choice.configs), quantization, source, key + "." + Type::kName);
  });
}

void validate_macro(const Config& config, std::size_t index, const std::string& source) {
  const MacroConfig& macro = config.macros[index];
  const std::string key = fmt::format("macros[{}]", index);
  for (std::size_t j = 0; j < index; ++j) {
    if (config.macros[j].name == macro.name) {
      throw InputError(fmt::format("{}: key '{}.name': expected a unique name, found '{}' again", source, key, macro.name));
    }
  }
  check_choice(macro, config.quantization, source, key);
  const std::size_t type = type_index_of(macro.type);
  const auto names = macro_type_names();
  for (std::size_t j = 0; j < macro.layer_overrides.size(); ++j) {
    const std::string override_key = fmt::format("{}.layer_overrides[{}]", key, j);
    const auto& entry = macro.layer_overrides[j];
    if (entry.layers.empty()) {
      throw InputError(fmt::format("{}: key '{}.layers': expected at least one layer name or glob, found none", source,
                                   override_key));
    }
    for (std::size_t other = 0; other < names.size(); ++other) {
      if (other != type && entry.sections[other].size() > 0) {
        throw InputError(fmt::format("{}: key '{}.{}': keys of macro type {}, but the macro's type is {}", source,
                                     override_key, names[other], names[other], macro.type));
      }
    }
    // Each override must make a valid macro on its own (at W8A8: layers may override the bits).
    const auto spec = build_section(macro.type, merged_section(macro, type, [&](std::size_t i) { return i == j; }),
                                    source + ", " + override_key, macro.type);
    check_operands(*spec, {8, 8, false, {}}, source, override_key + "." + macro.type);
  }
  const auto spec = build_section(macro.type, merged_section(macro, type, [](std::size_t) { return false; }), source,
                                  key + "." + macro.type);
  check_operands(*spec,
                 {static_cast<int>(config.quantization.weight_bits), static_cast<int>(config.quantization.activation_bits),
                  false, {}},
                 source, key + "." + macro.type);
}

void check_macro_reference(const Config& config, const std::string& mode, const std::optional<std::string>& macro,
                           const std::string& key, const std::string& source) {
  if (mode == "simulate" && !macro) {
    throw InputError(fmt::format("{}: key '{}.macro': expected the name of a macro for mode simulate, found null", source, key));
  }
  if (mode != "simulate" && macro) {
    throw InputError(fmt::format("{}: key '{}.macro': a macro is used only in mode simulate, found '{}' with mode {}",
                                 source, key, *macro, mode));
  }
  if (macro) find_macro(config, *macro, source + ": key '" + key + ".macro'");
}

}  // namespace

const MacroConfig& find_macro(const Config& config, const std::string& name, const std::string& key) {
  std::vector<std::string> names;
  for (const auto& macro : config.macros) {
    if (macro.name == name) return macro;
    names.push_back(macro.name);
  }
  std::string listing;
  for (const auto& n : names) listing += (listing.empty() ? "" : ", ") + n;
  throw InputError(fmt::format("{}: expected the name of an entry of 'macros' ({}), found '{}'", key,
                               listing.empty() ? "there are none" : listing, name));
}

YAML::Node merged_macro_section(const MacroConfig& macro, std::size_t type_index, const std::string& layer_name) {
  return merged_section(macro, type_index,
                        [&](std::size_t i) { return matches_any(macro.layer_overrides[i].layers, layer_name); });
}

std::shared_ptr<const core::MacroSpec> macro_spec(const MacroConfig& macro, const std::string& layer_name) {
  return build_section(macro.type, merged_macro_section(macro, type_index_of(macro.type), layer_name),
                       "macro '" + macro.name + "' for layer '" + layer_name + "'", macro.type);
}

std::shared_ptr<const core::MacroSpec> macro_spec(const MacroChoice& choice, const std::string& source,
                                                  const std::string& key) {
  YAML::Node node;
  for_each_macro_type([&](auto, auto index) {
    if (index == type_index_of(choice.type)) node = NodeEmitter::emit(std::get<index>(choice.configs));
  });
  return build_section(choice.type, node, source, key + "." + choice.type);
}

namespace {

// Limits of a config's YAML tree. Configs nest a few levels and hold hundreds of nodes; the limits
// stop a self-referencing alias (&a [*a]) or an alias bomb before anything walks the tree.
constexpr int kMaxYamlDepth = 64;
constexpr int64_t kMaxYamlNodes = 100000;

std::string yaml_line(const YAML::Node& node) { return std::to_string(node.Mark().line + 1); }

// Rejects what YAML allows but a config cannot mean: a key given twice in one map (which value
// would win is not obvious), a key that is not a plain scalar, and trees deeper or larger than
// the limits above.
void check_yaml_tree(const YAML::Node& node, const std::string& source, const std::string& path, int depth,
                     int64_t& nodes) {
  if (++nodes > kMaxYamlNodes) {
    throw InputError(fmt::format("{}: expected at most {} YAML nodes (aliases counted each time they are used), "
                                 "found more",
                                 source, kMaxYamlNodes));
  }
  if (depth > kMaxYamlDepth) {
    throw InputError(fmt::format("{}: key '{}': expected YAML nested at most {} levels deep, found deeper (a "
                                 "self-referencing alias?)",
                                 source, path, kMaxYamlDepth));
  }
  auto child_path = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      check_yaml_tree(node[i], source, path + "[" + std::to_string(i) + "]", depth + 1, nodes);
    }
  } else if (node.IsMap()) {
    std::map<std::string, std::string> first_lines;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        throw InputError(fmt::format("{}: line {}: expected a plain key{}, found a {} as a key", source,
                                     yaml_line(entry.first), path.empty() ? "" : " in '" + path + "'",
                                     entry.first.IsMap() ? "map" : entry.first.IsSequence() ? "list" : "null"));
      }
      const std::string key = entry.first.Scalar();
      const auto [first, inserted] = first_lines.emplace(key, yaml_line(entry.first));
      if (!inserted) {
        throw InputError(fmt::format("{}: key '{}' appears twice in the same map (lines {} and {}); expected each key "
                                     "once",
                                     source, child_path(key), first->second, yaml_line(entry.first)));
      }
      check_yaml_tree(entry.second, source, child_path(key), depth + 1, nodes);
    }
  }
}

// Records where each document starts. yaml-cpp 0.7 meets a stray flow indicator (',' at the top
// level) by ending the document without consuming it: Load then returns null for the whole text
// and LoadAll starts the same document again forever. A document that starts where the previous
// one did is that case.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> marks;
};

void check_parser_progress(const std::string& text, const std::string& source) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts starts;
  while (parser.HandleNextDocument(starts)) {
    const auto& marks = starts.marks;
    if (marks.size() < 2 || marks[marks.size() - 2].pos < marks.back().pos) continue;
    const YAML::Mark& stuck = marks.back();
    const std::size_t at = static_cast<std::size_t>(std::max(stuck.pos, 0));
    throw InputError(fmt::format("{}: not valid YAML: unexpected '{}' outside any list or map (line {}, column {})",
                                 source, at < text.size() ? text.substr(at, 1) : std::string("end of text"),
                                 stuck.line + 1, stuck.column + 1));
  }
}

}  // namespace

namespace {

struct KeyPathStep {
  std::string key;
  std::optional<std::string> entry;  // [index] or [name] after the key
};

std::vector<KeyPathStep> parse_key_path(const std::string& key_path, const std::string& what) {
  std::vector<KeyPathStep> steps;
  std::size_t start = 0;
  const auto bad = [&](const std::string& why) {
    return InputError(fmt::format("{}: key path '{}': {}; expected keys joined by '.', a list entry as key[index] or "
                                  "key[name], e.g. macros[0].analog_sram.adc.bits",
                                  what, key_path, why));
  };
  while (start <= key_path.size()) {
    const auto dot = key_path.find('.', start);
    std::string part = key_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    KeyPathStep step;
    const auto open = part.find('[');
    if (open != std::string::npos) {
      if (part.back() != ']' || part.size() - open < 3) throw bad("an unclosed or empty [ ]");
      step.entry = part.substr(open + 1, part.size() - open - 2);
      part.resize(open);
    }
    if (part.empty()) throw bad("an empty key");
    if (part.find_first_of("[]") != std::string::npos || (step.entry && step.entry->find_first_of("[]") != std::string::npos)) {
      throw bad("a stray bracket");
    }
    step.key = part;
    steps.push_back(step);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return steps;
}

// The entry of a list that `selector` names: its index, or the entry whose `name` is `selector`.
YAML::Node list_entry(const YAML::Node& list, const std::string& selector, const std::string& list_path,
                      const std::string& what) {
  const bool is_index = !selector.empty() && selector.find_first_not_of("0123456789") == std::string::npos;
  if (is_index) {
    const auto index = std::stoull(selector.substr(0, 9));
    if (selector.size() > 9 || index >= list.size()) {
      throw InputError(fmt::format("{}: key '{}[{}]': expected an index below {}, the length of the list", what, list_path,
                                   selector, list.size()));
    }
    return list[index];
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node name = list[i].IsMap() ? list[i]["name"] : YAML::Node();
    if (name && name.IsScalar()) {
      if (name.Scalar() == selector) return list[i];
      names.push_back(name.Scalar());
    }
  }
  throw InputError(fmt::format("{}: key '{}[{}]': expected an index or the name of an entry ({}), found no entry named '{}'",
                               what, list_path, selector, names.empty() ? "the list has no named entries" : fmt::format("{}", fmt::join(names, ", ")),
                               selector));
}

}  // namespace

void set_config_value(YAML::Node& root, const std::string& key_path, const YAML::Node& value, const std::string& what) {
  const auto steps = parse_key_path(key_path, what);
  std::vector<YAML::Node> chain{root};  // yaml-cpp nodes are handles: keep each level alive
  std::string path;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    YAML::Node parent = chain.back();
    if (!parent.IsMap()) {
      throw InputError(fmt::format("{}: key '{}': expected a map of keys to go into, found a {}", what, path,
                                   parent.IsSequence() ? "list" : "value"));
    }
    path += (path.empty() ? "" : ".") + step.key;
    const bool last = i + 1 == steps.size();
    if (!step.entry) {
      if (last) {
        parent[step.key] = value;
        return;
      }
      if (!parent[step.key] || parent[step.key].IsNull()) parent[step.key] = YAML::Node(YAML::NodeType::Map);
      chain.push_back(parent[step.key]);
      continue;
    }
    const YAML::Node list = parent[step.key];
    if (!list || !list.IsSequence()) {
      throw InputError(fmt::format("{}: key '{}': expected a list to select [{}] from, found {}", what, path, *step.entry,
                                   !list || list.IsNull() ? "none (the list must be given in the config)" : "a map or a value"));
    }
    YAML::Node entry = list_entry(list, *step.entry, path, what);
    path += "[" + *step.entry + "]";
    if (last) {
      entry = value;  // assigns through the handle into the list
      return;
    }
    chain.push_back(entry);
  }
}

void apply_config_setting(YAML::Node& root, const std::string& setting) {
  const auto equals = setting.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw InputError(fmt::format("--set '{}': expected key.path=value, e.g. train.float.epochs=2", setting));
  }
  const std::string what = fmt::format("--set '{}'", setting);
  set_config_value(root, setting.substr(0, equals), parse_yaml(setting.substr(equals + 1), what + ": the value"), what);
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  std::vector<YAML::Node> documents;
  try {
    check_parser_progress(text, source);
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& error) {
    throw InputError(fmt::format("{}: not valid YAML: {} (line {}, column {})", source, error.msg,
                                 error.mark.line + 1, error.mark.column + 1));
  }
  // An empty document after a final '---' says nothing; any other second document would be ignored.
  for (std::size_t i = 1; i < documents.size(); ++i) {
    if (documents[i].IsNull()) continue;
    throw InputError(fmt::format("{}: expected one YAML document, found another one at line {} (after a '---' "
                                 "line); put every key into the first document",
                                 source, yaml_line(documents[i])));
  }
  YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
  int64_t nodes = 0;
  check_yaml_tree(root, source, "", 0, nodes);
  return root;
}

Config parse_config(const std::string& yaml_text, const std::string& source) {
  const YAML::Node root = parse_yaml(yaml_text, source);
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

namespace {

YAML::Node load_yaml_file(const std::filesystem::path& path) {
  return parse_yaml(io::read_text_file(path), path.string());
}

// A config file with its `base:` chain resolved: the base file (relative to this one) is loaded
// first and this file's keys are merged over it (maps key by key; lists and values replace).
YAML::Node resolve_base(const std::filesystem::path& path, int depth) {
  YAML::Node node = load_yaml_file(path);
  if (!node.IsMap() || !node["base"]) return node;
  const YAML::Node base_key = node["base"];
  if (!base_key.IsScalar()) {
    throw InputError(fmt::format("{}: key 'base': expected the path of a config file, found {}", path.string(),
                                 base_key.IsMap() ? "a map" : base_key.IsSequence() ? "a list" : "null"));
  }
  if (depth >= 8) throw InputError(fmt::format("{}: key 'base': expected at most 8 nested bases, found more", path.string()));
  const std::filesystem::path base_path = path.parent_path() / base_key.Scalar();
  YAML::Node merged;
  try {
    merged = resolve_base(base_path, depth + 1);
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: key 'base': expected the path of a readable config file (relative to this "
                                 "file's folder), found '{}': {}",
                                 path.string(), base_key.Scalar(), error.what()));
  }
  if (merged.IsNull()) merged = YAML::Node(YAML::NodeType::Map);
  if (!merged.IsMap()) {
    throw InputError(fmt::format("{}: key 'base': expected a config file with a map of sections, found {} in {}",
                                 path.string(), merged.IsSequence() ? "a list" : "a single value", base_path.string()));
  }
  node.remove("base");
  deep_merge(merged, node);
  return merged;
}

}  // namespace

YAML::Node resolve_config_file(const std::filesystem::path& path) { return resolve_base(path, 0); }

Config load_config(const std::filesystem::path& path) {
  YAML::Emitter out;
  out << resolve_config_file(path);
  return parse_config(out.c_str(), path.string());
}

LayerCommandConfig load_layer_config(const std::filesystem::path& path) {
  return parse_layer_config(io::read_text_file(path), path.string());
}

LayerCommandConfig parse_layer_config(const std::string& yaml_text, const std::string& source) {
  const YAML::Node root = parse_yaml(yaml_text, source);
  LayerCommandConfig config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) throw InputError(fmt::format("{}: expected a YAML map with sections layer, quantization, macro", source));
  ConfigLoader loader(source, root);
  describe(loader, config);
  loader.reject_unknown_keys();
  check_choice(config.macro, config.quantization, source, "macro");
  const auto spec = macro_spec(config.macro, source, "macro");
  const auto& layer = config.layer;
  const bool paired = !layer.pairs.empty() || !layer.pairing_file.empty();
  if (!layer.pairs.empty() && !layer.pairing_file.empty()) {
    throw InputError(fmt::format("{}: keys 'layer.pairs' and 'layer.pairing_file': expected one of them, found both", source));
  }
  if (layer.pairing_file.empty() != layer.pairing_layer.empty()) {
    throw InputError(fmt::format("{}: keys 'layer.pairing_file' and 'layer.pairing_layer': expected both or neither, found one",
                                 source));
  }
  if (paired && (layer.mode != "simulate" || !spec->stores_complementary_pairs())) {
    throw InputError(fmt::format("{}: key '{}': expected simulate mode on a macro that stores complementary pairs (ddc_pim), "
                                 "found {} mode on {}",
                                 source, layer.pairs.empty() ? "layer.pairing_file" : "layer.pairs", layer.mode,
                                 config.macro.type));
  }
  for (std::size_t i = 0; i < layer.pairs.size(); ++i) {
    if (layer.pairs[i].size() != 2 || layer.pairs[i][0] == layer.pairs[i][1]) {
      std::string found;
      for (const int64_t index : layer.pairs[i]) found += (found.empty() ? "" : ", ") + std::to_string(index);
      throw InputError(fmt::format("{}: key 'layer.pairs[{}]': expected two different filter indices [free, tied], found [{}]",
                                   source, i, found));
    }
  }
  check_operands(*spec,
                 {static_cast<int>(config.quantization.weight_bits), static_cast<int>(config.quantization.activation_bits),
                  false, {}},
                 source, "macro." + config.macro.type);
  return config;
}

AdcCommandConfig load_adc_command_config(const std::filesystem::path& path) {
  return parse_adc_command_config(io::read_text_file(path), path.string());
}

AdcCommandConfig parse_adc_command_config(const std::string& yaml_text, const std::string& source) {
  const YAML::Node root = parse_yaml(yaml_text, source);
  AdcCommandConfig config;
  if (!root.IsNull()) {
    if (!root.IsMap()) throw InputError(fmt::format("{}: expected a YAML map with sections adc, characterize", source));
    ConfigLoader loader(source, root);
    describe(loader, config);
    loader.reject_unknown_keys();
  }
  const auto& c = config.characterize;
  if (std::gcd(c.sine_samples, c.sine_cycles) != 1) {
    throw InputError(fmt::format("{}: keys 'characterize.sine_samples' and 'sine_cycles': expected coprime values "
                                 "(coherent sampling), found {} and {}",
                                 source, c.sine_samples, c.sine_cycles));
  }
  return config;
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
  for (std::size_t i = 0; i < config.macros.size(); ++i) validate_macro(config, i, source);
  for (std::size_t i = 0; i < config.evaluation.runs.size(); ++i) {
    const auto& run = config.evaluation.runs[i];
    check_macro_reference(config, run.mode, run.macro, fmt::format("evaluation.runs[{}]", i), source);
    if (run.compare_to) {
      const auto& runs = config.evaluation.runs;
      const auto other = std::find_if(runs.begin(), runs.end(), [&](const EvaluationRun& r) { return r.name == *run.compare_to; });
      if (other == runs.end() || other->name == run.name || other->mode != "simulate" || run.mode != "simulate") {
        throw InputError(fmt::format("{}: key 'evaluation.runs[{}].compare_to': expected the name of another evaluation "
                                     "run in mode simulate (and this run in mode simulate), found '{}'",
                                     source, i, *run.compare_to));
      }
    }
    if (run.weights == std::optional<std::string>("fcc") && config.train.fcc_stage.epochs == 0) {
      throw InputError(fmt::format("{}: key 'evaluation.runs[{}].weights': the fcc stage's weights, but train.fcc.epochs "
                                   "is 0 (the stage is not trained; weights paired runs the paired network untrained)",
                                   source, i));
    }
    if (run.weights && (*run.weights == "float" || *run.weights == "qat")) {
      const auto& stage = *run.weights == "float" ? config.train.float_stage : config.train.qat_stage;
      if (stage.epochs == 0) {
        throw InputError(fmt::format("{}: key 'evaluation.runs[{}].weights': the {} stage's weights, but "
                                     "train.{}.epochs is 0 (the stage is not trained)",
                                     source, i, *run.weights, *run.weights));
      }
    }
  }
  check_macro_reference(config, config.train.qat_stage.mode, config.train.qat_stage.macro, "train.qat", source);
  const auto& aware = config.train.qat_stage.adc_aware;
  const bool sampling = aware.variation_sampling != "fixed" || !aware.corners.empty() || !aware.vdd_v.empty() ||
                        aware.ste != "identity";
  if (sampling && config.train.qat_stage.mode != "simulate") {
    throw InputError(fmt::format("{}: key 'train.qat.adc_aware': ADC-aware sampling needs train.qat.mode: simulate "
                                 "(the forward pass through a macro), found mode {}",
                                 source, config.train.qat_stage.mode));
  }
  // A macro that updates its weights in place does plain SGD on them; Adam would silently not apply.
  if (config.train.qat_stage.mode == "simulate" && config.train.qat_stage.macro && config.train.optimizer == "adam") {
    const auto& macro = find_macro(config, *config.train.qat_stage.macro, source + ": key 'train.qat.macro'");
    const auto spec = macro_spec(static_cast<const MacroChoice&>(macro), source, "train.qat.macro");
    if (spec->operand_kind() == core::OperandKind::FloatingPoint &&
        spec->for_format({8, 23})->training_products().weight_update) {
      throw InputError(fmt::format("{}: key 'train.optimizer': adam, but macro '{}' updates the layers' weights in place "
                                   "with plain SGD (its train_products include weight_update); use sgd, or leave "
                                   "weight_update out of its train_products",
                                   source, macro.name));
    }
  }
  // Varying the chip instance or the CCO's operating point from batch to batch is a feature of the
  // analog macro's ADC.
  const bool draws_adc = aware.variation_sampling != "fixed" || !aware.corners.empty() || !aware.vdd_v.empty();
  if (draws_adc && config.train.qat_stage.macro) {
    const auto& macro = find_macro(config, *config.train.qat_stage.macro, source + ": key 'train.qat.macro'");
    if (macro.type != AnalogSramType::kName) {
      throw InputError(fmt::format("{}: key 'train.qat.adc_aware': variation_sampling, corners and vdd_v vary the ADC "
                                   "of an analog_sram macro, but macro '{}' has type {}",
                                   source, macro.name, macro.type));
    }
  }
  if ((!aware.corners.empty() || !aware.vdd_v.empty()) && config.train.qat_stage.macro) {
    const auto& macro = find_macro(config, *config.train.qat_stage.macro, source + ": key 'train.qat.macro'");
    const auto& adc = std::get<macro_type_index<AnalogSramType>()>(macro.configs).adc;
    if (adc.model != "cco") {
      throw InputError(fmt::format("{}: key 'train.qat.adc_aware': corners and vdd_v are drawn for a CCO ADC, but macro "
                                   "'{}' has adc.model {}",
                                   source, macro.name, adc.model));
    }
    // Every drawn operating point must exist (corner in the table, V_DD in its range).
    for (const auto& corner : aware.corners.empty() ? std::vector<std::string>{adc.cco.corner} : aware.corners) {
      for (double vdd : aware.vdd_v.empty() ? std::vector<double>{adc.cco.vdd_v} : aware.vdd_v) {
        auto keys = adc;
        keys.cco.corner = corner;
        keys.cco.vdd_v = vdd;
        try {
          make_converter(keys, "train.qat.adc_aware");
        } catch (const InputError& error) {
          throw InputError(fmt::format("{}: {}", source, error.what()));
        }
      }
    }
  }
  // Offset binary's codes take one bit more than weight_bits: at most 15 bits of weights.
  if (config.train.fcc_stage.encoding == "offset_binary") {
    const auto too_wide = [&](int64_t bits, const std::string& key) {
      if (bits + 1 > 16) {
        throw InputError(fmt::format("{}: key 'train.fcc.encoding': offset_binary cannot hold {}-bit weights ({}): its "
                                     "codes take weight_bits + 1 bits, at most 16; use twos_complement or at most 15 bits",
                                     source, bits, key));
      }
    };
    too_wide(config.quantization.weight_bits, "quantization.weight_bits");
    for (std::size_t i = 0; i < config.quantization.layer_overrides.size(); ++i) {
      const auto& bits = config.quantization.layer_overrides[i].weight_bits;
      if (bits) too_wide(*bits, fmt::format("quantization.layer_overrides[{}].weight_bits", i));
    }
  }
  if (config.train.float_stage.epochs == 0 && config.train.qat_stage.epochs == 0) {
    throw InputError(fmt::format("{}: keys 'train.float.epochs' and 'train.qat.epochs': expected at least one "
                                 "training epoch in total, found 0 and 0",
                                 source));
  }
}

std::string to_yaml(const Config& config) {
  YAML::Node node = NodeEmitter::emit(config);
  // Each macro with only its own type's section, so that the text loads again (a section of another
  // type is an error). The hashes keep every section (NodeEmitter), so cached checkpoints stay valid.
  for (auto macro : node["macros"]) {
    for (const auto& type : macro_type_names()) {
      if (type != macro["type"].Scalar()) macro.remove(type);
    }
  }
  return dump_yaml(node) + "\n";
}

std::string documented_defaults() {
  DocumentedEmitter emitter;
  Config defaults;
  describe(emitter, defaults);
  // The sweep section, commented out: `bitline sweep` reads it, every other command refuses it.
  DocumentedEmitter sweep_emitter(2);
  SweepConfig sweep;
  describe(sweep_emitter, sweep);
  std::istringstream sweep_lines("sweep:\n" + sweep_emitter.text);
  std::string sweep_text, line;
  while (std::getline(sweep_lines, line)) sweep_text += "# " + line + "\n";
  return "# bitline configuration: every key with its default, unit and range.\n"
         "# Keys you leave out take these values; unknown keys are errors.\n" +
         emitter.text +
         "# A config with this section is a design-space sweep for `bitline sweep` (docs/sweeps.md):\n" + sweep_text;
}

// Removes from `node` every entry equal to the same entry of `defaults`, so that config hashes do not
// change when a new key with a default value is added to the schema.
void prune_defaults(YAML::Node node, const YAML::Node& defaults) {
  std::vector<std::string> equal_keys;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node default_value = defaults[key];
    if (!default_value) continue;
    if (entry.second.IsMap() && default_value.IsMap()) {
      prune_defaults(entry.second, default_value);
      if (entry.second.size() == 0) equal_keys.push_back(key);
    } else if (dump_yaml(entry.second) == dump_yaml(default_value)) {
      equal_keys.push_back(key);
    }
  }
  for (const auto& key : equal_keys) node.remove(key);
}

// Removes node[section][key], and the section when that leaves it empty.
void remove_entry(YAML::Node node, const std::string& section, const std::string& key) {
  if (!node[section]) return;
  node[section].remove(key);
  if (node[section].size() == 0) node.remove(section);
}

// The config as YAML without its default-valued entries.
YAML::Node non_default_node(const Config& config) {
  YAML::Node node = NodeEmitter::emit(config);
  prune_defaults(node, NodeEmitter::emit(Config{}));
  return node;
}

std::string float_stage_hash(const Config& config) {
  YAML::Node node = non_default_node(config);
  node.remove("quantization");
  node.remove("macros");
  node.remove("evaluation");
  for (const char* key : {"name", "threads", "run_dir", "checkpoint_dir"}) remove_entry(node, "experiment", key);
  remove_entry(node, "data", "test_samples");  // evaluation only
  remove_entry(node, "train", "qat");
  remove_entry(node, "train", "fcc");
  return fnv1a_hex(dump_yaml(node));
}

std::string qat_stage_hash(const Config& config) {
  YAML::Node node(YAML::NodeType::Map);
  node["float_stage"] = float_stage_hash(config);
  const YAML::Node non_default = non_default_node(config);
  node["quantization"] = non_default["quantization"] ? non_default["quantization"] : YAML::Node(YAML::NodeType::Map);
  node["qat"] = non_default["train"] && non_default["train"]["qat"] ? non_default["train"]["qat"]
                                                                     : YAML::Node(YAML::NodeType::Map);
  if (config.train.qat_stage.macro) {
    YAML::Node macro = NodeEmitter::emit(find_macro(config, *config.train.qat_stage.macro, "train.qat.macro"));
    prune_defaults(macro, NodeEmitter::emit(MacroConfig{}));
    if (macro.IsMap()) macro.remove("hardware");  // cost only: training does not depend on it
    // An override's sections of other macro types are empty maps: left out, as other defaults are.
    if (macro.IsMap() && macro["layer_overrides"]) {
      for (auto entry : macro["layer_overrides"]) prune_defaults(entry, NodeEmitter::emit(MacroOverride{}));
    }
    node["macro"] = macro;
  }
  return fnv1a_hex(dump_yaml(node));
}

std::string pairing_hash(const Config& config) {
  YAML::Node node(YAML::NodeType::Map);
  node["source_stage"] = config.train.qat_stage.epochs > 0 ? qat_stage_hash(config) : float_stage_hash(config);
  YAML::Node fcc = NodeEmitter::emit(config.train.fcc_stage);
  for (const char* key : {"epochs", "learning_rate", "samples_per_epoch", "penalty_epochs", "penalty_weight"}) {
    fcc.remove(key);
  }
  node["fcc"] = fcc;
  return fnv1a_hex(dump_yaml(node));
}

std::string fcc_penalty_stage_hash(const Config& config) {
  YAML::Node node(YAML::NodeType::Map);
  node["pairing"] = pairing_hash(config);
  node["penalty_epochs"] = config.train.fcc_stage.penalty_epochs;
  node["penalty_weight"] = config.train.fcc_stage.penalty_weight;
  node["learning_rate"] = config.train.fcc_stage.learning_rate;
  node["samples_per_epoch"] = config.train.fcc_stage.samples_per_epoch.value_or(0);
  return fnv1a_hex(dump_yaml(node));
}

std::string fcc_stage_hash(const Config& config) {
  YAML::Node node(YAML::NodeType::Map);
  node["pairing"] = pairing_hash(config);
  node["fcc"] = NodeEmitter::emit(config.train.fcc_stage);
  return fnv1a_hex(dump_yaml(node));
}

nn::LayerMode parse_mode(const std::string& mode) {
  if (mode == "float") return nn::LayerMode::Float;
  return mode == "simulate" ? nn::LayerMode::Simulate : nn::LayerMode::Quantized;
}

nn::LayerQuantSpec layer_quant_spec(const LayerQuantizationConfig& config, nn::LayerMode mode) {
  nn::LayerQuantSpec spec;
  spec.mode = mode;
  spec.weight_bits = static_cast<int>(config.weight_bits);
  spec.weight_granularity = parse_granularity(config.weight_granularity);
  spec.activation_bits = static_cast<int>(config.activation_bits);
  spec.activation_sign = parse_sign(config.activation_sign);
  spec.activation_scaling = config.activation_scaling == "asim_dynamic" ? nn::ActivationScaling::AsimDynamic
                                                                         : nn::ActivationScaling::Static;
  return spec;
}

nn::LayerQuantSpec layer_spec(const QuantizationConfig& config, const std::string& layer_name, nn::LayerMode mode,
                              const MacroConfig* macro) {
  nn::LayerQuantSpec spec = layer_quant_spec(config, mode);
  if (mode == nn::LayerMode::Simulate) {
    if (macro == nullptr) throw std::logic_error("layer_spec: simulate mode without a macro");
    spec.macro = macro_spec(*macro, layer_name);
  }
  for (const auto& override_entry : config.layer_overrides) {
    bool matches = false;
    for (const auto& pattern : override_entry.layers) matches = matches || glob_matches(pattern, layer_name);
    if (!matches) continue;
    if (override_entry.keep_float.value_or(false)) spec.mode = nn::LayerMode::Float;
    if (!override_entry.on_macro.value_or(true) && spec.mode == nn::LayerMode::Simulate) {
      spec.mode = nn::LayerMode::Quantized;
    }
    if (override_entry.weight_bits) spec.weight_bits = static_cast<int>(*override_entry.weight_bits);
    if (override_entry.activation_bits) spec.activation_bits = static_cast<int>(*override_entry.activation_bits);
    if (override_entry.weight_granularity) spec.weight_granularity = parse_granularity(*override_entry.weight_granularity);
    if (override_entry.activation_sign) spec.activation_sign = parse_sign(*override_entry.activation_sign);
  }
  return spec;
}

bool matches_layer_pattern(const std::string& pattern, const std::string& layer_name) {
  return glob_matches(pattern, layer_name);
}

void check_override_patterns(const Config& config, const std::vector<std::string>& layer_names) {
  auto check = [&](const std::vector<std::string>& patterns, const std::string& key) {
    for (const auto& pattern : patterns) {
      bool matched = false;
      for (const auto& name : layer_names) matched = matched || glob_matches(pattern, name);
      if (matched) continue;
      std::string listing;
      for (const auto& name : layer_names) listing += (listing.empty() ? "" : ", ") + name;
      throw InputError(fmt::format("config key '{}': expected a layer name or glob matching this model's layers, "
                                   "found '{}', which matches none; the layers are: {}",
                                   key, pattern, listing));
    }
  };
  check(config.train.fcc_stage.keep_unpaired, "train.fcc.keep_unpaired");
  const auto& overrides = config.quantization.layer_overrides;
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    check(overrides[i].layers, fmt::format("quantization.layer_overrides[{}].layers", i));
  }
  for (std::size_t m = 0; m < config.macros.size(); ++m) {
    const auto& macro_overrides = config.macros[m].layer_overrides;
    for (std::size_t i = 0; i < macro_overrides.size(); ++i) {
      check(macro_overrides[i].layers, fmt::format("macros[{}].layer_overrides[{}].layers", m, i));
    }
  }
}

}  // namespace bitline::app
