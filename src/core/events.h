#pragma once
// The hardware events that macros record and the cost model prices: one vocabulary for every
// macro type (DESIGN.md: the cost model prices kinds, not a macro's struct). Each kind has a name
// (its key in reports), a meaning, the part of the chip its energy goes to and how one event is
// priced from the component library (events.cpp, the one table of kinds). A macro that needs a new
// kind adds it here and its row there.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/cost/hardware.h"

namespace bitline::core {

enum class EventKind : uint8_t {
  Mac,                // one useful multiply-accumulate of the product (a statistic: TOPS count 2 per MAC)
  ArrayActivation,    // one activation of a row tile for one input chunk, all columns at once (latency)
  RowDrive,           // one input chunk applied to one row of an array (DAC or wordline driver)
  CellRead,           // one bit cell of a driven row taking part in an activation, on its column
  AdcConversion,      // one analog-to-digital conversion; bits: the ADC's resolution
  AdderTreeAddition,  // one addition in a column adder tree; bits: the width of its operands
  ShiftAdd,           // one cycle's partial result shifted into its output's accumulator
  Accumulation,       // one output's partial sum of a row tile added to the other tiles'
  DigitalCycle,       // a statistic: a cycle of the analog macro computed exactly by an adder tree
  VotedCycle,         // a statistic: a cycle decided by a majority vote of several conversions
  CellWrite,          // one bit written into an array (weights loaded or reloaded)
  BufferAccess,       // one bit read from or written to an SRAM buffer
  WireTransfer,       // one bit moved between a buffer and a macro, over the chip's interconnect
  Sense,              // one column read out by its sense amplifier (a digital read of the array)
  PeripheralAddition, // one addition in peripheral logic; bits: its operands' width (exponents, integers)
  Normalization,      // one result normalised (leading-one select and shift); bits: the mantissa width
  FloatAddition,      // one floating-point addition; format: the adder's (accumulation of products)
  Multiplication,     // one integer multiplication in peripheral logic; bits: its operands' width (bits x bits)
  InMemoryFloatMultiplication,  // one floating-point multiply run in the array as a program of bit primitives; format
  InMemoryFloatAddition,        // one floating-point add run in the array as a program of bit primitives; format
};
constexpr int kEventKindCount = 20;

// A floating-point format: sign, exponent_bits, mantissa_bits (bf16 = {8, 7}). Kinds that act on
// floating-point values (FloatAddition) are qualified by one; {0, 0} otherwise.
struct NumberFormat {
  int exponent_bits = 0;
  int mantissa_bits = 0;
  bool operator==(const NumberFormat& other) const {
    return exponent_bits == other.exponent_bits && mantissa_bits == other.mantissa_bits;
  }
};

// One kind of event with its qualifier: the width in bits where the kind has one, or a format.
struct EventType {
  EventType(EventKind kind = EventKind::Mac, int bits = 0, NumberFormat format = {})  // NOLINT: implicit from a kind
      : kind(kind), bits(bits), format(format) {}
  EventKind kind;
  int bits;
  NumberFormat format;
  bool operator==(const EventType& other) const { return kind == other.kind && bits == other.bits && format == other.format; }
  bool operator<(const EventType& other) const;
};

// What one event kind means and costs (the table in events.cpp).
struct EventKindInfo {
  EventKind kind;
  const char* name;         // the key in reports, e.g. "adc_conversions"
  const char* description;  // one line for docs and `bitline macros`
  bool has_bits;            // qualified by a width in bits
  bool priced;              // false for statistics, which cost nothing themselves
  cost::Part part;          // the part of the chip its energy goes to (when priced)
  // Happens once in every macro a layer's columns span (an input row is driven in each of them);
  // other kinds are split between those macros.
  bool repeats_per_column_tile;
  // Energy of `count` events of `type`, from the component library at the chip's technology and the
  // chip's own quantities (interconnect length); null for statistics.
  double (*energy_pj)(const cost::ComponentLibrary& library, const cost::Hardware& hardware, const EventType& type,
                      double count);
};
const EventKindInfo& event_info(EventKind kind);
const std::vector<EventKindInfo>& event_vocabulary();

// Counts of events by type, kept sorted; zero counts are not stored.
class Events {
 public:
  Events() = default;
  void add(EventType type, int64_t count);
  // The count of one type; of every width of a kind (total).
  int64_t count(const EventType& type) const;
  int64_t total(EventKind kind) const;
  Events& operator+=(const Events& other);
  Events scaled(int64_t factor) const;
  bool operator==(const Events& other) const { return entries_ == other.entries_; }
  bool operator!=(const Events& other) const { return !(*this == other); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<EventType, int64_t>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<EventType, int64_t>> entries_;
};

// "adc_conversions", or "adc_conversions (8 bits)" for a type with a width: for messages.
std::string describe(const EventType& type);

}  // namespace bitline::core
