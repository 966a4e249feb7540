#pragma once
// What one training iteration of a network costs on an FP PIM engine (docs/mram_validation.md):
// the forward product, the input and weight gradients and the SGD update of every layer, each
// multiply and add a program of primitives (their expected counts, core/sot_mram/macro.h), on a chip
// of blocks whose rows all run the same primitive at once (FloatPIM's row-parallel dataflow [A]).
//
// Per product of M MACs reducing over D terms into O = M / D outputs, with L lanes (every row of
// every block):
//   multiplies: ceil(M / L) waves of one multiply program;
//   transfers: each product copied into its output's accumulating row, 1 + e + m copies [A];
//   adds: ceil(O / L) waves of D sequential add programs (the reduction order of the functional model);
// the update: ceil(P / L) waves of a multiply and an add for P weights. Layers and phases run one after
// the other; energy is every program's expected energy; area is the chip's cells at the family's cell
// area over the crossbar's share of the chip (FloatPIM: 95.1 %).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/macro.h"
#include "core/sot_mram/macro.h"

namespace bitline::core::sot_mram {

// One layer's products per sample (rows per sample) and its weights.
struct TrainingLayer {
  std::string name;
  ProductShape shape;  // rows: per sample
  int64_t count = 1;   // products (groups)
  bool input_gradient = true;  // false for the first layer: nothing upstream needs it
};

struct EngineChip {
  int64_t block_rows = 1024, block_columns = 1024;  // FloatPIM: 1 Mb blocks
  int64_t blocks = 32 * 256;                        // FloatPIM: 256 blocks per tile, 32 tiles
  double technology_nm = 28;                        // FloatPIM's node
  double crossbar_area_share = 0.951;               // FloatPIM: 95.1 % of the chip is crossbar
};
// Throws std::invalid_argument naming the field.
void validate(const EngineChip& chip);

enum class TrainingPhase { Forward, InputGradient, WeightGradient, Update };
constexpr int kTrainingPhaseCount = 4;
std::string to_string(TrainingPhase phase);  // "forward", "input_gradient", "weight_gradient", "update"

struct PhaseCost {
  double multiplies = 0, adds = 0, copies = 0;  // operations (copies: bits transferred)
  double energy_pj = 0, latency_ns = 0;
  ProgramCounts primitives{};  // expected primitive counts
  PhaseCost& operator+=(const PhaseCost& other);
};

struct LayerTrainingCost {
  std::string name;
  std::array<PhaseCost, kTrainingPhaseCount> phases{};
};

struct TrainingCost {
  std::vector<LayerTrainingCost> layers;
  std::array<PhaseCost, kTrainingPhaseCount> phases{};  // over all layers
  PhaseCost total;
  double area_mm2 = 0;
  int64_t batch_size = 0;
};

// One iteration of `batch_size` samples on `engine`.
TrainingCost training_cost(const SotMramFpMacro& engine, const EngineChip& chip, const std::vector<TrainingLayer>& layers,
                           int64_t batch_size);

}  // namespace bitline::core::sot_mram
