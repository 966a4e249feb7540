#pragma once
// DDC-PIM's filter-wise complementary correlation (FCC; docs/ddc_pim.md): which layers are paired,
// their pairing from the trained weights (core/ddc_pim/pairing.h), the pairing file that keeps it
// beside the checkpoints, and the tie applied to a model's layers.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/config.h"
#include "nn/model.h"
#include "nn/quant_layers.h"

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

// The kind of layer for train.fcc.layers ("pointwise", "depthwise", "conv", "linear"), or "" when
// its filters cannot be paired (attention products, grouped convs that are not depthwise).
std::string pairing_kind(const nn::QuantLayer& layer);

// Pairs the chosen layers of `model` (holding the weights FCC starts from), per train.fcc.
PairingTable compute_pairing(nn::Model& model, const Config& config);

// The pairing file of a config in its checkpoint directory.
std::filesystem::path pairing_path(const Config& config);
void write_pairing(const std::filesystem::path& path, const PairingTable& table);
// Reads and checks a pairing file against the model (layer names, filter counts, indices, every
// filter in at most one pair); InputError naming the file and entry otherwise.
PairingTable read_pairing(const std::filesystem::path& path, nn::Model& model);

// The pairing of `config` for the model holding its source weights: read from its file when one
// exists for the same pairing hash, else computed and written there. Prints one line per layer
// when `verbose`.
std::shared_ptr<const PairingTable> pairing_for(nn::Model& model, const Config& config, bool verbose);

// Moves each pair's free filter to the middle of the two: w_free <- (w_free - w_tied - Δ) / 2
// (Δ: one quantization step in two's complement, 0 in offset binary), so that the tie changes both
// filters by the same amount.
void center_free_filters(nn::Model& model, const PairingTable& table, const Config& config);
// Ties the pairs of every listed layer (LayerQuantSpec::pairing), after apply_mode.
void apply_pairing(nn::Model& model, const PairingTable& table);

}  // namespace bitline::app
