#pragma once
// The config schema machinery. Each config struct lists its fields once, in a
// `template <class V> void describe(V& v, Struct& s)` function; visitors walk that list to load
// YAML with validation (ConfigLoader), to print the documented defaults (DocumentedEmitter) and to
// turn a config back into YAML (NodeEmitter). One field list, so the three cannot disagree.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bitline::app {

// A field that holds any YAML value as it is (a scalar, list or map), e.g. a sweep axis's values;
// its user validates it.
struct AnyYaml {
  YAML::Node node;
};

// What a string field accepts beyond its type: a check and the words that say what it accepts
// (shown in messages and in `bitline config --defaults`).
struct TextRule {
  bool (*accepts)(const std::string& value);
  const char* description;
};

// One line of text: no control characters (newline, carriage return, tab, escape, ...).
extern const TextRule kOneLineText;
// `text` for a message: control characters written as \n, \r, \t or \xNN, so a value cannot end or
// forge a line of the message.
std::string printable_text(const std::string& text);

// Documentation and validation of one field.
class Doc {
 public:
  explicit Doc(std::string help) : help_(std::move(help)) {}
  Doc& unit(std::string unit) { unit_ = std::move(unit); return *this; }
  // Inclusive range [lo, hi].
  Doc& range(double lo, double hi) { lo_ = lo; hi_ = hi; return *this; }
  // 0 (a figure left out), or in [lo, hi].
  Doc& zero_or_range(double lo, double hi) { lo_ = lo; hi_ = hi; zero_allowed_ = true; return *this; }
  // Exclusive lower bound: value > lo.
  Doc& above(double lo, double hi = std::numeric_limits<double>::infinity()) {
    lo_ = lo; hi_ = hi; lo_exclusive_ = true; return *this;
  }
  Doc& choices(std::vector<std::string> choices) { choices_ = std::move(choices); return *this; }
  Doc& text(const TextRule& rule) { rule_ = &rule; return *this; }

  const std::string& help() const { return help_; }
  const std::string& unit_text() const { return unit_; }
  const std::vector<std::string>& choice_list() const { return choices_; }
  // "" when the value is acceptable, else what was expected (e.g. "a number in [1, 16]").
  std::string check(double value) const;
  std::string check(const std::string& value) const;
  // "[bits] in [1, 16]" style summary for the documented defaults.
  std::string summary() const;

 private:
  std::string help_, unit_;
  double lo_ = -std::numeric_limits<double>::infinity();
  double hi_ = std::numeric_limits<double>::infinity();
  bool lo_exclusive_ = false;
  bool zero_allowed_ = false;
  std::vector<std::string> choices_;
  const TextRule* rule_ = nullptr;
};

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// Reads a YAML map into a struct; throws InputError naming `source`, the key path, what was
// expected and what was found. Unknown keys are errors with a did-you-mean suggestion.
class ConfigLoader {
 public:
  ConfigLoader(std::string source, YAML::Node node, std::string path_prefix = "");

  template <class T>
  void field(const std::string& key, T& value, const Doc& doc) {
    known_keys_.push_back(key);
    YAML::Node child = node_[key];
    if (!child.IsDefined()) return;
    read(child, path(key), value, doc);
  }
  template <class T>
  void section(const std::string& key, T& value, const Doc& doc) {
    known_keys_.push_back(key);
    YAML::Node child = node_[key];
    if (!child.IsDefined() || child.IsNull()) return;
    expect_map(child, path(key));
    ConfigLoader nested(source_, child, path(key));
    describe(nested, value);
    nested.reject_unknown_keys();
  }
  template <class T>
  void section_list(const std::string& key, std::vector<T>& values, const Doc& doc) {
    known_keys_.push_back(key);
    YAML::Node child = node_[key];
    if (!child.IsDefined()) return;
    if (!child.IsSequence()) fail(path(key), "a list", describe_node(child));
    values.clear();
    for (std::size_t i = 0; i < child.size(); ++i) {
      const std::string item_path = path(key) + "[" + std::to_string(i) + "]";
      expect_map(child[i], item_path);
      T item;
      ConfigLoader nested(source_, child[i], item_path);
      describe(nested, item);
      nested.reject_unknown_keys();
      values.push_back(item);
    }
  }
  void reject_unknown_keys() const;
  // Whether the YAML gives `key` here (with any value but null).
  bool given(const std::string& key) const {
    const YAML::Node child = node_[key];
    return child.IsDefined() && !child.IsNull();
  }

  [[noreturn]] void fail(const std::string& key_path, const std::string& expected, const std::string& found) const;

 private:
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  void expect_map(const YAML::Node& node, const std::string& key_path) const;
  static std::string describe_node(const YAML::Node& node);

  void read(const YAML::Node& node, const std::string& key_path, bool& value, const Doc& doc) const;
  void read(const YAML::Node& node, const std::string& key_path, int64_t& value, const Doc& doc) const;
  void read(const YAML::Node& node, const std::string& key_path, double& value, const Doc& doc) const;
  void read(const YAML::Node& node, const std::string& key_path, std::string& value, const Doc& doc) const;
  // A YAML map kept as it is (validated by its user, e.g. macro layer overrides).
  void read(const YAML::Node& node, const std::string& key_path, YAML::Node& value, const Doc& doc) const;
  void read(const YAML::Node& node, const std::string& key_path, AnyYaml& value, const Doc& doc) const;
  template <class T>
  void read(const YAML::Node& node, const std::string& key_path, std::optional<T>& value, const Doc& doc) const {
    if (node.IsNull()) { value.reset(); return; }
    T inner{};
    read(node, key_path, inner, doc);
    value = inner;
  }
  template <class T>
  void read(const YAML::Node& node, const std::string& key_path, std::vector<T>& values, const Doc& doc) const {
    if (!node.IsSequence()) fail(key_path, "a list", describe_node(node));
    values.clear();
    for (std::size_t i = 0; i < node.size(); ++i) {
      T item{};
      read(node[i], key_path + "[" + std::to_string(i) + "]", item, doc);
      values.push_back(item);
    }
  }

  std::string source_;
  YAML::Node node_;
  std::string prefix_;
  std::vector<std::string> known_keys_;
};

// YAML node of one field value. Declared from the innermost type outwards so that the templates
// find the overloads they call.
std::string shortest_decimal(double value);  // e.g. 0.1, not 0.10000000000000001
inline YAML::Node value_node(double value) { return YAML::Node(shortest_decimal(value)); }
inline YAML::Node value_node(const YAML::Node& value) { return YAML::Clone(value); }
inline YAML::Node value_node(const AnyYaml& value) { return YAML::Clone(value.node); }
template <class T>
YAML::Node value_node(const T& value) { return YAML::Node(value); }
template <class T>
YAML::Node value_node(const std::vector<T>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  list.SetStyle(YAML::EmitterStyle::Flow);
  for (const auto& v : values) list.push_back(value_node(v));
  return list;
}
template <class T>
YAML::Node value_node(const std::optional<T>& value) {
  return value ? value_node(*value) : YAML::Node(YAML::NodeType::Null);
}

// Builds a YAML node holding a config's values (for saving, hashing and printing).
class NodeEmitter {
 public:
  YAML::Node node{YAML::NodeType::Map};

  template <class T>
  void field(const std::string& key, const T& value, const Doc&) { node[key] = value_node(value); }
  template <class T>
  void section(const std::string& key, const T& value, const Doc&) { node[key] = emit(value); }
  template <class T>
  void section_list(const std::string& key, const std::vector<T>& values, const Doc&) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& item : values) list.push_back(emit(item));
    node[key] = list;
  }
  template <class T>
  static YAML::Node emit(const T& value) {
    NodeEmitter emitter;
    describe(emitter, const_cast<T&>(value));
    return emitter.node;
  }
};

// Writes the documented YAML of a config: every key with its value, help, unit and range.
class DocumentedEmitter {
 public:
  explicit DocumentedEmitter(int indent = 0) : indent_(indent) {}
  std::string text;

  template <class T>
  void field(const std::string& key, const T& value, const Doc& doc) {
    line(key, value_node(value), doc);
  }
  template <class T>
  void section(const std::string& key, const T& value, const Doc& doc) {
    comment(doc);
    text += pad() + key + ":\n";
    DocumentedEmitter nested(indent_ + 2);
    describe(nested, const_cast<T&>(value));
    text += nested.text;
  }
  template <class T>
  void section_list(const std::string& key, const std::vector<T>& values, const Doc& doc) {
    comment(doc);
    if (values.empty()) {
      // Document the entries' fields with a commented-out example entry.
      text += pad() + key + ": []\n";
      DocumentedEmitter example(indent_ + 4);
      T item{};
      describe(example, item);
      text += comment_out(as_list_item(example.text));
      return;
    }
    text += pad() + key + ":\n";
    for (const auto& item : values) {
      DocumentedEmitter nested(indent_ + 4);
      describe(nested, const_cast<T&>(item));
      text += as_list_item(nested.text);
    }
  }

 private:
  std::string pad() const { return std::string(indent_, ' '); }
  void comment(const Doc& doc);
  void line(const std::string& key, const YAML::Node& value, const Doc& doc);
  std::string comment_out(const std::string& block) const;
  // Marks the first key line of a block indented by indent_ + 4 as a YAML list item.
  std::string as_list_item(std::string block) const;
  int indent_;
};

}  // namespace bitline::app
