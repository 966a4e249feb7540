#pragma once
// The config of the chip around a macro (macros[].hardware, docs/cost.md): core::cost::Hardware and
// its ComponentLibrary, configured directly.
#include <limits>

#include "app/config_schema.h"
#include "core/cost/hardware.h"

// The cost model's chip and component costs are configured directly (macros[].hardware); their
// defaults live in core::cost. These describe() overloads sit in core::cost so that the schema
// visitors' unqualified describe() calls find them by argument-dependent lookup.
namespace bitline::core::cost {
// Component costs (docs/cost.md gives each default's source), at the reference technology below;
// the model scales them to the chip's.
template <class V>
void describe(V& v, ComponentLibrary& c) {
  v.field("reference_node_nm", c.reference.node_nm,
          app::Doc("technology node the values below are given at").unit("nm").range(kTechnologyNodeNm.lo, kTechnologyNodeNm.hi));
  v.field("reference_vdd_v", c.reference.vdd_v,
          app::Doc("supply the values below are given at").unit("V").range(kSupplyV.lo, kSupplyV.hi));
  v.field("adc_fom_fj_per_step", c.adc_fom_fj_per_step,
          app::Doc("ADC figure of merit: energy per conversion = FoM * 2^bits (Kull et al., ISSCC 2013: 8 bits, 2.58 pJ, 32 nm)").unit("fJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("adc_area_um2_per_level", c.adc_area_um2_per_level, app::Doc("ADC area = this * 2^bits (ISAAC, ISCA 2016: 1200 um^2 at 8 bits, 32 nm)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("adc_conversion_ns", c.adc_conversion_ns, app::Doc("time of one conversion (Kull et al.: 1.2 GS/s at 32 nm)").unit("ns").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("adc_fom_corner_msps", c.adc_fom_corner_msps,
          app::Doc("sample rate above which the FoM rises: energy x max(1, rate / corner) [assumption]; default: the rate Kull et al. measured it at; 0: flat").unit("MS/s").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("sense_amp_area_um2", c.sense_amp_area_um2, app::Doc("sense amplifier area, one per column (Aladdin, ISCA 2014: a 40 nm register bit, 5.98 um^2; a latch-type amplifier taken as one flip-flop [assumption])").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("column_read_energy_pj", c.column_read_energy_pj, app::Doc("per column read out digitally by its sense amplifier (Horowitz 2014: 8 KB SRAM read, per bit)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("dac_energy_pj", c.dac_energy_pj, app::Doc("input driver: per row driven with one input chunk (ISAAC's 1-bit DAC)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("dac_area_um2", c.dac_area_um2, app::Doc("input driver area per row (ISAAC's 1-bit DAC)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("cell_energy_fj", c.cell_energy_fj, app::Doc("per bit cell of an activation, a driven row on one column (CiMLoop's model of Jia et al., JSSC 2020: 2 fF at 65 nm, 1.2 V; C V^2)").unit("fJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("cell_area_um2", c.cell_area_um2, app::Doc("bit cell area (Mistry et al., IEDM 2007: 45 nm 6T)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("cell_write_energy_pj", c.cell_write_energy_pj, app::Doc("per weight bit written (Horowitz 2014: 8 KB SRAM)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("adder_energy_pj_per_bit", c.adder_energy_pj_per_bit,
          app::Doc("per bit of an adder-tree addition: a w-bit addition costs w times this (Horowitz 2014: 8-bit add / 8)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("adder_area_um2_per_bit", c.adder_area_um2_per_bit,
          app::Doc("adder-tree area per full-adder bit (Horowitz 2014: 8-bit adder / 8)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("shift_add_energy_pj", c.shift_add_energy_pj, app::Doc("per shift-add (Horowitz 2014: 16-bit add)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("shift_add_area_um2", c.shift_add_area_um2, app::Doc("per shift-add unit (Horowitz 2014: 16-bit adder)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("accumulator_energy_pj", c.accumulator_energy_pj, app::Doc("per partial sum accumulated across row tiles (Horowitz 2014: 32-bit add)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("accumulator_area_um2", c.accumulator_area_um2, app::Doc("per output column of a macro (Horowitz 2014: 32-bit adder)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("float_add_energy_pj_per_significand_bit", c.float_add_energy_pj_per_significand_bit,
          app::Doc("floating-point add per significand bit (mantissa + hidden bit) [assumption: linear] (Horowitz 2014: fp32 add 0.9 pJ / 24)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("float_adder_area_um2_per_significand_bit", c.float_adder_area_um2_per_significand_bit,
          app::Doc("floating-point adder area per significand bit [assumption: linear] (Horowitz 2014: fp32 adder 4184 um^2 / 24)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("multiplier_energy_pj_per_bit_squared", c.multiplier_energy_pj_per_bit_squared,
          app::Doc("integer multiplier energy per bit squared: an n-bit multiply costs n^2 times this [assumption: quadratic] (Horowitz 2014: 8-bit multiply 0.2 pJ / 64)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("multiplier_area_um2_per_bit_squared", c.multiplier_area_um2_per_bit_squared,
          app::Doc("integer multiplier area per bit squared [assumption: quadratic] (Horowitz 2014: 8-bit multiplier 282 um^2 / 64)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("buffer_energy_pj_per_bit", c.buffer_energy_pj_per_bit, app::Doc("buffer access per bit (Horowitz 2014: 32 KB SRAM)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("buffer_area_um2_per_bit", c.buffer_area_um2_per_bit, app::Doc("buffer area per bit (ISAAC, ISCA 2016: 64 KB eDRAM buffer, 0.083 mm^2 at 32 nm)").unit("um^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("interconnect_energy_pj_per_bit_mm", c.interconnect_energy_pj_per_bit_mm,
          app::Doc("wire energy per bit and mm (full-swing wire, 310 fJ/bit/mm at 130 nm 1.2 V, scaled)").unit("pJ").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
  v.field("leakage_mw_per_mm2", c.leakage_mw_per_mm2, app::Doc("static power per chip area, kept across nodes [assumption] (CiMLoop's model of Jia et al.: 6.66 uW over 15535 um^2 at 65 nm)").unit("mW/mm^2").zero_or_range(kMinComponentFigure, kMaxComponentFigure));
}

// The chip around a macro, for the cost model (docs/cost.md). The macro itself is its type's section.
template <class V>
void describe(V& v, Hardware& c) {
  v.field("technology_node_nm", c.technology.node_nm,
          app::Doc("technology node of the chip").unit("nm").range(kTechnologyNodeNm.lo, kTechnologyNodeNm.hi));
  v.field("vdd_v", c.technology.vdd_v, app::Doc("supply voltage of the chip").unit("V").range(kSupplyV.lo, kSupplyV.hi));
  v.field("clock_mhz", c.clock_mhz,
          app::Doc("clock: one array activation per cycle, conversions take whole cycles").unit("MHz").range(kClockMhz.lo, kClockMhz.hi));
  v.field("array_rows", c.array_rows, app::Doc("bit-cell rows of one macro's array (>= the macro's rows per tile, e.g. analog_sram.rows_per_conversion)").unit("rows").range(1, kMaxArrayCount));
  v.field("array_columns", c.array_columns, app::Doc("bit-cell columns of one macro's array (one per weight bit of an output column)").unit("columns").range(1, kMaxArrayCount));
  v.field("columns_per_adc", c.columns_per_adc, app::Doc("physical columns sharing one ADC, converted one after another (macros with ADCs)").unit("columns").range(1, kMaxArrayCount));
  v.field("tiles", c.tiles, app::Doc("tiles of the chip").range(1, kMaxArrayCount));
  v.field("macros_per_tile", c.macros_per_tile,
          app::Doc("macros of a tile; tiles x macros_per_tile at most 1048576").range(1, kMaxArrayCount));
  v.field("tile_buffer_kib", c.tile_buffer_kib, app::Doc("SRAM buffer of each tile").unit("KiB").range(0, kMaxBufferKib));
  v.field("global_buffer_kib", c.global_buffer_kib, app::Doc("global SRAM buffer").unit("KiB").range(0, kMaxBufferKib));
  v.field("output_bits", c.output_bits, app::Doc("bits of each layer output written back to the buffer").unit("bits").range(1, 64));
  v.field("interconnect_mm", c.interconnect_mm, app::Doc("mean distance data moves between a buffer and a macro").unit("mm").range(0, kMaxInterconnectMm));
  v.section("components", c.components, app::Doc("per-event energy and per-instance area of the components"));
}
}  // namespace bitline::core::cost

