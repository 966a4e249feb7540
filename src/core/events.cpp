#include "core/events.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

namespace bitline::core {
namespace {

using cost::ComponentLibrary;
using cost::Hardware;
using cost::Part;

// The Walden figure of merit, flat in the sample rate up to its corner, then proportional to it.
double adc_energy_pj(const ComponentLibrary& c, const Hardware&, const EventType& type, double count) {
  const double sample_rate_msps = c.adc_conversion_ns > 0 ? 1e3 / c.adc_conversion_ns : 0.0;
  const double speed_wall = c.adc_fom_corner_msps > 0 ? std::max(1.0, sample_rate_msps / c.adc_fom_corner_msps) : 1.0;
  return count * (c.adc_fom_fj_per_step * std::ldexp(1.0, type.bits) * speed_wall * 1e-3);
}

// In-memory FP operations cost what their programs' primitives cost on the macro's device: only the
// macro knows (Macro::own_energy_pj).
double priced_by_the_macro(const ComponentLibrary&, const Hardware&, const EventType& type, double) {
  throw std::logic_error(describe(type) + " must be priced by the macro that records them (own_energy_pj)");
}

// The vocabulary: one row per kind, in EventKind order. docs/cost.md repeats it with sources.
const std::vector<EventKindInfo> kVocabulary = {
    {EventKind::Mac, "macs", "useful multiply-accumulates of the product (2 operations each for TOPS)", false, false,
     Part::Adc, false, nullptr},
    {EventKind::ArrayActivation, "tile_activations",
     "activations of a row tile of an array for one input chunk, all its columns at once (they set the latency)",
     false, false, Part::Adc, false, nullptr},
    {EventKind::RowDrive, "row_drives", "input chunks applied to one row (a DAC or wordline driver), in every column tile",
     false, true, Part::Dac, true,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) { return count * c.dac_energy_pj; }},
    {EventKind::CellRead, "cell_reads", "bit cells of a driven row taking part in an activation, one per physical column",
     false, true, Part::Cells, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) {
       return count * c.cell_energy_fj * 1e-3;
     }},
    {EventKind::AdcConversion, "adc_conversions", "analog-to-digital conversions of `bits` bits (each vote sample one)",
     true, true, Part::Adc, false, &adc_energy_pj},
    {EventKind::AdderTreeAddition, "adder_tree_additions", "additions of `bits`-bit operands in a column adder tree",
     true, true, Part::AdderTree, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType& type, double count) {
       return count * type.bits * c.adder_energy_pj_per_bit;
     }},
    {EventKind::ShiftAdd, "shift_adds", "cycle results shifted into their output's accumulator", false, true,
     Part::ShiftAdd, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) { return count * c.shift_add_energy_pj; }},
    {EventKind::Accumulation, "accumulations", "partial sums of a row tile added to the other tiles' for one output",
     false, true, Part::Accumulator, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) {
       return count * c.accumulator_energy_pj;
     }},
    {EventKind::DigitalCycle, "digital_cycles", "cycles of the analog macro computed exactly by an adder tree (HCiM)",
     false, false, Part::AdderTree, false, nullptr},
    {EventKind::VotedCycle, "voted_cycles", "cycles decided by a majority vote of conversions", false, false, Part::Adc,
     false, nullptr},
    {EventKind::CellWrite, "cell_writes", "bits written into an array (weights loaded, or reloaded when folded)", false,
     true, Part::WeightWrite, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) {
       return count * c.cell_write_energy_pj;
     }},
    {EventKind::BufferAccess, "buffer_bits", "bits read from or written to an SRAM buffer (layer inputs and outputs)",
     false, true, Part::Buffer, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) {
       return count * c.buffer_energy_pj_per_bit;
     }},
    {EventKind::WireTransfer, "wire_bits", "bits moved between a buffer and a macro over interconnect_mm of wire", false,
     true, Part::Interconnect, false,
     [](const ComponentLibrary& c, const Hardware& hardware, const EventType&, double count) {
       return count * hardware.interconnect_mm * c.interconnect_energy_pj_per_bit_mm;
     }},
    {EventKind::Sense, "column_reads", "columns read out by their sense amplifiers (digital reads of the array)", false,
     true, Part::SenseAmp, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType&, double count) {
       return count * c.column_read_energy_pj;
     }},
    {EventKind::PeripheralAddition, "peripheral_additions",
     "additions of `bits`-bit operands in peripheral logic (exponent adds, integer accumulation)", true, true,
     Part::Periphery, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType& type, double count) {
       return count * type.bits * c.adder_energy_pj_per_bit;
     }},
    {EventKind::Normalization, "normalizations",
     "results normalised: a leading-one select and shift of `bits` bits, priced as an adder of that width [A]", true,
     true, Part::Periphery, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType& type, double count) {
       return count * type.bits * c.adder_energy_pj_per_bit;
     }},
    {EventKind::FloatAddition, "float_additions", "floating-point additions in the event's format (accumulation)", false,
     true, Part::Periphery, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType& type, double count) {
       return count * (type.format.mantissa_bits + 1) * c.float_add_energy_pj_per_significand_bit;
     }},
    {EventKind::Multiplication, "multiplications",
     "integer multiplications of `bits` x `bits` operands in peripheral logic (a digital MAC's mantissa products)",
     true, true, Part::Periphery, false,
     [](const ComponentLibrary& c, const Hardware&, const EventType& type, double count) {
       return count * type.bits * type.bits * c.multiplier_energy_pj_per_bit_squared;
     }},
    {EventKind::InMemoryFloatMultiplication, "in_memory_float_multiplications",
     "floating-point multiplies in the event's format run in the array as programs of bit primitives (priced by the "
     "macro from the programs' primitive counts)",
     false, true, Part::Cells, false, &priced_by_the_macro},
    {EventKind::InMemoryFloatAddition, "in_memory_float_additions",
     "floating-point adds in the event's format run in the array as programs of bit primitives (priced by the macro "
     "from the programs' primitive counts)",
     false, true, Part::Cells, false, &priced_by_the_macro},
};

}  // namespace

bool EventType::operator<(const EventType& other) const {
  return std::make_tuple(kind, bits, format.exponent_bits, format.mantissa_bits) <
         std::make_tuple(other.kind, other.bits, other.format.exponent_bits, other.format.mantissa_bits);
}

const std::vector<EventKindInfo>& event_vocabulary() {
  static_assert(kEventKindCount == 20, "a new EventKind needs its row in kVocabulary");
  return kVocabulary;
}

const EventKindInfo& event_info(EventKind kind) {
  const auto& info = kVocabulary.at(static_cast<std::size_t>(kind));
  if (info.kind != kind) throw std::logic_error("events.cpp: kVocabulary is not in EventKind order");
  return info;
}

void Events::add(EventType type, int64_t count) {
  if (count == 0) return;
  auto at = std::lower_bound(entries_.begin(), entries_.end(), type,
                             [](const auto& entry, const EventType& t) { return entry.first < t; });
  if (at != entries_.end() && at->first == type) {
    at->second += count;
    if (at->second == 0) entries_.erase(at);
  } else {
    entries_.insert(at, {type, count});
  }
}

int64_t Events::count(const EventType& type) const {
  for (const auto& [t, n] : entries_) {
    if (t == type) return n;
  }
  return 0;
}

int64_t Events::total(EventKind kind) const {
  int64_t sum = 0;
  for (const auto& [t, n] : entries_) sum += t.kind == kind ? n : 0;
  return sum;
}

Events& Events::operator+=(const Events& other) {
  for (const auto& [type, n] : other.entries_) add(type, n);
  return *this;
}

Events Events::scaled(int64_t factor) const {
  Events out;
  if (factor == 0) return out;
  out.entries_ = entries_;
  for (auto& entry : out.entries_) entry.second *= factor;
  return out;
}

std::string describe(const EventType& type) {
  std::string text = event_info(type.kind).name;
  if (type.bits > 0) text += " (" + std::to_string(type.bits) + (type.bits == 1 ? " bit)" : " bits)");
  if (type.format.exponent_bits > 0 || type.format.mantissa_bits > 0) {
    text += " (e" + std::to_string(type.format.exponent_bits) + "m" + std::to_string(type.format.mantissa_bits) + ")";
  }
  return text;
}

}  // namespace bitline::core
