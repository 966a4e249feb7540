#pragma once
// The SOT-MRAM FP engine at the bit level (papers.md §3(a)-(b); docs/macros/sot_mram_fp.md): an
// array of bit cells, the primitives its cells and peripherals perform, and the floating-point
// multiply and add written as programs of those primitives. Running a program computes the result
// through the bits and returns the exact, data-dependent count of every primitive. For tests and
// cost tables, not for training: core/sot_mram/kernel.h computes the same values fast.
//
// Operands lie column-wise (one value's bits along a column), one operand set per column, many
// columns in parallel [A]. A program's registers are runs of cells of that column.
#include <array>
#include <cstdint>
#include <string>

#include "core/events.h"
#include "core/rounding.h"

namespace bitline::core::sot_mram {

enum class Primitive : uint8_t {
  FullAdd,  // one bit position: a multi-row read of (a, b, carry), sum and carry written back
  Copy,     // one bit copied to another cell of the column
  Shift,    // one bit copied to a cell at an offset (a register shifted bit by bit)
  Search,   // one exponent-search read: the exponent difference against the window's candidates
  Write,    // one cell written with a constant (a scratch register cleared, a special result)
  Read,     // one cell sensed by the controller (a multiplier bit, a carry, a leading-one step)
  Invert,   // one bit read complemented (the second MTJ holds D̄ [A]; NOR logic pays a NOT)
};
constexpr int kPrimitiveCount = 7;
std::string to_string(Primitive primitive);  // "full_add", "copy", ...

struct PrimitiveCounts {
  std::array<int64_t, kPrimitiveCount> by_primitive{};
  int64_t& operator[](Primitive primitive) { return by_primitive[static_cast<int>(primitive)]; }
  int64_t operator[](Primitive primitive) const { return by_primitive[static_cast<int>(primitive)]; }
  PrimitiveCounts& operator+=(const PrimitiveCounts& other);
  bool operator==(const PrimitiveCounts& other) const { return by_primitive == other.by_primitive; }
};

// How the add finds the exponent difference: one search read against candidate columns of the
// other exponent ± the window (the paper's in-memory search [A: the candidates are a table written
// once]), or an (e + 1)-bit subtraction by full adds read out bit by bit (NOR logic has no search).
enum class ExponentDifference { Search, Subtract };
std::string to_string(ExponentDifference method);  // "search", "subtract"

struct EngineOptions {
  NumberFormat format{8, 7};
  Rounding rounding = Rounding::TowardZero;
  ExponentDifference exponent_difference = ExponentDifference::Search;
};
// The add's alignment window: operands whose exponents differ by more lose the smaller one whole.
int search_window(const EngineOptions& options);

struct ProgramRun {
  float value = 0;  // the result, a value of the format
  PrimitiveCounts counts;
};
// a and b: values of the format (core/sot_mram/fp_format.h: to_format).
ProgramRun run_multiply(float a, float b, const EngineOptions& options);
ProgramRun run_add(float a, float b, const EngineOptions& options);

}  // namespace bitline::core::sot_mram
