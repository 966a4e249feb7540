#pragma once
// DDC-PIM's FCC pairing as data, and its file (`pairing-<hash>.json` in the checkpoint directory;
// docs/macros/ddc_pim.md): written after the matching, read back by later runs of the same pairing.
// Without LibTorch, so that the fuzz harness can reach the parser; app/fcc.h checks a parsed table
// against the model.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/macro.h"

namespace bitline::app {

struct LayerPairing {
  std::string layer;
  std::string kind;  // pointwise, depthwise, conv, linear
  int64_t filters = 0, depth = 0;
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (free, tied) output channels
  int64_t unpaired = -1;                            // the filter left alone, -1 when none
  int64_t cost = 0;                                 // the pairing's total cost (train.fcc.cost), in its units
  double seconds = 0;                               // time of the matching
};

struct PairingTable {
  std::string hash;  // pairing_hash(config)
  core::PairEncoding encoding = core::PairEncoding::TwosComplement;
  std::vector<LayerPairing> layers;
};

std::string pairing_json(const PairingTable& table);
// A digest of the pairs themselves (layers, encoding, pairs; not the timings), so that the FCC
// stages trained on one pairing are not reused with another (e.g. a pairing file deleted and made
// again, with ties broken differently).
std::string pairs_digest(const PairingTable& table);
// The table of a pairing file's text; InputError naming `source` and the entry when it is not JSON,
// lacks a key, has a value of the wrong type, or is inconsistent (a kind or encoding that does not
// exist, counts below 1, a filter out of range or in two pairs, a layer listed twice).
PairingTable parse_pairing(std::string_view text, const std::string& source);

}  // namespace bitline::app
