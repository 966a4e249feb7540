#pragma once
// The shape a JSON file that bitline reads must have (results.json, sweep.json, slurm/jobs.json,
// cost_<macro>.json, a DDC-PIM pairing file): which keys, of which types, in which ranges. A file is
// checked against its shape once, when it is read, so that the code using it can rely on every key
// it reads; a file of the wrong shape is bad input, refused naming the file, the JSON path, what was
// expected and what was found. Without LibTorch (the fuzz harnesses link it).
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config_schema.h"

namespace bitline::app {

class JsonShape {
 public:
  struct Field;

  static JsonShape any();
  static JsonShape boolean();
  static JsonShape string(const TextRule* rule = nullptr);
  static JsonShape integer(int64_t lo = std::numeric_limits<int64_t>::min(),
                           int64_t hi = std::numeric_limits<int64_t>::max());
  // A finite number in [lo, hi] (nlohmann writes NaN and infinity as null: allow it with or_null()).
  static JsonShape number(double lo = -std::numeric_limits<double>::max(),
                          double hi = std::numeric_limits<double>::max());
  static JsonShape array(const JsonShape& items);
  // An object with these keys (required ones must be there); other keys are allowed and not read.
  static JsonShape object(std::vector<Field> fields);
  // An object whose every value has this shape (keys are names, e.g. energy by part).
  static JsonShape map(const JsonShape& values);
  // This shape or null.
  JsonShape or_null() const;

  // Throws InputError "<source>: key '<path>': expected <what>, found <what>" at the first value that
  // does not fit.
  void check(const nlohmann::json& value, const std::string& source) const;

  struct Node;
  const Node& node() const { return *node_; }

 private:
  explicit JsonShape(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  std::shared_ptr<const Node> node_;
};

struct JsonShape::Field {
  std::string key;
  JsonShape shape;
  bool required = true;
};
inline JsonShape::Field required_key(std::string key, JsonShape shape) {
  return {std::move(key), std::move(shape), true};
}
inline JsonShape::Field optional_key(std::string key, JsonShape shape) {
  return {std::move(key), std::move(shape), false};
}

// `text` parsed and checked against `shape`; InputError naming `source` when it is not JSON or does
// not fit.
nlohmann::json parse_json_document(std::string_view text, const std::string& source, const JsonShape& shape);
// The same for a file (InputError naming it when it cannot be read).
nlohmann::json read_json_document(const std::filesystem::path& path, const JsonShape& shape);

}  // namespace bitline::app
