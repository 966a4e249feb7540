#pragma once
// A DAISM chip beside its two baselines on the same SRAM (docs/daism_validation.md): the same arrays
// (tiles x macros x rows x columns), node, clock and component library, running one GEMM of the
// DAISM macro's floating-point format, each design priced from its own events.
//
// - daism: the multi-wordline OR multiplier of the macro (its events, footprint and periphery).
// - bit_serial: a Neural-Cache-style bit-serial multiplier in a transposed layout [A]: each
//   column holds one stored element, a copy of its driving element and their product; all columns
//   of an array compute at once, two rows read and one written per cycle.
// - mac_array: the SRAM holds the stored elements in their plain format; each cycle reads one row
//   into a row of exact digital MAC lanes (integer mantissa multiplier, exponent adder,
//   normaliser, floating-point accumulator) [A].
//
// Every design normalises and accumulates its products in the same peripheral floating-point
// adders, so the comparison isolates the multiplier. Utilisation is ideal (every array busy, every
// operation full) [A]; buffers, interconnect and leakage, the same for all three, are left out.
#include <cstdint>
#include <string>
#include <vector>

#include "core/cost/hardware.h"
#include "core/daism/macro.h"

namespace bitline::core::daism {

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;  // out [m, n] = driving [m, k] . stored [n, k]^T
  int64_t products() const { return m * n * k; }  // after check_gemm
};
// The most products a GEMM may have (2^53: every count of the comparison stays exact in a double).
inline constexpr int64_t kMaxGemmProducts = int64_t{1} << 53;
// Throws std::invalid_argument unless m, n, k >= 1 and m n k <= kMaxGemmProducts (checked without overflow).
void check_gemm(const GemmShape& gemm);

struct DesignCost {
  std::string design;                  // "daism", "bit_serial", "mac_array"
  std::string description;             // one line for the table
  int64_t products_per_operation = 0;  // of one array
  int64_t cycles_per_operation = 0;
  int64_t stored_elements_per_array = 0;
  Events events_per_operation;  // of one array
  Events store_events_per_element;  // writing one stored element (bits and precomputation)
  // The GEMM on the chip (ideal utilisation).
  int64_t operations = 0;
  double cycles = 0;
  bool stored_operand_fits = false;  // n x k stored elements fit in the chip's arrays at once
  cost::PerPart energy_pj{};         // the GEMM's products, by part
  double energy_pj_total = 0;
  double store_energy_pj = 0;  // writing the stored operand once (not in energy_pj)
  cost::PerPart area_um2{};    // the chip's arrays with their periphery, by part
  double area_mm2 = 0;
  double energy_pj_per_product() const;
  double tops = 0, tops_per_w = 0, tops_per_mm2 = 0;
};

// The three designs on `hardware` (validated), running `gemm` (each dimension >= 1) in the
// format of `daism` (a floating-point DAISM macro). Throws std::invalid_argument naming the field.
std::vector<DesignCost> compare_designs(const DaismMacro& daism, const cost::Hardware& hardware, const GemmShape& gemm);

}  // namespace bitline::core::daism
