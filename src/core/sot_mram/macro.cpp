#include "core/sot_mram/macro.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>
#include <random>
#include <stdexcept>
#include <utility>

#include "core/sot_mram/fp_format.h"

namespace bitline::core::sot_mram {
namespace {

constexpr int64_t kCountSeed = 20200303;  // arXiv 2003.01551's month, a fixed seed for the sampled counts

// Values of the format for the sampled counts: both signs, |x| log-uniform over 2^-4 .. 2^4.
float sample_value(std::mt19937_64& random, const NumberFormat& format) {
  std::uniform_real_distribution<double> binades(-4.0, 4.0);
  const double magnitude = std::exp2(binades(random));
  return to_format(static_cast<float>((random() & 1u) ? -magnitude : magnitude), format);
}

}  // namespace

std::string to_string(Logic logic) { return logic == Logic::SotMram ? "sot_mram" : "magic_nor"; }

LogicCosts logic_costs(Logic logic, const DeviceFigures& device) {
  LogicCosts costs;
  auto set = [&](Primitive primitive, double cycles, double energy_fj) {
    costs.by_primitive[static_cast<int>(primitive)] = {cycles, energy_fj};
  };
  if (logic == Logic::SotMram) {
    const double read = device.read_energy_fj, write = device.write_energy_fj;
    set(Primitive::FullAdd, 3, read + 2 * write);
    set(Primitive::Copy, 2, read + write);
    set(Primitive::Shift, 2, read + write);
    set(Primitive::Search, 1, read);
    set(Primitive::Write, 1, write);
    set(Primitive::Read, 1, read);
    set(Primitive::Invert, 0, 0);
    costs.cycle_ns = device.cycle_ns;
    costs.cell_area_f2 = device.cell_area_f2;
  } else {
    const double nor = device.nor_energy_fj;
    set(Primitive::FullAdd, 18, 18 * nor);
    set(Primitive::Copy, 4, 4 * nor);
    set(Primitive::Shift, 4, 4 * nor);
    set(Primitive::Search, 0, 0);  // not available: validate() requires the subtraction
    set(Primitive::Write, 1, nor);
    set(Primitive::Read, 1, nor);
    set(Primitive::Invert, 2, 2 * nor);
    costs.cycle_ns = device.nor_cycle_ns;
    costs.cell_area_f2 = device.nor_cell_area_f2;
  }
  return costs;
}

double program_cycles(const ProgramCounts& counts, const LogicCosts& costs) {
  double cycles = 0;
  for (int k = 0; k < kPrimitiveCount; ++k) cycles += counts[k] * costs.by_primitive[k].cycles;
  return cycles;
}

double program_energy_pj(const ProgramCounts& counts, const LogicCosts& costs) {
  double energy_fj = 0;
  for (int k = 0; k < kPrimitiveCount; ++k) energy_fj += counts[k] * costs.by_primitive[k].energy_fj;
  return energy_fj * 1e-3;
}

ExpectedCounts expected_counts(const EngineOptions& options, int samples) {
  ExpectedCounts counts;
  std::mt19937_64 random(kCountSeed);
  for (int i = 0; i < samples; ++i) {
    const float a = sample_value(random, options.format), b = sample_value(random, options.format);
    const auto product = run_multiply(a, b, options).counts;
    const auto sum = run_add(a, b, options).counts;
    for (int k = 0; k < kPrimitiveCount; ++k) {
      counts.multiply[k] += static_cast<double>(product.by_primitive[k]) / samples;
      counts.add[k] += static_cast<double>(sum.by_primitive[k]) / samples;
    }
  }
  return counts;
}

void validate(const Spec& spec) {
  validate_format(spec.engine.format);
  if (spec.logic == Logic::MagicNor && spec.engine.exponent_difference == ExponentDifference::Search) {
    throw std::invalid_argument(
        "exponent_difference: magic_nor logic has no in-memory search; use subtract (found search)");
  }
  const DeviceFigures& d = spec.device;
  for (const auto& [name, value] : {std::pair<const char*, double>{"read_energy_fj", d.read_energy_fj},
                                    {"write_energy_fj", d.write_energy_fj},
                                    {"cycle_ns", d.cycle_ns},
                                    {"cell_area_f2", d.cell_area_f2},
                                    {"nor_energy_fj", d.nor_energy_fj},
                                    {"nor_cycle_ns", d.nor_cycle_ns},
                                    {"nor_cell_area_f2", d.nor_cell_area_f2}}) {
    if (!(value >= cost::kMinComponentFigure && value <= cost::kMaxComponentFigure)) {
      throw std::invalid_argument(std::string(name) + " must be in [1e-09, 1e+09], found " + std::to_string(value));
    }
  }
}

// ---- the macro ---------------------------------------------------------------------------------

SotMramFpMacro::SotMramFpMacro(std::shared_ptr<const Spec> spec, std::shared_ptr<const ExpectedCounts> counts)
    : spec_(std::move(spec)), counts_(std::move(counts)), costs_(logic_costs(spec_->logic, spec_->device)) {}

Events SotMramFpMacro::operations(int64_t multiplies, int64_t adds) const {
  Events events;
  events.add({EventKind::InMemoryFloatMultiplication, 0, spec_->engine.format}, multiplies);
  events.add({EventKind::InMemoryFloatAddition, 0, spec_->engine.format}, adds);
  return events;
}

Events SotMramFpMacro::count(const ProductShape& shape) const {
  const int64_t macs = shape.rows * shape.cols * shape.depth();
  Events events = operations(macs, macs);
  events.add(EventKind::Mac, macs);
  // One activation per input element: its row's programs (a multiply and an add) on every column.
  events.add(EventKind::ArrayActivation, shape.rows * shape.depth());
  return events;
}

namespace {
std::vector<float> in_format(const float* values, int64_t count, const NumberFormat& format) {
  std::vector<float> result(static_cast<std::size_t>(count));
  to_format_lanes(values, count, format, result.data());
  return result;
}
}  // namespace

void SotMramFpMacro::forward(const ProductShape& shape, const float* x, const float* w, const NoiseKey&, float* out,
                             Events* events) const {
  const auto& engine = spec_->engine;
  const auto x_format = in_format(x, shape.rows * shape.depth(), engine.format);
  const auto w_format = in_format(w, shape.cols * shape.depth(), engine.format);
  fp_gemm(engine.format, engine.rounding, shape.rows, shape.cols, shape.depth(), x_format.data(), w_format.data(), out,
          StoredLayout::ByElement);
  if (events) *events += count(shape);
}

void SotMramFpMacro::input_gradient(const ProductShape& shape, const float* dy, const float* w, const NoiseKey&,
                                    float* dx, Events* events) const {
  const auto& engine = spec_->engine;
  const auto dy_format = in_format(dy, shape.rows * shape.cols, engine.format);
  const auto w_format = in_format(w, shape.cols * shape.depth(), engine.format);
  fp_gemm(engine.format, engine.rounding, shape.rows, shape.depth(), shape.cols, dy_format.data(), w_format.data(), dx,
          StoredLayout::ByDepth);
  if (events) *events += count(shape);
}

void SotMramFpMacro::weight_gradient(const ProductShape& shape, const float* dy, const float* x, const NoiseKey&,
                                     float* dw, Events* events) const {
  const auto& engine = spec_->engine;
  const auto dy_format = in_format(dy, shape.rows * shape.cols, engine.format);
  std::vector<float> dy_by_column(dy_format.size());
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t c = 0; c < shape.cols; ++c) dy_by_column[c * shape.rows + r] = dy_format[r * shape.cols + c];
  }
  const auto x_format = in_format(x, shape.rows * shape.depth(), engine.format);
  fp_gemm(engine.format, engine.rounding, shape.cols, shape.depth(), shape.rows, dy_by_column.data(), x_format.data(),
          dw, StoredLayout::ByDepth);
  if (events) *events += count(shape);
}

void SotMramFpMacro::update_weights(int64_t count, float* w, const float* gradient, double learning_rate,
                                    Events* events) const {
  const auto& engine = spec_->engine;
  const float step = to_format(static_cast<float>(-learning_rate), engine.format);
  for (int64_t i = 0; i < count; ++i) {
    const float change = multiply(step, to_format(gradient[i], engine.format), engine.format, engine.rounding);
    w[i] = add(to_format(w[i], engine.format), change, engine.format, engine.rounding);
  }
  if (events) *events += operations(count, count);
}

ArrayFootprint SotMramFpMacro::footprint(const ProductShape& shape) const {
  const int value_bits = 1 + spec_->engine.format.exponent_bits + spec_->engine.format.mantissa_bits;
  ArrayFootprint footprint;
  footprint.row_tiles = row_tiles(RowMapping::Packed, 1, shape.channels, shape.kernel_area);
  footprint.rows_per_tile = 1;
  footprint.columns_per_output = value_bits;
  footprint.stored_bits = value_bits;
  footprint.input_bits = value_bits;
  footprint.stored_columns = shape.cols;
  return footprint;
}

double SotMramFpMacro::multiply_cycles() const { return program_cycles(counts_->multiply, costs_); }
double SotMramFpMacro::add_cycles() const { return program_cycles(counts_->add, costs_); }
double SotMramFpMacro::multiply_energy_pj() const { return program_energy_pj(counts_->multiply, costs_); }
double SotMramFpMacro::add_energy_pj() const { return program_energy_pj(counts_->add, costs_); }

double SotMramFpMacro::cycles_per_activation(const cost::Hardware& hardware, const cost::ComponentLibrary&) const {
  // The engine's own clock, in the chip's clock cycles.
  const double engine_ns = (multiply_cycles() + add_cycles()) * costs_.cycle_ns;
  return engine_ns * hardware.clock_mhz * 1e-3;
}

std::optional<double> SotMramFpMacro::own_energy_pj(const EventType& type) const {
  if (type.kind == EventKind::InMemoryFloatMultiplication) return multiply_energy_pj();
  if (type.kind == EventKind::InMemoryFloatAddition) return add_energy_pj();
  return std::nullopt;
}

// ---- the spec ----------------------------------------------------------------------------------

namespace {
// The sampled counts of an engine's options, computed once per process: configs build a spec per
// layer, and an fp32 sample takes tens of milliseconds.
std::shared_ptr<const ExpectedCounts> shared_expected_counts(const EngineOptions& options) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int, int, int>, std::shared_ptr<const ExpectedCounts>> cache;
  const auto key = std::make_tuple(options.format.exponent_bits, options.format.mantissa_bits,
                                   static_cast<int>(options.rounding), static_cast<int>(options.exponent_difference));
  const std::lock_guard<std::mutex> lock(mutex);
  auto& counts = cache[key];
  if (!counts) counts = std::make_shared<const ExpectedCounts>(expected_counts(options));
  return counts;
}
}  // namespace

SotMramFpSpec::SotMramFpSpec(Spec spec) {
  validate(spec);
  counts_ = shared_expected_counts(spec.engine);
  spec_ = std::make_shared<const Spec>(std::move(spec));
}

std::unique_ptr<core::Macro> SotMramFpSpec::for_format(const NumberFormat&) const {
  return std::make_unique<SotMramFpMacro>(spec_, counts_);  // it rounds every operand to its own format
}

std::string SotMramFpSpec::operand_format() const { return format_name(spec_->engine.format); }

std::string SotMramFpSpec::readout() const {
  return format_name(spec_->engine.format) + " in-memory FP on " + to_string(spec_->logic) + ", " +
         to_string(spec_->engine.rounding) + ", exponent " + to_string(spec_->engine.exponent_difference);
}

std::vector<core::EventKind> SotMramFpSpec::emitted_kinds() const {
  return {EventKind::Mac, EventKind::ArrayActivation, EventKind::InMemoryFloatMultiplication,
          EventKind::InMemoryFloatAddition};
}

cost::MacroInventory SotMramFpSpec::macro_inventory(const std::vector<const core::Macro*>&,
                                                    const cost::Hardware& hardware,
                                                    const cost::ComponentLibrary& library) const {
  // The array's cells at this family's cell area; drivers, sense amplifiers and the controller as the
  // library's array periphery [A].
  cost::MacroInventory inventory = cost::array_inventory(hardware, library);
  const double feature_um = hardware.technology.node_nm * 1e-3;
  inventory[static_cast<int>(cost::Part::Cells)].unit_area_um2 =
      logic_costs(spec_->logic, spec_->device).cell_area_f2 * feature_um * feature_um;
  return inventory;
}

}  // namespace bitline::core::sot_mram
