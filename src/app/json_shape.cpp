#include "app/json_shape.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {

using json = nlohmann::json;

struct JsonShape::Node {
  enum class Kind { Any, Boolean, String, Integer, Number, Array, Object, Map } kind = Kind::Any;
  bool nullable = false;
  const TextRule* rule = nullptr;
  int64_t integer_lo = 0, integer_hi = 0;
  double number_lo = 0, number_hi = 0;
  std::vector<Field> fields;           // Object
  std::shared_ptr<const Node> values;  // Array items, Map values
};

namespace {

using Node = JsonShape::Node;
using Kind = Node::Kind;

std::string found_text(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::string: {
      std::string text = value.get<std::string>();
      if (text.size() > 80) text = text.substr(0, 80) + "...";
      return "the string \"" + printable_text(text) + "\"";
    }
    case json::value_t::array:
      return fmt::format("a list of {}", value.size());
    case json::value_t::object:
      return "an object";
    case json::value_t::discarded:
      return "nothing";
    default: {
      std::string text = value.dump();
      return "the number " + (text.size() > 40 ? text.substr(0, 40) + "..." : text);
    }
  }
}

std::string range_text(double lo, double hi) {
  const bool low = lo > -std::numeric_limits<double>::max(), high = hi < std::numeric_limits<double>::max();
  if (low && high) return fmt::format(" in [{}, {}]", lo, hi);
  if (low) return fmt::format(" >= {}", lo);
  if (high) return fmt::format(" <= {}", hi);
  return "";
}

std::string expected_text(const Node& node) {
  std::string text;
  switch (node.kind) {
    case Kind::Any:
      text = "any value";
      break;
    case Kind::Boolean:
      text = "true or false";
      break;
    case Kind::String:
      text = node.rule != nullptr ? std::string("a string: ") + node.rule->description : "a string";
      break;
    case Kind::Integer:
      if (node.integer_lo == std::numeric_limits<int64_t>::min() &&
          node.integer_hi == std::numeric_limits<int64_t>::max()) {
        text = "an integer";
      } else if (node.integer_hi == std::numeric_limits<int64_t>::max()) {
        text = fmt::format("an integer >= {}", node.integer_lo);
      } else {
        text = fmt::format("an integer in [{}, {}]", node.integer_lo, node.integer_hi);
      }
      break;
    case Kind::Number:
      text = "a finite number" + range_text(node.number_lo, node.number_hi);
      break;
    case Kind::Array:
      text = "a list";
      break;
    case Kind::Object:
    case Kind::Map:
      text = "an object";
      break;
  }
  return node.nullable ? text + " or null" : text;
}

// Whether an integer JSON value fits int64 (nlohmann keeps values past INT64_MAX as unsigned).
bool fits_int64(const json& value) {
  return value.is_number_integer() &&
         (!value.is_number_unsigned() || value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX));
}

bool fits(const Node& node, const json& value) {
  if (value.is_null()) return node.nullable || node.kind == Kind::Any;
  switch (node.kind) {
    case Kind::Any:
      return true;
    case Kind::Boolean:
      return value.is_boolean();
    case Kind::String:
      return value.is_string() && (node.rule == nullptr || node.rule->accepts(value.get_ref<const std::string&>()));
    case Kind::Integer: {
      if (!fits_int64(value)) return false;
      const int64_t number = value.get<int64_t>();
      return number >= node.integer_lo && number <= node.integer_hi;
    }
    case Kind::Number: {
      if (!value.is_number()) return false;
      const double number = value.get<double>();
      return std::isfinite(number) && number >= node.number_lo && number <= node.number_hi;
    }
    case Kind::Array:
      return value.is_array();
    case Kind::Object:
    case Kind::Map:
      return value.is_object();
  }
  return false;
}

void check_node(const Node& node, const json& value, const std::string& path, const std::string& source) {
  const auto fail = [&](const std::string& at, const std::string& expected, const std::string& found) {
    throw InputError(fmt::format("{}: key '{}': expected {}, found {}", source, at.empty() ? "(the document)" : at,
                                 expected, found));
  };
  if (!fits(node, value)) fail(path, expected_text(node), found_text(value));
  if (value.is_null()) return;
  if (node.kind == Kind::Array) {
    for (std::size_t i = 0; i < value.size(); ++i)
      check_node(*node.values, value[i], fmt::format("{}[{}]", path, i), source);
  } else if (node.kind == Kind::Map) {
    for (const auto& [key, item] : value.items()) {
      check_node(*node.values, item, path.empty() ? key : path + "." + key, source);
    }
  } else if (node.kind == Kind::Object) {
    for (const auto& field : node.fields) {
      const std::string at = path.empty() ? field.key : path + "." + field.key;
      const auto found = value.find(field.key);
      if (found == value.end()) {
        if (field.required) fail(at, expected_text(field.shape.node()), "no such key");
        continue;
      }
      check_node(field.shape.node(), *found, at, source);
    }
  }
}

std::shared_ptr<Node> make(Kind kind) {
  auto node = std::make_shared<Node>();
  node->kind = kind;
  return node;
}

}  // namespace

JsonShape JsonShape::any() { return JsonShape(make(Kind::Any)); }
JsonShape JsonShape::boolean() { return JsonShape(make(Kind::Boolean)); }

JsonShape JsonShape::string(const TextRule* rule) {
  auto node = make(Kind::String);
  node->rule = rule;
  return JsonShape(node);
}

JsonShape JsonShape::integer(int64_t lo, int64_t hi) {
  auto node = make(Kind::Integer);
  node->integer_lo = lo;
  node->integer_hi = hi;
  return JsonShape(node);
}

JsonShape JsonShape::number(double lo, double hi) {
  auto node = make(Kind::Number);
  node->number_lo = lo;
  node->number_hi = hi;
  return JsonShape(node);
}

JsonShape JsonShape::array(const JsonShape& items) {
  auto node = make(Kind::Array);
  node->values = items.node_;
  return JsonShape(node);
}

JsonShape JsonShape::object(std::vector<Field> fields) {
  auto node = make(Kind::Object);
  node->fields = std::move(fields);
  return JsonShape(node);
}

JsonShape JsonShape::map(const JsonShape& values) {
  auto node = make(Kind::Map);
  node->values = values.node_;
  return JsonShape(node);
}

JsonShape JsonShape::or_null() const {
  auto node = std::make_shared<Node>(*node_);
  node->nullable = true;
  return JsonShape(node);
}

void JsonShape::check(const json& value, const std::string& source) const { check_node(*node_, value, "", source); }

json parse_json_document(std::string_view text, const std::string& source, const JsonShape& shape) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& error) {
    throw InputError(
        fmt::format("{}: expected JSON written by bitline, found a parse error: {}", source, error.what()));
  }
  shape.check(document, source);
  return document;
}

json read_json_document(const std::filesystem::path& path, const JsonShape& shape) {
  return parse_json_document(io::read_text_file(path), path.string(), shape);
}

}  // namespace bitline::app
