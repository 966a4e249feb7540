#pragma once
// The `sot_mram_fp` macro (docs/macros/sot_mram_fp.md; papers.md §3): floating-point digital PIM for
// training. Every multiply and add of a product runs in the array as a program of bit primitives
// (core/sot_mram/array_program.h); the values come from the functional model's SIMD GEMM
// (core/sot_mram/kernel.h), equal to the programs bit for bit. All three products of a training step
// run on it, and the SGD update too, in the macro's format.
//
// Two logic families share the programs: `sot_mram` (the paper's cell: a full add in one multi-row
// read with write-back, a complementary MTJ for free inversion, an in-memory exponent search) and
// `magic_nor` (the FloatPIM-style baseline: ReRAM with stateful NOR/NOT only, each primitive a
// sequence of NOR cycles, the exponent difference by subtraction).
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/macro.h"
#include "core/sot_mram/array_program.h"
#include "core/sot_mram/kernel.h"

namespace bitline::core::sot_mram {

enum class Logic { SotMram, MagicNor };
std::string to_string(Logic logic);  // "sot_mram", "magic_nor"

// What one primitive costs on a logic family: cycles of the engine's clock and energy per column
// (one operand set) it acts on.
struct PrimitiveCost {
  double cycles = 0;
  double energy_fj = 0;
};
struct LogicCosts {
  std::array<PrimitiveCost, kPrimitiveCount> by_primitive{};
  double cycle_ns = 1.0;
  double cell_area_f2 = 4.0;  // one bit cell, in F^2 of the technology node
  const PrimitiveCost& operator[](Primitive primitive) const { return by_primitive[static_cast<int>(primitive)]; }
};

// The device figures behind a family's primitive costs (docs/macros/sot_mram_fp.md cites each).
struct DeviceFigures {
  // sot_mram: a read (one sense of a column's cells, the multi-row read of a full add included) and a
  // write (one SOT switching pulse) per cycle.
  double read_energy_fj = 20.0;    // [A]: no published per-bit read energy was found
  double write_energy_fj = 100.0;  // imec 2023: "below 100 fJ per bit" (news item)
  double cycle_ns = 1.0;           // Huang et al., Nature Electronics 2025: 1 ns SOT switching
  double cell_area_f2 = 60.0;      // [A, low confidence]: an NVSim SOT cell file (60.61 F^2)
  // magic_nor: one NOR, NOT or INIT per cycle, each 6.4 fJ per row [ConvPIM/RACER figures].
  double nor_energy_fj = 6.4;
  double nor_cycle_ns = 1.0;  // FloatPIM: 1 ns memristor switching
  double nor_cell_area_f2 = 4.0;  // a 1R crossbar cell [A]
};
// The primitives' costs on a family. sot_mram: a full add is one multi-row read and two writes
// (sum, carry) [A]; a copy or shift a read and a write; an inversion is free (the second MTJ holds
// D̄); a search one read. magic_nor (AritPIM's counting, one initialisation per cycle): a full add 9
// NOR + 9 INIT = 18 cycles; a copy or shift NOT-NOT with their INITs = 4; an inversion INIT + NOT =
// 2; a write one INIT; a read one sense cycle [A]; no search.
LogicCosts logic_costs(Logic logic, const DeviceFigures& device);

// One operation's program at these (expected) primitive counts on a family: its cycles and its
// energy.
using ProgramCounts = std::array<double, kPrimitiveCount>;
double program_cycles(const ProgramCounts& counts, const LogicCosts& costs);
double program_energy_pj(const ProgramCounts& counts, const LogicCosts& costs);

// The mean primitive counts of one multiply and one add, from the programs run on a sample of
// operands [A: nonzero values, |x| log-uniform over 8 binades around 1, both signs; zeros, which
// take the cheap side path, are not credited].
struct ExpectedCounts {
  ProgramCounts multiply{}, add{};
};
ExpectedCounts expected_counts(const EngineOptions& options, int samples = 2048);

struct Spec {
  EngineOptions engine;  // format, rounding, exponent difference
  Logic logic = Logic::SotMram;
  DeviceFigures device;
  TrainingProducts training{true, true, true, true};
};
// Throws std::invalid_argument naming the field: the format's widths; magic_nor with the search.
void validate(const Spec& spec);

class SotMramFpMacro : public core::Macro {
 public:
  explicit SotMramFpMacro(std::shared_ptr<const Spec> spec, std::shared_ptr<const ExpectedCounts> counts);
  const Spec& spec() const { return *spec_; }
  const ExpectedCounts& counts() const { return *counts_; }
  const LogicCosts& costs() const { return costs_; }

  // y = x · wᵀ: the operands rounded to the format (nearest even), each output's K products summed
  // in K order from +0, in the format.
  void forward(const ProductShape& shape, const float* x, const float* w, const NoiseKey& key, float* out,
               Events* events) const override;
  TrainingProducts training_products() const override { return spec_->training; }
  // dx [rows, K] = dy · w, summed over the output columns in their order; dw [cols, K] = dyᵀ · x,
  // summed over the rows (samples and positions) in their order.
  void input_gradient(const ProductShape& shape, const float* dy, const float* w, const NoiseKey& key, float* dx,
                      Events* events) const override;
  void weight_gradient(const ProductShape& shape, const float* dy, const float* x, const NoiseKey& key, float* dw,
                       Events* events) const override;
  // w ← w + (-learning_rate) · g in the format: one multiply and one add per weight, in place.
  void update_weights(int64_t count, float* w, const float* gradient, double learning_rate,
                      Events* events) const override;

  // Per product: rows · cols · K MACs, as many in-memory multiplies and adds; rows · K array
  // activations (one input element against a row of stored weights, all columns at once).
  Events count(const ProductShape& shape) const override;
  bool lossless() const override { return false; }
  // For the inference cost model (weight-stationary): one K index per row, the output columns' values
  // of 1 + e + m bits side by side along it.
  ArrayFootprint footprint(const ProductShape& shape) const override;
  // One MAC's programs (a multiply and an add), in clock cycles of the chip.
  double cycles_per_activation(const cost::Hardware& hardware, const cost::ComponentLibrary&) const override;
  std::optional<double> own_energy_pj(const EventType& type) const override;

  // Expected cycles and energy of one operation on this family.
  double multiply_cycles() const;
  double add_cycles() const;
  double multiply_energy_pj() const;
  double add_energy_pj() const;

 private:
  Events operations(int64_t multiplies, int64_t adds) const;
  std::shared_ptr<const Spec> spec_;
  std::shared_ptr<const ExpectedCounts> counts_;
  LogicCosts costs_;
};

class SotMramFpSpec : public core::MacroSpec {
 public:
  explicit SotMramFpSpec(Spec spec);  // validates; samples the programs' expected counts
  const Spec& spec() const { return *spec_; }
  std::string type() const override { return "sot_mram_fp"; }
  core::OperandKind operand_kind() const override { return core::OperandKind::FloatingPoint; }
  std::unique_ptr<core::Macro> for_format(const NumberFormat& format) const override;
  std::string operand_format() const override;
  std::string readout() const override;
  std::vector<core::EventKind> emitted_kinds() const override;
  cost::MacroInventory macro_inventory(const std::vector<const core::Macro*>& layers, const cost::Hardware& hardware,
                                       const cost::ComponentLibrary& library) const override;

 private:
  std::shared_ptr<const Spec> spec_;
  std::shared_ptr<const ExpectedCounts> counts_;
};

}  // namespace bitline::core::sot_mram
