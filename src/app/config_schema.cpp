#include "app/config_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace bitline::app {
namespace {

std::string format_number(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{}", x);
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string shortest_decimal(double value) { return fmt::format("{}", value); }

namespace {
bool control_character(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool one_line(const std::string& text) { return std::none_of(text.begin(), text.end(), control_character); }
}  // namespace

const TextRule kOneLineText{one_line, "text without control characters (no newline, tab or escape)"};

std::string printable_text(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (control_character(c)) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out += c;
  }
  return out;
}

// ---- Doc ----------------------------------------------------------------------------------------

std::string Doc::check(double value) const {
  if (zero_allowed_ && value == 0) return "";
  const bool below = lo_exclusive_ ? !(value > lo_) : !(value >= lo_);
  if (!std::isfinite(value) || below || value > hi_) {
    return std::string("a number ") + (zero_allowed_ ? "0 or " : "") + (lo_exclusive_ ? "in (" : "in [") +
           format_number(lo_) + ", " + format_number(hi_) + "]";
  }
  return "";
}

std::string Doc::check(const std::string& value) const {
  if (rule_ != nullptr && !rule_->accepts(value)) return rule_->description;
  if (choices_.empty() || std::find(choices_.begin(), choices_.end(), value) != choices_.end()) return "";
  return "one of " + join(choices_, ", ");
}

std::string Doc::summary() const {
  std::string out;
  if (!unit_.empty()) out += " [" + unit_ + "]";
  if (!choices_.empty()) out += " {" + join(choices_, ", ") + "}";
  if (rule_ != nullptr) out += std::string(" (") + rule_->description + ")";
  if (std::isfinite(lo_) || std::isfinite(hi_)) {
    out += std::string(zero_allowed_ ? " 0 or" : "") + (lo_exclusive_ ? " (" : " [") + format_number(lo_) + ", " +
           format_number(hi_) + "]";
  }
  return out;
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    const bool contains = candidate.find(word) != std::string::npos || word.find(candidate) != std::string::npos;
    if (distance < best_distance || (best.empty() && contains)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// ---- ConfigLoader -------------------------------------------------------------------------------

ConfigLoader::ConfigLoader(std::string source, YAML::Node node, std::string path_prefix)
    : source_(std::move(source)), node_(std::move(node)), prefix_(std::move(path_prefix)) {}

void ConfigLoader::fail(const std::string& key_path, const std::string& expected, const std::string& found) const {
  throw InputError(fmt::format("{}: key '{}': expected {}, found {}", source_, key_path, expected, found));
}

void ConfigLoader::expect_map(const YAML::Node& node, const std::string& key_path) const {
  if (!node.IsMap()) fail(key_path, "a map of keys", describe_node(node));
}

std::string ConfigLoader::describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: return "'" + printable_text(node.Scalar()) + "'";
    default: return "nothing";
  }
}

void ConfigLoader::reject_unknown_keys() const {
  for (const auto& entry : node_) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(known_keys_.begin(), known_keys_.end(), key) != known_keys_.end()) continue;
    const std::string suggestion = closest_match(key, known_keys_);
    throw InputError(fmt::format("{}: unknown key '{}'{}; valid keys here are: {}", source_, path(key),
                                 suggestion.empty() ? "" : "; did you mean '" + path(suggestion) + "'?",
                                 join(known_keys_, ", ")));
  }
}

void ConfigLoader::read(const YAML::Node& node, const std::string& key_path, bool& value, const Doc&) const {
  if (!node.IsScalar()) fail(key_path, "true or false", describe_node(node));
  const std::string text = node.Scalar();
  if (text == "true" || text == "True" || text == "yes") value = true;
  else if (text == "false" || text == "False" || text == "no") value = false;
  else fail(key_path, "true or false", describe_node(node));
}

void ConfigLoader::read(const YAML::Node& node, const std::string& key_path, int64_t& value, const Doc& doc) const {
  if (!node.IsScalar()) fail(key_path, "an integer", describe_node(node));
  const std::string text = node.Scalar();
  std::size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) fail(key_path, "an integer", describe_node(node));
  if (auto expected = doc.check(static_cast<double>(value)); !expected.empty()) {
    fail(key_path, "an integer " + expected.substr(std::string("a number ").size()), describe_node(node));
  }
}

void ConfigLoader::read(const YAML::Node& node, const std::string& key_path, double& value, const Doc& doc) const {
  if (!node.IsScalar()) fail(key_path, "a number", describe_node(node));
  const std::string text = node.Scalar();
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) fail(key_path, "a number", describe_node(node));
  if (auto expected = doc.check(value); !expected.empty()) fail(key_path, expected, describe_node(node));
}

void ConfigLoader::read(const YAML::Node& node, const std::string& key_path, std::string& value, const Doc& doc) const {
  if (!node.IsScalar()) fail(key_path, doc.choice_list().empty() ? "a string" : doc.check(""), describe_node(node));
  value = node.Scalar();
  if (auto expected = doc.check(value); !expected.empty()) {
    const std::string suggestion = closest_match(value, doc.choice_list());
    fail(key_path, expected, describe_node(node) + (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
}

void ConfigLoader::read(const YAML::Node& node, const std::string& key_path, YAML::Node& value, const Doc&) const {
  if (!node.IsMap()) fail(key_path, "a map of keys", describe_node(node));
  value = YAML::Clone(node);
}

void ConfigLoader::read(const YAML::Node& node, const std::string&, AnyYaml& value, const Doc&) const {
  value.node = YAML::Clone(node);
}

// ---- DocumentedEmitter --------------------------------------------------------------------------

void DocumentedEmitter::comment(const Doc& doc) {
  text += pad() + "# " + doc.help() + doc.summary() + "\n";
}

void DocumentedEmitter::line(const std::string& key, const YAML::Node& value, const Doc& doc) {
  YAML::Emitter out;
  out << YAML::Flow << value;
  text += pad() + key + ": " + out.c_str() + "  # " + doc.help() + doc.summary() + "\n";
}

std::string DocumentedEmitter::comment_out(const std::string& block) const {
  std::istringstream lines(block);
  std::string out, line_text;
  while (std::getline(lines, line_text)) out += pad() + "#" + line_text.substr(std::min(line_text.size(), pad().size())) + "\n";
  return out;
}

std::string DocumentedEmitter::as_list_item(std::string block) const {
  const std::size_t item_indent = indent_ + 4;
  std::size_t at = 0;
  while (at < block.size()) {
    const std::size_t first = block.find_first_not_of(' ', at);
    if (first != std::string::npos && block[first] != '#') {
      block.replace(at + item_indent - 2, 2, "- ");
      break;
    }
    at = block.find('\n', at);
    if (at == std::string::npos) break;
    ++at;
  }
  return block;
}

}  // namespace bitline::app
