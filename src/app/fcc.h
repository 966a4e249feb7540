#pragma once
// DDC-PIM's filter-wise complementary correlation (FCC; docs/ddc_pim.md): which layers are paired,
// their pairing from the trained weights (core/ddc_pim/pairing.h), the pairing file that keeps it
// beside the checkpoints, and the tie applied to a model's layers.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/config.h"
#include "app/pairing_file.h"
#include "nn/model.h"
#include "nn/quant_layers.h"

namespace bitline::app {

// The kind of layer for train.fcc.layers ("pointwise", "depthwise", "conv", "linear"), or "" when
// its filters cannot be paired (attention products, grouped convs that are not depthwise).
std::string pairing_kind(const nn::QuantLayer& layer);

// True when the config's network has paired filters: the FCC stage trains, or an evaluation runs
// weights paired or fcc.
bool pairs_filters(const Config& config);

// The layers train.fcc pairs (by kind, the first conv, keep_unpaired, layers kept in fp32).
std::vector<std::pair<std::string, std::shared_ptr<nn::QuantLayer>>> paired_layers(nn::Model& model, const Config& config);

// The pairing's shape without weights, for the cost model: every chosen layer's filters paired as
// (0, 1), (2, 3), ... (cost depends only on how many pairs there are).
PairingTable nominal_pairing(nn::Model& model, const Config& config);

// Pairs the chosen layers of `model` (holding the weights FCC starts from), per train.fcc.
PairingTable compute_pairing(nn::Model& model, const Config& config);

// The pairing file of a config in its checkpoint directory.
std::filesystem::path pairing_path(const Config& config);
void write_pairing(const std::filesystem::path& path, const PairingTable& table);
// Reads a pairing file (parse_pairing) and checks it against the config and the model: the config's
// encoding, every layer the config pairs present (with the model's kind, filters and depth) with a
// perfect pairing, no other layer; InputError naming the file and the layer otherwise.
PairingTable read_pairing(const std::filesystem::path& path, nn::Model& model, const Config& config);

// The pairing of `config` for the model holding its source weights: read from its file when one
// exists for the same pairing hash, else computed and written there. Prints one line per layer
// when `verbose`.
std::shared_ptr<const PairingTable> pairing_for(nn::Model& model, const Config& config, bool verbose);

// Moves each pair's free filter to the middle of the two: w_free <- (w_free - w_tied - Δ) / 2
// (Δ: one quantization step in two's complement, 0 in offset binary), so that the tie changes both
// filters by the same amount.
void center_free_filters(nn::Model& model, const PairingTable& table, const Config& config);
// FCC's optional first phase (train.fcc.penalty_*): the mean over the paired weights of
// ((w_free + w_tied + Δ) / r)², r the free filter's weight range (held constant), times the weight.
std::function<torch::Tensor()> pair_penalty(nn::Model& model, const PairingTable& table, const Config& config);
// Ties the pairs of every listed layer (LayerQuantSpec::pairing), after apply_mode.
void apply_pairing(nn::Model& model, const PairingTable& table);

}  // namespace bitline::app
