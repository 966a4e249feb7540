#pragma once
// The chip around a macro, for the cost model: its technology, clock, arrays, tiles, buffers and
// component library. The macro itself comes from the simulation config (DESIGN.md invariant 1).
#include <cstdint>

#include "core/cost/components.h"

namespace bitline::core::cost {

struct Hardware {
  Technology technology{65, 1.0};
  double clock_mhz = 200;
  int64_t array_rows = 256, array_columns = 256;  // bit cells of one macro
  int64_t columns_per_adc = 8;                     // physical columns sharing one ADC (read in turn)
  int64_t tiles = 16, macros_per_tile = 4;
  double tile_buffer_kib = 64, global_buffer_kib = 512;
  int64_t output_bits = 8;          // bits of each layer output written back
  double interconnect_mm = 1;       // mean distance between a buffer and a macro
  ComponentLibrary components = default_components();  // at components.reference
};
// Throws std::invalid_argument naming the field ("array_rows must be >= 1, found 0").
void validate(const Hardware& hardware);

// The parts every macro's array has: its bit cells, one row driver per row and one sense amplifier
// per column (`library` at the chip's technology); a macro type adds its own periphery.
MacroInventory array_inventory(const Hardware& hardware, const ComponentLibrary& library);

}  // namespace bitline::core::cost
