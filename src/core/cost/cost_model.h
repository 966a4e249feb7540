#pragma once
// What a network costs on a CiM chip: energy, latency and area from the macro's own event counts
// (DESIGN.md invariants 1 and 2). The chip is tiles of macros; each macro is an array of
// rows x columns bit cells with its peripherals. Layers map weight-stationary onto macros.
// docs/cost.md gives every equation and assumption.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/cost/components.h"
#include "core/cost/hardware.h"
#include "core/macro.h"

namespace bitline::core::cost {

// One layer's products per inference: `count` products of this shape (rows per sample) on its
// macro, fixed for the layer's operands (e.g. the groups of a grouped conv, the heads of attention).
struct LayerWorkload {
  std::string name;
  std::shared_ptr<const core::Macro> macro;
  core::ProductShape shape;
  int64_t count = 1;
  bool stored_operand_changes = false;  // attention: the stored operand is written every inference
};

struct LayerCost {
  std::string name;
  core::Events events;       // per inference, all products: what the macro records (its count())
  core::Events chip_events;  // per inference, around the macro: buffer and wire bits, weight writes
  int64_t row_tiles = 0, column_tiles = 0;
  int64_t macros = 0;            // macros one copy of the layer's weights takes
  int64_t folds = 1;             // passes when it takes more macros than the chip has
  int64_t replicas = 1;          // copies working on different rows in parallel
  double utilization = 0;        // used bit cells / bit cells of the macros it occupies
  double cycles = 0;             // per inference
  double latency_ns = 0;
  PerPart energy_pj{};           // per inference
  double energy_total_pj() const;
};

struct NetworkCost {
  std::vector<LayerCost> layers;
  bool weights_resident = false;  // every layer's weights fit at once: no reloading per inference
  double macs = 0;
  PerPart energy_pj{};
  double energy_total_pj = 0;
  double cycles_layer_by_layer = 0;      // clock cycles of one inference, layers one after the other
  double latency_layer_by_layer_ns = 0;  // one inference, layers one after the other
  double pipeline_interval_ns = 0;       // pipelined: one inference per slowest stage
  PerPart area_um2{};                    // leakage, interconnect: 0
  double area_total_mm2 = 0;
  double macro_area_mm2 = 0;
  // Throughput and efficiency (1 operation = 1 multiply or 1 add, 2 per MAC).
  double inferences_per_s = 0;  // pipelined when weights are resident, else layer by layer
  double tops = 0, tops_per_w = 0, tops_per_mm2 = 0;
};

// The network on the chip of `macro_type`'s macros: maps every layer (resident with replication
// when all fit, else layer by layer with folding) and prices the events of its macro (by the event
// vocabulary, core/events.h) and of the traffic around it. Throws std::invalid_argument naming
// the field or layer for invalid hardware or a layer that cannot be mapped.
NetworkCost evaluate(const Hardware& hardware, const core::MacroSpec& macro_type, const std::vector<LayerWorkload>& layers);

// One layer's mapping and cost with `replicas` copies of its weights, in `folds` passes, its
// weights written every inference when reload_weights (evaluate's unit of work; no leakage).
// scaled_components: hardware.components at hardware.technology.
LayerCost evaluate_layer(const Hardware& hardware, const ComponentLibrary& scaled_components,
                         const LayerWorkload& layer, int64_t replicas, int64_t folds, bool reload_weights);
// Macros one copy of a layer's weights takes. Throws std::invalid_argument when it cannot be
// mapped at all (a row tile taller than the array, an output column's weight bits wider than it).
int64_t macros_needed(const Hardware& hardware, const LayerWorkload& layer);

}  // namespace bitline::core::cost
