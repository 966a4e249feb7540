#pragma once
// The component library of the cost model: per-event energy and latency and per-instance area of
// each part of a CiM chip, given at a reference technology and scaled to the chip's. Defaults and
// their sources are in components.cpp and docs/cost.md.
#include <array>
#include <string>

namespace bitline::core::cost {

struct Technology {
  double node_nm = 45;
  double vdd_v = 0.9;
};

// Classical (Dennard) scaling between technologies [A]: capacitance and delay scale with the
// feature size, energy with C V^2, area with its square.
struct Scaling {
  double energy = 1, latency = 1, area = 1;
};
Scaling scaling(const Technology& from, const Technology& to);

// The parts the report breaks energy and area down into; core/events.cpp says which event kinds
// each part's energy comes from.
enum class Part {
  Adc,           // column ADCs: conversions
  Dac,           // row drivers: input chunks applied to rows
  Cells,         // the bit cells of driven rows taking part in activations
  AdderTree,     // column adder trees: their additions
  ShiftAdd,      // shift-add units: cycles' partial results
  Accumulator,   // accumulators: partial sums of row tiles added across tiles
  Buffer,        // SRAM buffers: bits read (inputs) and written (outputs)
  Interconnect,  // wires between the buffers and the macros
  WeightWrite,   // weight bits written into the array (loading, reloading when folded)
  Leakage,       // static power of the whole chip over the latency
  SenseAmp,      // one per column: digital reads of the array (and weight write-back; computation
                 // in the analog and digital SRAM macros reads through the ADCs or adder trees)
  Periphery,     // peripheral digital logic of a product: exponent adders, normalisers, FP accumulators
};
constexpr int kPartCount = 12;
const char* part_name(Part part);  // "adc", "dac", ...
using PerPart = std::array<double, kPartCount>;

// The components of one macro of the chip, per part: how many instances, and the area of one.
struct Components {
  double instances = 0;
  double unit_area_um2 = 0;
};
using MacroInventory = std::array<Components, kPartCount>;

// Per-event energy and latency and per-instance area of the components, all at `reference`.
struct ComponentLibrary {
  Technology reference;
  // ADC: energy per conversion from the Walden figure of merit, E = FoM * 2^bits * max(1, f_s /
  // f_corner) with f_s = 1 / adc_conversion_ns (flat up to the corner, then the speed wall);
  // area = a * 2^bits.
  double adc_fom_fj_per_step = 0;
  double adc_fom_corner_msps = 0;
  double adc_area_um2_per_level = 0;
  double adc_conversion_ns = 0;
  double sense_amp_area_um2 = 0;  // per column
  double column_read_energy_pj = 0;  // per column read out digitally (bitline swing and sense amplifier)
  double dac_energy_pj = 0;    // per row drive
  double dac_area_um2 = 0;     // per row driver
  double cell_energy_fj = 0;   // per cell and activation
  double cell_area_um2 = 0;    // per bit cell of the compute array
  double cell_write_energy_pj = 0;  // per bit written
  double adder_energy_pj_per_bit = 0;  // one bit (a full adder) of an adder-tree addition
  double adder_area_um2_per_bit = 0;
  double shift_add_energy_pj = 0;  // one accumulator-width add
  double shift_add_area_um2 = 0;   // per shift-add unit (one per ADC or adder tree)
  double accumulator_energy_pj = 0;
  double accumulator_area_um2 = 0;  // per output column of a macro
  // A floating-point adder, linear in the significand bits (mantissa + hidden bit) [A].
  double float_add_energy_pj_per_significand_bit = 0;
  double float_adder_area_um2_per_significand_bit = 0;
  // An n x n-bit integer (array) multiplier, quadratic in its width [A].
  double multiplier_energy_pj_per_bit_squared = 0;
  double multiplier_area_um2_per_bit_squared = 0;
  double buffer_energy_pj_per_bit = 0;
  double buffer_area_um2_per_bit = 0;
  double interconnect_energy_pj_per_bit_mm = 0;
  double leakage_mw_per_mm2 = 0;
};

// The library's defaults, at 45 nm and 0.9 V (sources in components.cpp).
ComponentLibrary default_components();
// The same library at another technology (energy, latency and area scaled; leakage per area kept).
ComponentLibrary scaled(const ComponentLibrary& library, const Technology& to);

}  // namespace bitline::core::cost
