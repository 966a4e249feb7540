#include "app/pairing_file.h"

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>

#include "core/digest.h"
#include "app/json_shape.h"
#include "core/error.h"

namespace bitline::app {
namespace {

[[noreturn]] void bad_pairing(const std::string& source, const std::string& what) {
  throw InputError(fmt::format("{}: not a valid pairing file: {}; delete it to pair again", source, what));
}

const JsonShape& pairing_shape() {
  static const JsonShape shape = [] {
    const JsonShape index = JsonShape::integer(0);
    return JsonShape::object({
        required_key("pairing_hash", JsonShape::string()),
        required_key("encoding", JsonShape::string()),
        required_key("layers", JsonShape::array(JsonShape::object({
                                   required_key("layer", JsonShape::string()),
                                   required_key("kind", JsonShape::string()),
                                   required_key("filters", JsonShape::integer(1)),
                                   required_key("depth", JsonShape::integer(1)),
                                   required_key("pairs", JsonShape::array(JsonShape::array(index))),
                                   required_key("unpaired", JsonShape::integer(-1)),
                                   required_key("cost", JsonShape::integer(0)),
                                   required_key("seconds", JsonShape::number(0)),
                               }))),
    });
  }();
  return shape;
}

}  // namespace

std::string pairing_json(const PairingTable& table) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : table.layers) {
    layers.push_back({{"layer", layer.layer},
                      {"kind", layer.kind},
                      {"filters", layer.filters},
                      {"depth", layer.depth},
                      {"pairs", layer.pairs},
                      {"unpaired", layer.unpaired},
                      {"cost", layer.cost},
                      {"seconds", layer.seconds}});
  }
  const nlohmann::json file = {{"pairing_hash", table.hash}, {"encoding", core::to_string(table.encoding)}, {"layers", layers}};
  return file.dump(1) + "\n";
}

std::string pairs_digest(const PairingTable& table) {
  std::string text = core::to_string(table.encoding);
  for (const auto& layer : table.layers) {
    text += "\n" + layer.layer;
    for (const auto& [a, b] : layer.pairs) text += fmt::format(" {},{}", a, b);
  }
  return core::hex64(core::fnv1a64(text.data(), text.size()));
}

PairingTable parse_pairing(std::string_view text, const std::string& source) {
  nlohmann::json file;
  try {
    file = parse_json_document(text, source + ": not a valid pairing file", pairing_shape());
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}; delete it to pair again", error.what()));
  }
  PairingTable table;
  table.hash = file.at("pairing_hash").get<std::string>();
  const auto encoding = file.at("encoding").get<std::string>();
  if (encoding != "twos_complement" && encoding != "offset_binary") {
    bad_pairing(source, "key 'encoding': expected twos_complement or offset_binary, found \"" + printable_text(encoding) + "\"");
  }
  table.encoding = encoding == "offset_binary" ? core::PairEncoding::OffsetBinary : core::PairEncoding::TwosComplement;
  std::set<std::string> names;
  for (std::size_t i = 0; i < file.at("layers").size(); ++i) {
    const auto& entry = file.at("layers")[i];
    LayerPairing layer;
    layer.layer = entry.at("layer").get<std::string>();
    layer.kind = entry.at("kind").get<std::string>();
    const std::string where = fmt::format("key 'layers[{}]' (layer '{}')", i, printable_text(layer.layer));
    layer.filters = entry.at("filters").get<int64_t>();
    layer.depth = entry.at("depth").get<int64_t>();
    for (const auto& pair : entry.at("pairs")) {
      if (pair.size() != 2) {
        bad_pairing(source, fmt::format("{}.pairs: expected pairs of two filter indices, found {}", where, pair.dump()));
      }
      layer.pairs.emplace_back(pair[0].get<int64_t>(), pair[1].get<int64_t>());
    }
    layer.unpaired = entry.at("unpaired").get<int64_t>();
    layer.cost = entry.at("cost").get<int64_t>();
    layer.seconds = entry.at("seconds").get<double>();
    if (!names.insert(layer.layer).second) bad_pairing(source, where + " is listed twice");
    if (layer.kind != "pointwise" && layer.kind != "depthwise" && layer.kind != "conv" && layer.kind != "linear") {
      bad_pairing(source, where + ".kind: expected pointwise, depthwise, conv or linear, found \"" + printable_text(layer.kind) + "\"");
    }
    std::set<int64_t> used;
    auto use = [&](int64_t index, const char* key) {
      if (index >= layer.filters || !used.insert(index).second) {
        bad_pairing(source, fmt::format("{}.{}: filter {} is out of range [0, {}) or used twice", where, key, index, layer.filters));
      }
    };
    for (const auto& [a, b] : layer.pairs) {
      use(a, "pairs");
      use(b, "pairs");
    }
    if (layer.unpaired != -1) use(layer.unpaired, "unpaired");
    table.layers.push_back(std::move(layer));
  }
  return table;
}

}  // namespace bitline::app
