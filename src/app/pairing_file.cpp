#include "app/pairing_file.h"

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>

#include "core/digest.h"
#include "core/error.h"

namespace bitline::app {
namespace {

[[noreturn]] void bad_pairing(const std::string& source, const std::string& what) {
  throw InputError(fmt::format("{}: not a valid pairing file: {}; delete it to pair again", source, what));
}

// An integer entry: nlohmann's get<int64_t>() converts a float (1e20) with undefined behaviour.
int64_t integer(const nlohmann::json& value, const std::string& key, const std::string& source) {
  const bool fits = value.is_number_integer() &&
                    (!value.is_number_unsigned() || value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX));
  if (!fits) bad_pairing(source, fmt::format("key '{}': expected an integer, found {}", key, value.dump()));
  return value.get<int64_t>();
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
      const std::string where = "layer '" + layer.layer + "'";
      layer.filters = integer(entry.at("filters"), where + ".filters", source);
      layer.depth = integer(entry.at("depth"), where + ".depth", source);
      for (const auto& pair : entry.at("pairs")) {
        if (!pair.is_array() || pair.size() != 2) {
          bad_pairing(source, fmt::format("{}.pairs: expected pairs of two filter indices, found {}", where, pair.dump()));
        }
        layer.pairs.emplace_back(integer(pair[0], where + ".pairs", source), integer(pair[1], where + ".pairs", source));
      }
      layer.unpaired = integer(entry.at("unpaired"), where + ".unpaired", source);
      layer.cost = integer(entry.at("cost"), where + ".cost", source);
      layer.seconds = entry.at("seconds").get<double>();
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
