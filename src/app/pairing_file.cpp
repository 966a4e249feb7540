#include "app/pairing_file.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/digest.h"
#include "core/error.h"

namespace bitline::app {
namespace {

[[noreturn]] void bad_pairing(const std::string& source, const std::string& what) {
  throw InputError(fmt::format("{}: not a valid pairing file: {}; delete it to pair again", source, what));
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
  PairingTable table;
  try {
    const auto file = nlohmann::json::parse(text);
    table.hash = file.at("pairing_hash").get<std::string>();
    const auto encoding = file.at("encoding").get<std::string>();
    if (encoding != "twos_complement" && encoding != "offset_binary") {
      bad_pairing(source, "key 'encoding': expected twos_complement or offset_binary, found " + encoding);
    }
    table.encoding = encoding == "offset_binary" ? core::PairEncoding::OffsetBinary : core::PairEncoding::TwosComplement;
    std::set<std::string> names;
    for (const auto& entry : file.at("layers")) {
      LayerPairing layer;
      layer.layer = entry.at("layer").get<std::string>();
      layer.kind = entry.at("kind").get<std::string>();
      layer.filters = entry.at("filters").get<int64_t>();
      layer.depth = entry.at("depth").get<int64_t>();
      layer.pairs = entry.at("pairs").get<std::vector<std::pair<int64_t, int64_t>>>();
      layer.unpaired = entry.at("unpaired").get<int64_t>();
      layer.cost = entry.at("cost").get<int64_t>();
      layer.seconds = entry.at("seconds").get<double>();
      const std::string where = "layer '" + layer.layer + "'";
      if (!names.insert(layer.layer).second) bad_pairing(source, where + " is listed twice");
      if (layer.kind != "pointwise" && layer.kind != "depthwise" && layer.kind != "conv" && layer.kind != "linear") {
        bad_pairing(source, where + ": key 'kind': expected pointwise, depthwise, conv or linear, found " + layer.kind);
      }
      if (layer.filters < 1 || layer.depth < 1 || layer.cost < 0) {
        bad_pairing(source, fmt::format("{}: expected filters and depth >= 1 and cost >= 0, found {}, {} and {}", where,
                                        layer.filters, layer.depth, layer.cost));
      }
      std::set<int64_t> used;
      auto use = [&](int64_t index) {
        if (index < 0 || index >= layer.filters || !used.insert(index).second) {
          bad_pairing(source, fmt::format("{}: filter {} is out of range [0, {}) or used twice", where, index, layer.filters));
        }
      };
      for (const auto& [a, b] : layer.pairs) {
        use(a);
        use(b);
      }
      if (layer.unpaired != -1) use(layer.unpaired);
      table.layers.push_back(std::move(layer));
    }
  } catch (const nlohmann::json::exception& error) {
    bad_pairing(source, error.what());
  }
  return table;
}

}  // namespace bitline::app
