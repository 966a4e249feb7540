#include "core/sot_mram/training_cost.h"

#include <cmath>
#include <stdexcept>

namespace bitline::core::sot_mram {
namespace {

double waves(double operations, double lanes) { return std::ceil(operations / lanes); }

// Programs of `count` operations of one kind: their expected primitives and energy.
void add_programs(PhaseCost& cost, const ProgramCounts& per_operation, double count, const LogicCosts& costs) {
  for (int k = 0; k < kPrimitiveCount; ++k) cost.primitives[k] += per_operation[k] * count;
  cost.energy_pj += program_energy_pj(per_operation, costs) * count;
}

// A product of `macs` MACs reducing over `depth` terms.
PhaseCost product_cost(const SotMramFpMacro& engine, double lanes, double macs, double depth) {
  const auto& counts = engine.counts();
  const auto& costs = engine.costs();
  const auto& format = engine.spec().engine.format;
  const double value_bits = 1 + format.exponent_bits + format.mantissa_bits;
  PhaseCost cost;
  cost.multiplies = macs;
  cost.adds = macs;
  cost.copies = macs * value_bits;
  add_programs(cost, counts.multiply, macs, costs);
  add_programs(cost, counts.add, macs, costs);
  ProgramCounts copy{};
  copy[static_cast<int>(Primitive::Copy)] = 1;
  add_programs(cost, copy, cost.copies, costs);
  const double outputs = macs / depth;
  const double cycles = waves(macs, lanes) * (program_cycles(counts.multiply, costs) +
                                              value_bits * costs[Primitive::Copy].cycles) +
                        waves(outputs, lanes) * depth * program_cycles(counts.add, costs);
  cost.latency_ns = cycles * costs.cycle_ns;
  return cost;
}

}  // namespace

void validate(const EngineChip& chip) {
  if (chip.block_rows < 1) throw std::invalid_argument("array_rows must be >= 1, found " + std::to_string(chip.block_rows));
  if (chip.block_columns < 1) {
    throw std::invalid_argument("array_columns must be >= 1, found " + std::to_string(chip.block_columns));
  }
  if (chip.blocks < 1) throw std::invalid_argument("blocks must be >= 1, found " + std::to_string(chip.blocks));
  if (!(chip.crossbar_area_share > 0 && chip.crossbar_area_share <= 1)) {
    throw std::invalid_argument("crossbar_area_share must be in (0, 1], found " + std::to_string(chip.crossbar_area_share));
  }
}

std::string to_string(TrainingPhase phase) {
  static const char* const names[kTrainingPhaseCount] = {"forward", "input_gradient", "weight_gradient", "update"};
  return names[static_cast<int>(phase)];
}

PhaseCost& PhaseCost::operator+=(const PhaseCost& other) {
  multiplies += other.multiplies;
  adds += other.adds;
  copies += other.copies;
  energy_pj += other.energy_pj;
  latency_ns += other.latency_ns;
  for (int k = 0; k < kPrimitiveCount; ++k) primitives[k] += other.primitives[k];
  return *this;
}

TrainingCost training_cost(const SotMramFpMacro& engine, const EngineChip& chip, const std::vector<TrainingLayer>& layers,
                           int64_t batch_size) {
  validate(chip);
  const double lanes = static_cast<double>(chip.block_rows) * static_cast<double>(chip.blocks);
  TrainingCost result;
  result.batch_size = batch_size;
  for (const auto& layer : layers) {
    LayerTrainingCost cost{layer.name, {}};
    const auto& s = layer.shape;
    const double rows = static_cast<double>(s.rows) * static_cast<double>(batch_size);
    const double macs = rows * static_cast<double>(s.cols) * static_cast<double>(s.depth()) * static_cast<double>(layer.count);
    auto& phases = cost.phases;
    phases[static_cast<int>(TrainingPhase::Forward)] = product_cost(engine, lanes, macs, static_cast<double>(s.depth()));
    if (layer.input_gradient) {
      phases[static_cast<int>(TrainingPhase::InputGradient)] = product_cost(engine, lanes, macs, static_cast<double>(s.cols));
    }
    phases[static_cast<int>(TrainingPhase::WeightGradient)] = product_cost(engine, lanes, macs, rows);
    // The update: w + (-lr) * g, one multiply and one add per weight, all in parallel lanes.
    const double weights = static_cast<double>(s.cols) * static_cast<double>(s.depth()) * static_cast<double>(layer.count);
    auto& update = phases[static_cast<int>(TrainingPhase::Update)];
    update.multiplies = weights;
    update.adds = weights;
    add_programs(update, engine.counts().multiply, weights, engine.costs());
    add_programs(update, engine.counts().add, weights, engine.costs());
    update.latency_ns = waves(weights, lanes) * (engine.multiply_cycles() + engine.add_cycles()) * engine.costs().cycle_ns;
    for (int p = 0; p < kTrainingPhaseCount; ++p) {
      result.phases[p] += phases[p];
      result.total += phases[p];
    }
    result.layers.push_back(cost);
  }
  const double feature_um = chip.technology_nm * 1e-3;
  const double cells = static_cast<double>(chip.blocks) * static_cast<double>(chip.block_rows) *
                       static_cast<double>(chip.block_columns);
  result.area_mm2 = cells * engine.costs().cell_area_f2 * feature_um * feature_um / chip.crossbar_area_share * 1e-6;
  return result;
}

}  // namespace bitline::core::sot_mram
