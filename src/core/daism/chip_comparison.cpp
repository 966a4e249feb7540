#include "core/daism/chip_comparison.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/cost/cost_model.h"

namespace bitline::core::daism {
namespace {

using cost::Part;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

cost::PerPart price(const Events& events, const cost::ComponentLibrary& library, const cost::Hardware& hardware,
                    double times) {
  cost::PerPart energy{};
  for (const auto& [type, count] : events.entries()) {
    const auto& info = event_info(type.kind);
    if (!info.priced) continue;
    energy[static_cast<int>(info.part)] += info.energy_pj(library, hardware, type, static_cast<double>(count) * times);
  }
  return energy;
}

// The peripheral steps every design takes per product: normalise, then accumulate [A: shared].
void add_normalise_and_accumulate(Events& events, const Spec& spec, int operand_bits, int64_t products) {
  events.add({EventKind::Normalization, operand_bits}, products);
  events.add({EventKind::FloatAddition, 0, spec.accumulation}, products);
}

double normaliser_and_accumulator_area_um2(const Spec& spec, int operand_bits, const cost::ComponentLibrary& c) {
  return operand_bits * c.adder_area_um2_per_bit +
         (spec.accumulation.mantissa_bits + 1) * c.float_adder_area_um2_per_significand_bit;
}

struct Design {
  DesignCost cost;
  cost::MacroInventory inventory{};
};

Design daism_design(const DaismMacro& daism, const cost::Hardware& hardware, const cost::ComponentLibrary& c) {
  const auto& config = daism.datapath().config();
  const int columns = daism.columns_per_element();
  const int rows = rows_per_operand(config, true);
  if (hardware.array_columns < columns || hardware.array_rows < rows) {
    throw std::invalid_argument("array_rows x array_columns must hold one stored element of the daism macro (" +
                                std::to_string(rows) + " x " + std::to_string(columns) + "), found " +
                                std::to_string(hardware.array_rows) + " x " + std::to_string(hardware.array_columns));
  }
  Design d;
  d.cost.design = "daism";
  d.cost.description = "DAISM " + DaismSpec(daism.spec()).readout() + ": one multi-wordline read per driving element";
  const int64_t lanes = hardware.array_columns / columns;
  d.cost.products_per_operation = lanes;
  d.cost.cycles_per_operation = 1;
  d.cost.stored_elements_per_array = hardware.array_rows / rows * lanes;
  d.cost.events_per_operation = daism.count(ProductShape{1, lanes, 1, 1});
  d.cost.store_events_per_element = daism.store_events(ProductShape{1, 1, 1, 1});
  d.cost.store_events_per_element.add(EventKind::CellWrite, int64_t{rows} * columns);
  d.inventory = DaismSpec(daism.spec()).macro_inventory({&daism}, hardware, c);
  return d;
}

Design bit_serial_design(const DaismMacro& daism, const cost::Hardware& hardware, const cost::ComponentLibrary& c) {
  const auto& spec = daism.spec();
  const int n = daism.datapath().config().operand_bits, e = spec.format.fp.exponent_bits;
  const int element_rows = 1 + e + n;          // sign, exponent and mantissa with its hidden bit, down a column
  const int product_rows = 1 + (e + 1) + 2 * n;  // sign, exponent with its carry, the full mantissa product
  const int slot_rows = 2 * element_rows + product_rows;
  if (hardware.array_rows < slot_rows) {
    throw std::invalid_argument("array_rows must hold one bit-serial slot (stored element, driving copy and product: " +
                                std::to_string(slot_rows) + " rows), found " + std::to_string(hardware.array_rows));
  }
  const int64_t columns = hardware.array_columns;
  // Cycles of one multiplication on every column [A]: shift-and-add over the n multiplier bits,
  // each a tag load, n one-bit adds and a carry write; the exponents added bit by bit with a carry
  // write; the sign XORed; the driving element copied in row by row; the product read out row by row.
  const int64_t two_row_cycles = int64_t{n} * n + e + 1;  // two rows read, the result row written
  const int64_t read_cycles = n + product_rows;
  const int64_t write_cycles = n + 1 + element_rows;
  Design d;
  d.cost.design = "bit_serial";
  d.cost.description = "bit-serial in-SRAM (Neural Cache style): every column multiplies, two rows a cycle";
  d.cost.products_per_operation = columns;
  d.cost.cycles_per_operation = two_row_cycles + read_cycles + write_cycles;
  d.cost.stored_elements_per_array = hardware.array_rows / slot_rows * columns;
  Events& events = d.cost.events_per_operation;
  events.add(EventKind::Mac, columns);
  events.add(EventKind::ArrayActivation, 1);
  events.add(EventKind::RowDrive, 3 * two_row_cycles + read_cycles + write_cycles);
  events.add(EventKind::CellRead, (2 * two_row_cycles + read_cycles) * columns);
  events.add(EventKind::Sense, (two_row_cycles + read_cycles) * columns);
  events.add(EventKind::CellWrite, (two_row_cycles + write_cycles) * columns);
  add_normalise_and_accumulate(events, spec, n, columns);
  d.cost.store_events_per_element.add(EventKind::CellWrite, element_rows);
  d.inventory = cost::array_inventory(hardware, c);
  // Per column a tag and a carry latch (a flip-flop each, sized like a sense amplifier [A]); the
  // products leave through as many normalise-accumulate lanes as one operation fills per cycle.
  const double lanes = std::ceil(static_cast<double>(columns) / static_cast<double>(d.cost.cycles_per_operation));
  const double periphery_um2 = static_cast<double>(columns) * 2 * c.sense_amp_area_um2 +
                               lanes * normaliser_and_accumulator_area_um2(spec, n, c);
  d.inventory[static_cast<int>(Part::Periphery)] = {1, periphery_um2};
  return d;
}

Design mac_array_design(const DaismMacro& daism, const cost::Hardware& hardware, const cost::ComponentLibrary& c) {
  const auto& spec = daism.spec();
  const int n = daism.datapath().config().operand_bits, e = spec.format.fp.exponent_bits;
  const int element_bits = 1 + e + spec.format.fp.mantissa_bits;  // the plain format
  if (hardware.array_columns < element_bits) {
    throw std::invalid_argument("array_columns must hold one stored element of " + spec.format.name + " (" +
                                std::to_string(element_bits) + " bits), found " + std::to_string(hardware.array_columns));
  }
  const int64_t lanes = hardware.array_columns / element_bits;
  Design d;
  d.cost.design = "mac_array";
  d.cost.description = "exact " + spec.format.name + " MAC array: one row read per cycle into its MAC lanes";
  d.cost.products_per_operation = lanes;
  d.cost.cycles_per_operation = 1;
  d.cost.stored_elements_per_array = hardware.array_rows * lanes;
  Events& events = d.cost.events_per_operation;
  events.add(EventKind::Mac, lanes);
  events.add(EventKind::ArrayActivation, 1);
  events.add(EventKind::RowDrive, 1);
  events.add(EventKind::CellRead, lanes * element_bits);
  events.add(EventKind::Sense, lanes * element_bits);
  events.add({EventKind::Multiplication, n}, lanes);
  events.add({EventKind::PeripheralAddition, e + 1}, lanes);  // exponent add
  add_normalise_and_accumulate(events, spec, n, lanes);
  d.cost.store_events_per_element.add(EventKind::CellWrite, element_bits);
  d.inventory = cost::array_inventory(hardware, c);
  const double lane_um2 = n * n * c.multiplier_area_um2_per_bit_squared + (e + 1) * c.adder_area_um2_per_bit +
                          normaliser_and_accumulator_area_um2(spec, n, c);
  d.inventory[static_cast<int>(Part::Periphery)] = {static_cast<double>(lanes), lane_um2};
  return d;
}

}  // namespace

void check_gemm(const GemmShape& gemm) {
  for (const auto& [name, value] : {std::pair{"m", gemm.m}, {"n", gemm.n}, {"k", gemm.k}}) {
    if (value < 1) throw std::invalid_argument(std::string("gemm ") + name + " must be >= 1, found " + std::to_string(value));
  }
  int64_t products = 0;
  if (__builtin_mul_overflow(gemm.m, gemm.n, &products) || __builtin_mul_overflow(products, gemm.k, &products) ||
      products > kMaxGemmProducts) {
    throw std::invalid_argument("gemm m x n x k must be at most 2^53 = " + std::to_string(kMaxGemmProducts) +
                                " products, found " + std::to_string(gemm.m) + " x " + std::to_string(gemm.n) + " x " +
                                std::to_string(gemm.k));
  }
}

double DesignCost::energy_pj_per_product() const {
  const double products = static_cast<double>(operations) * static_cast<double>(products_per_operation);
  return products > 0 ? energy_pj_total / products : 0.0;
}

std::vector<DesignCost> compare_designs(const DaismMacro& daism, const cost::Hardware& hardware, const GemmShape& gemm) {
  cost::validate(hardware);
  if (!daism.spec().format.floating) {
    throw std::invalid_argument("format must be a floating-point format (bf16, fp16, fp32) for the chip comparison, found " +
                                daism.spec().format.name);
  }
  check_gemm(gemm);
  const cost::ComponentLibrary c = cost::scaled(hardware.components, hardware.technology);
  const int64_t arrays = hardware.tiles * hardware.macros_per_tile;
  std::vector<DesignCost> result;
  for (auto* make : {&daism_design, &bit_serial_design, &mac_array_design}) {
    Design d = make(daism, hardware, c);
    DesignCost& cost = d.cost;
    cost.operations = ceil_div(gemm.products(), cost.products_per_operation);
    // In double: the products with the chip's array count can pass int64 (2^53 operations x 10^4 cycles).
    cost.cycles = static_cast<double>(ceil_div(cost.operations, arrays)) * static_cast<double>(cost.cycles_per_operation);
    cost.stored_operand_fits = static_cast<double>(gemm.n * gemm.k) <=
                               static_cast<double>(arrays) * static_cast<double>(cost.stored_elements_per_array);
    cost.energy_pj = price(cost.events_per_operation, c, hardware, static_cast<double>(cost.operations));
    for (double e : cost.energy_pj) cost.energy_pj_total += e;
    for (double e : price(cost.store_events_per_element, c, hardware, static_cast<double>(gemm.n * gemm.k)))
      cost.store_energy_pj += e;
    for (int p = 0; p < cost::kPartCount; ++p) {
      const auto& part = d.inventory[static_cast<std::size_t>(p)];
      cost.area_um2[static_cast<std::size_t>(p)] = static_cast<double>(arrays) * part.instances * part.unit_area_um2;
      cost.area_mm2 += cost.area_um2[static_cast<std::size_t>(p)] * 1e-6;
    }
    const double operations = 2.0 * static_cast<double>(gemm.products());
    const double seconds = cost.cycles / (hardware.clock_mhz * 1e6);
    // 0 where a figure is undefined (a chip of zero energy or area), as in the cost model.
    cost.tops = operations / seconds * 1e-12;
    if (cost.energy_pj_total > 0) cost.tops_per_w = operations / (cost.energy_pj_total * 1e-12) * 1e-12;
    if (cost.area_mm2 > 0) cost.tops_per_mm2 = cost.tops / cost.area_mm2;
    result.push_back(std::move(cost));
  }
  return result;
}

}  // namespace bitline::core::daism
