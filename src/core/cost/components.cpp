#include "core/cost/components.h"

namespace bitline::core::cost {

Scaling scaling(const Technology& from, const Technology& to) {
  const double size = to.node_nm / from.node_nm, voltage = to.vdd_v / from.vdd_v;
  return {size * voltage * voltage, size, size * size};
}

const char* part_name(Part part) {
  static const char* const kNames[kPartCount] = {"adc",    "dac",          "cells",        "adder_tree", "shift_add", "accumulator",
                                                 "buffer", "interconnect", "weight_write", "leakage",    "sense_amp"};
  return kNames[static_cast<int>(part)];
}

// Published: M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
// (45 nm, 0.9 V): 8/16/32-bit integer add 0.03/0.05/0.1 pJ and 36/67/137 um^2; a 64-bit read of
// an 8 KB / 32 KB SRAM 10 / 20 pJ. K. Mistry et al., IEDM 2007: 45 nm 6T SRAM cell 0.346 um^2.
// Survey of on-chip interconnect (ISRN Electronics 2012, table 1): a conventional full-swing wire at
// 130 nm, 1.2 V costs 310 fJ/bit/mm. Everything marked [A] is an assumption (docs/cost.md).
namespace {
double scaled_energy_pj(double energy_pj, const Technology& from, const Technology& to) {
  return energy_pj * scaling(from, to).energy;
}
}  // namespace

ComponentLibrary default_components() {
  ComponentLibrary c;
  c.reference = {45, 0.9};
  c.adc_fom_fj_per_step = 20;        // [A] about 10x the record SAR FoM (2.2 fJ/step, Harpe et al., ISSCC 2013)
  c.adc_area_um2_per_level = 10;     // [A] a 7-bit ADC: 1280 um^2
  c.adc_conversion_ns = 5;           // [A] 200 MS/s
  c.adc_fom_corner_msps = 200;       // [A] where the FoM starts to rise with the sample rate
  c.sense_amp_area_um2 = 10;         // [A]
  c.dac_energy_pj = 0.01;            // [A] a wordline driver switching ~10 fF at 0.9 V
  c.dac_area_um2 = 5;                // [A]
  c.cell_energy_fj = 0.8;            // [A] 1 fF of cell capacitance charged to 0.9 V
  c.cell_area_um2 = 0.346;           // Mistry 2007
  c.cell_write_energy_pj = 10.0 / 64;        // Horowitz: 8 KB SRAM, per bit
  c.adder_energy_pj_per_input = 0.03 / 8;    // Horowitz: 8-bit add, per bit
  c.adder_area_um2_per_input = 36.0 / 8;     // Horowitz: 8-bit adder, per bit
  c.shift_add_energy_pj = 0.05;              // Horowitz: 16-bit add
  c.shift_add_area_um2 = 67;                 // Horowitz: 16-bit adder
  c.accumulator_energy_pj = 0.1;             // Horowitz: 32-bit add
  c.accumulator_area_um2 = 137;              // Horowitz: 32-bit adder
  c.buffer_energy_pj_per_bit = 20.0 / 64;    // Horowitz: 32 KB SRAM, per bit
  c.buffer_area_um2_per_bit = 0.346 / 0.7;   // Mistry 2007 cell at an array efficiency of 0.7 [A]
  // The survey's 130 nm wire scaled to 45 nm, 0.9 V like everything else: 0.310 * 45/130 * (0.9/1.2)^2.
  c.interconnect_energy_pj_per_bit_mm = scaled_energy_pj(0.310, {130, 1.2}, {45, 0.9});
  c.leakage_mw_per_mm2 = 1;                   // [A]
  return c;
}

ComponentLibrary scaled(const ComponentLibrary& library, const Technology& to) {
  const Scaling s = scaling(library.reference, to);
  ComponentLibrary c = library;
  c.reference = to;
  for (double* energy : {&c.adc_fom_fj_per_step, &c.dac_energy_pj, &c.cell_energy_fj, &c.cell_write_energy_pj,
                         &c.adder_energy_pj_per_input, &c.shift_add_energy_pj, &c.accumulator_energy_pj,
                         &c.buffer_energy_pj_per_bit, &c.interconnect_energy_pj_per_bit_mm}) {
    *energy *= s.energy;
  }
  for (double* area : {&c.adc_area_um2_per_level, &c.sense_amp_area_um2, &c.dac_area_um2, &c.cell_area_um2, &c.adder_area_um2_per_input,
                       &c.shift_add_area_um2, &c.accumulator_area_um2, &c.buffer_area_um2_per_bit}) {
    *area *= s.area;
  }
  c.adc_conversion_ns *= s.latency;
  c.adc_fom_corner_msps /= s.latency;
  return c;
}

}  // namespace bitline::core::cost
