#include "core/cost/components.h"

namespace bitline::core::cost {

Scaling scaling(const Technology& from, const Technology& to) {
  const double size = to.node_nm / from.node_nm, voltage = to.vdd_v / from.vdd_v;
  return {size * voltage * voltage, size, size * size};
}

const char* part_name(Part part) {
  static const char* const kNames[kPartCount] = {"adc",          "dac",          "cells",   "adder_tree",
                                                 "shift_add",    "accumulator",  "buffer",  "interconnect",
                                                 "weight_write", "leakage",      "sense_amp", "periphery"};
  return kNames[static_cast<int>(part)];
}

// Published: M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
// (45 nm, 0.9 V): 8/16/32-bit integer add 0.03/0.05/0.1 pJ and 36/67/137 um^2; a 64-bit read of
// an 8 KB / 32 KB SRAM 10 / 20 pJ; 16/32-bit floating-point add 0.4/0.9 pJ and 1360/4184 um^2;
// 8/32-bit integer multiply 0.2/3.1 pJ and 282/3495 um^2. K. Mistry et al., IEDM 2007: 45 nm 6T SRAM cell 0.346 um^2.
// Survey of on-chip interconnect (ISRN Electronics 2012, table 1): a conventional full-swing wire at
// 130 nm, 1.2 V costs 310 fJ/bit/mm. L. Kull et al., ISSCC 2013: an 8-bit SAR ADC at 1.2 GS/s
// takes 3.1 mW in 32 nm (2.58 pJ per conversion). A. Shafiee et al. (ISAAC), ISCA 2016, table 2,
// 32 nm: 8 such ADCs take 0.0096 mm^2; 8 x 128 1-bit DACs take 4 mW and 0.00017 mm^2 at one
// drive per 100 ns crossbar cycle; the 64 KB eDRAM tile buffer takes 0.083 mm^2. Y. S. Shao et al.
// (Aladdin), ISCA 2014, 40 nm: a 1-bit register takes 5.98 um^2. CiMLoop (T. Andrulis et al.,
// ISPASS 2024; its public models mit-emze/cimloop and Accelergy-Project/hwcomponents-library) for
// the 65 nm, 1.2 V SRAM CiM chip of H. Jia et al., JSSC 2020: a 2 fF bit-cell capacitor; datapath
// and shift-add leak 4.44 + 2.22 uW over 10535 + 5000 um^2. The 32 nm figures are scaled at the
// reference supply (ISAAC states none). docs/cost.md lists every source and assumption.
namespace {
double scaled_energy(double energy, const Technology& from, const Technology& to) {
  return energy * scaling(from, to).energy;
}
}  // namespace

ComponentLibrary default_components() {
  ComponentLibrary c;
  c.reference = {45, 0.9};
  const Technology isaac{32, 0.9};
  const Scaling from_isaac = scaling(isaac, c.reference);
  const Technology jia{65, 1.2};
  c.adc_fom_fj_per_step = 3.1e-3 / 1.2e9 / 256 * 1e15 * from_isaac.energy;  // Kull 2013: 2.58 pJ / 2^8
  c.adc_area_um2_per_level = 0.0096e6 / 8 / 256 * from_isaac.area;         // ISAAC: 1200 um^2 per 8-bit ADC
  c.adc_conversion_ns = 1 / 1.2 * from_isaac.latency;                       // Kull 2013: 1.2 GS/s
  c.adc_fom_corner_msps = 1.2e3 / from_isaac.latency;  // Kull 2013: the FoM holds up to its measured rate [A]
  // A latch-type sense amplifier takes about one flip-flop [A]: Aladdin's register bit.
  c.sense_amp_area_um2 = 5.98 * scaling({40, 0.9}, c.reference).area;
  c.dac_energy_pj = 4e-3 * 100e-9 / 1024 * 1e12 * from_isaac.energy;       // ISAAC: 4 mW / 1024 DACs x 100 ns
  c.dac_area_um2 = 0.00017e6 / 1024 * from_isaac.area;                     // ISAAC
  // CiMLoop's Jia et al. cell: 2 fF charged to V_DD per activation (C V^2 from the supply).
  c.cell_energy_fj = scaled_energy(2.0 * 1.2 * 1.2, jia, c.reference);
  c.cell_area_um2 = 0.346;           // Mistry 2007
  c.cell_write_energy_pj = 10.0 / 64;        // Horowitz: 8 KB SRAM, per bit
  c.adder_energy_pj_per_bit = 0.03 / 8;      // Horowitz: 8-bit add, per bit
  c.adder_area_um2_per_bit = 36.0 / 8;       // Horowitz: 8-bit adder, per bit
  c.shift_add_energy_pj = 0.05;              // Horowitz: 16-bit add
  c.shift_add_area_um2 = 67;                 // Horowitz: 16-bit adder
  c.accumulator_energy_pj = 0.1;             // Horowitz: 32-bit add
  c.accumulator_area_um2 = 137;              // Horowitz: 32-bit adder
  c.column_read_energy_pj = 10.0 / 64;       // Horowitz: 8 KB SRAM read, per bit
  c.float_add_energy_pj_per_significand_bit = 0.9 / 24;     // Horowitz: fp32 add / 24 (fp16: 11 x = 0.41 vs 0.4)
  c.float_adder_area_um2_per_significand_bit = 4184.0 / 24;  // Horowitz: fp32 adder / 24 (fp16: 1918 vs 1360)
  c.multiplier_energy_pj_per_bit_squared = 0.2 / 64;  // Horowitz: 8-bit multiply / 8^2 (32-bit: 3.1 / 32^2, 3 % less)
  c.multiplier_area_um2_per_bit_squared = 282.0 / 64;  // Horowitz: 8-bit multiplier / 8^2 (32-bit: 3495 / 32^2, 23 % less)
  c.buffer_energy_pj_per_bit = 20.0 / 64;    // Horowitz: 32 KB SRAM, per bit
  c.buffer_area_um2_per_bit = 0.083e6 / (64 * 8192) * from_isaac.area;  // ISAAC: 64 KB eDRAM buffer
  // The survey's 130 nm wire scaled to 45 nm, 0.9 V like everything else: 0.310 * 45/130 * (0.9/1.2)^2.
  c.interconnect_energy_pj_per_bit_mm = scaled_energy(0.310, {130, 1.2}, {45, 0.9});
  // CiMLoop's Jia et al. datapath and shift-add: static power per area, kept across nodes [A].
  c.leakage_mw_per_mm2 = (4.44e-3 + 2.22e-3) / ((10535 + 5000) * 1e-6);
  return c;
}

ComponentLibrary scaled(const ComponentLibrary& library, const Technology& to) {
  const Scaling s = scaling(library.reference, to);
  ComponentLibrary c = library;
  c.reference = to;
  for (double* energy : {&c.adc_fom_fj_per_step, &c.dac_energy_pj, &c.cell_energy_fj, &c.cell_write_energy_pj,
                         &c.adder_energy_pj_per_bit, &c.shift_add_energy_pj, &c.accumulator_energy_pj,
                         &c.column_read_energy_pj, &c.float_add_energy_pj_per_significand_bit, &c.multiplier_energy_pj_per_bit_squared,
                         &c.buffer_energy_pj_per_bit, &c.interconnect_energy_pj_per_bit_mm}) {
    *energy *= s.energy;
  }
  for (double* area : {&c.adc_area_um2_per_level, &c.sense_amp_area_um2, &c.dac_area_um2, &c.cell_area_um2, &c.adder_area_um2_per_bit,
                       &c.shift_add_area_um2, &c.accumulator_area_um2, &c.buffer_area_um2_per_bit,
                       &c.float_adder_area_um2_per_significand_bit, &c.multiplier_area_um2_per_bit_squared}) {
    *area *= s.area;
  }
  c.adc_conversion_ns *= s.latency;
  c.adc_fom_corner_msps /= s.latency;
  return c;
}

}  // namespace bitline::core::cost
