#pragma once
// The chip around a macro, for the cost model: its technology, clock, arrays, tiles, buffers and
// component library. The macro itself comes from the simulation config (DESIGN.md invariant 1).
#include <cstdint>

#include "core/cost/components.h"

namespace bitline::core::cost {

// Physical ranges of the chip's figures, checked by validate() and documented by `bitline config
// --defaults`: wider than any chip, narrow enough that every figure the cost model derives from them
// stays finite.
struct FigureRange {
  double lo, hi;
};
inline constexpr FigureRange kTechnologyNodeNm{1, 1000};
inline constexpr FigureRange kSupplyV{0.1, 5};
inline constexpr FigureRange kClockMhz{1e-3, 1e5};
// Any component's energy, area or time, in its unit: 0 (left out) or in [kMinComponentFigure,
// kMaxComponentFigure]; figures that must be positive (a device's) are in that interval.
inline constexpr double kMinComponentFigure = 1e-9;
inline constexpr double kMaxComponentFigure = 1e9;
inline constexpr double kMaxBufferKib = 1e9;
inline constexpr double kMaxInterconnectMm = 1e4;
inline constexpr int64_t kMaxArrayCount = int64_t{1} << 20;  // array rows, columns, columns per ADC, tiles, macros per tile
inline constexpr int64_t kMaxMacros = int64_t{1} << 20;      // tiles x macros per tile (the mapping places copies one by one)

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
// Throws std::invalid_argument naming the field ("array_rows must be in [1, 1048576], found 0").
void validate(const Hardware& hardware);

// The parts every macro's array has: its bit cells, one row driver per row and one sense amplifier
// per column (`library` at the chip's technology); a macro type adds its own periphery.
MacroInventory array_inventory(const Hardware& hardware, const ComponentLibrary& library);

}  // namespace bitline::core::cost
