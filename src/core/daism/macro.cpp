#include "core/daism/macro.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace bitline::core::daism {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Digit groups of the driving operand, each with its own wordline decoder: ceil(n / k), or the
// top part plus one per low bit for PrecomputedTop.
int digit_groups(const MultiplierConfig& config) {
  if (config.variant == Variant::PrecomputedTop) return 1 + (config.operand_bits - config.k);
  return static_cast<int>(ceil_div(config.operand_bits, digit_bits(config)));
}

}  // namespace

void validate(const Spec& spec) {
  if (spec.format.floating && spec.accumulation.mantissa_bits < spec.format.fp.mantissa_bits) {
    throw std::invalid_argument("accumulation must hold the products' format (" + spec.format.name +
                                "): at least as many mantissa bits");
  }
  MultiplierConfig multiplier = spec.multiplier;
  multiplier.operand_bits = spec.format.floating ? spec.format.operand_bits() : std::max(1, multiplier.operand_bits);
  if (multiplier.variant == Variant::Exact) multiplier.k = multiplier.operand_bits;
  validate(multiplier);
}

// ---- the approximate GEMM ----------------------------------------------------------------------

void approximate_gemm_reference(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n,
                                int64_t d, const float* driving, const float* stored, float* out, StoredLayout layout) {
  const bool by_depth = layout == StoredLayout::ByDepth;
  const auto& format = datapath.format().fp;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t l = 0; l < d; ++l) {
        const Decoded a = decode(by_depth ? stored[l * n + j] : stored[j * d + l], format);
        const float product = encode(datapath.multiply(a, decode(driving[i * d + l], format)), format);
        sum = accumulator.add(sum, product);
      }
      out[i * n + j] = sum;
    }
  }
}

void approximate_gemm(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n, int64_t d,
                      const float* driving, const float* stored, float* out, StoredLayout layout) {
  if (!approximate_gemm_lanes(datapath, accumulator, m, n, d, driving, stored, out, layout)) {
    approximate_gemm_reference(datapath, accumulator, m, n, d, driving, stored, out, layout);
  }
}

// ---- the macro ---------------------------------------------------------------------------------

DaismMacro::DaismMacro(const Spec& spec, int operand_bits)
    : spec_(spec),
      datapath_(
          [&] {
            OperandFormat format = spec.format;
            if (!format.floating) format.magnitude_bits = operand_bits;
            return format;
          }(),
          spec.multiplier),
      accumulator_{spec.accumulation} {
  validate(spec_);
}

TrainingProducts DaismMacro::training_products() const {
  if (!spec_.format.floating) return {};  // int8: the straight-through estimator of its forward product
  return spec_.training;
}

void DaismMacro::forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey&, float* out,
                         Events* events) const {
  if (spec_.format.floating) Macro::forward(shape, x, w, NoiseKey{}, out, events);  // throws: wrong operands
  const int64_t depth = shape.depth();
  const bool weights_stored = spec_.stored_operand == StoredOperand::Weights;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t c = 0; c < shape.cols; ++c) {
      int64_t sum = 0;
      for (int64_t k = 0; k < depth; ++k) {
        const int64_t input = x[r * depth + k], weight = w[c * depth + k];
        sum += weights_stored ? datapath_.multiply_integers(weight, input) : datapath_.multiply_integers(input, weight);
      }
      out[r * shape.cols + c] = static_cast<float>(sum);
    }
  }
  if (events != nullptr) *events += count(shape);
}

void DaismMacro::forward(const ProductShape& shape, const float* x, const float* w, const NoiseKey&, float* out,
                         Events* events) const {
  if (!spec_.format.floating) Macro::forward(shape, x, w, NoiseKey{}, out, events);  // throws: wrong operands
  const int64_t depth = shape.depth();
  if (spec_.stored_operand == StoredOperand::Weights) {
    approximate_gemm(datapath_, accumulator_, shape.rows, shape.cols, depth, x, w, out);
  } else {
    // Inputs stored: out^T [cols, rows] = w · x^T, then transposed.
    std::vector<float> transposed(static_cast<std::size_t>(shape.rows * shape.cols));
    approximate_gemm(datapath_, accumulator_, shape.cols, shape.rows, depth, w, x, transposed.data());
    for (int64_t r = 0; r < shape.rows; ++r) {
      for (int64_t c = 0; c < shape.cols; ++c)
        out[r * shape.cols + c] = transposed[static_cast<std::size_t>(c * shape.rows + r)];
    }
  }
  if (events != nullptr) *events += count(shape);
}

void DaismMacro::input_gradient(const ProductShape& shape, const float* dy, const float* w, const NoiseKey&, float* dx,
                                Events* events) const {
  // dx [rows, K]: dy [rows, cols] drives; w [cols, K] is stored as it is (by depth: cols).
  const int64_t depth = shape.depth();
  approximate_gemm(datapath_, accumulator_, shape.rows, depth, shape.cols, dy, w, dx, StoredLayout::ByDepth);
  if (events != nullptr) *events += events_of(shape.rows * shape.cols, depth, shape.rows * shape.cols * depth);
}

void DaismMacro::weight_gradient(const ProductShape& shape, const float* dy, const float* x, const NoiseKey&, float* dw,
                                 Events* events) const {
  // dw [cols, K]: dy^T [cols, rows] drives; x [rows, K] is stored as it is (by depth: rows).
  const int64_t depth = shape.depth();
  std::vector<float> dy_transposed(static_cast<std::size_t>(shape.cols * shape.rows));
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t c = 0; c < shape.cols; ++c)
      dy_transposed[static_cast<std::size_t>(c * shape.rows + r)] = dy[r * shape.cols + c];
  }
  approximate_gemm(datapath_, accumulator_, shape.cols, depth, shape.rows, dy_transposed.data(), x, dw,
                   StoredLayout::ByDepth);
  if (events != nullptr) *events += events_of(shape.cols * shape.rows, depth, shape.rows * shape.cols * depth);
}

int DaismMacro::columns_per_element() const {
  const int sign_and_exponent = spec_.format.floating ? 1 + spec_.format.fp.exponent_bits : 1;
  return sensed_columns(datapath_.config()) + sign_and_exponent;
}

Events DaismMacro::events_of(int64_t driving_elements, int64_t stored_per_driving, int64_t products) const {
  const auto& config = datapath_.config();
  const int64_t groups = digit_groups(config);
  const int64_t columns = sensed_columns(config);
  Events events;
  events.add(EventKind::Mac, products);
  events.add(EventKind::ArrayActivation, driving_elements);
  events.add(EventKind::RowDrive, driving_elements * groups);
  events.add(EventKind::CellRead, driving_elements * groups * stored_per_driving * columns);
  events.add(EventKind::Sense, products * columns_per_element());
  if (spec_.format.floating) {
    events.add({EventKind::PeripheralAddition, spec_.format.fp.exponent_bits + 1}, products);  // exponent add
    events.add({EventKind::Normalization, config.operand_bits}, products);
    events.add({EventKind::FloatAddition, 0, spec_.accumulation}, products);
  } else {
    events.add({EventKind::PeripheralAddition, 2 * config.operand_bits}, products);  // integer accumulation
  }
  return events;
}

Events DaismMacro::count(const ProductShape& shape) const {
  const int64_t depth = shape.depth();
  const bool weights_stored = spec_.stored_operand == StoredOperand::Weights;
  // Weights stored: each input element drives a read against the cols weights of its k.
  return weights_stored ? events_of(shape.rows * depth, shape.cols, shape.rows * shape.cols * depth)
                        : events_of(shape.cols * depth, shape.rows, shape.rows * shape.cols * depth);
}

Events DaismMacro::store_events(const ProductShape& shape) const {
  const auto& config = datapath_.config();
  const int64_t stored_elements =
      (spec_.stored_operand == StoredOperand::Weights ? shape.cols : shape.rows) * shape.depth();
  Events events;
  events.add({EventKind::PeripheralAddition, config.operand_bits + digit_bits(config)},
             stored_elements * precompute_additions(config));
  return events;
}

bool DaismMacro::lossless() const {
  // Exact products summed exactly: integers only (floating products are rounded to the format).
  const auto& config = datapath_.config();
  return !spec_.format.floating && sensed_columns(config) == 2 * config.operand_bits &&
         digit_bits(config) >= config.operand_bits;
}

ArrayFootprint DaismMacro::footprint(const ProductShape& shape) const {
  // One row tile per K index, holding its stored elements' row groups.
  std::vector<Tile> tiles;
  const int64_t depth = shape.depth();
  tiles.reserve(static_cast<std::size_t>(depth));
  for (int64_t k = 0; k < depth; ++k) tiles.push_back({k, k + 1});
  const int rows = rows_per_operand(datapath_.config(), spec_.format.floating);
  const int input_bits = spec_.format.floating ? 1 + spec_.format.fp.exponent_bits + spec_.format.fp.mantissa_bits
                                               : 1 + datapath_.config().operand_bits;
  return {tiles, rows, columns_per_element(), rows * columns_per_element(), input_bits, shape.cols};
}

// ---- the spec ----------------------------------------------------------------------------------

DaismSpec::DaismSpec(Spec spec) : spec_(std::move(spec)) { validate(spec_); }

core::OperandKind DaismSpec::operand_kind() const {
  return spec_.format.floating ? core::OperandKind::FloatingPoint : core::OperandKind::IntegerCodes;
}

std::unique_ptr<core::Macro> DaismSpec::for_operands(const core::IntegerOperands& operands) const {
  if (spec_.format.floating) return MacroSpec::for_operands(operands);  // throws: takes floats
  validate_integer_operands(operands, 1);
  const int weight_magnitude = operands.weight_bits - 1;
  const int input_magnitude = operands.signed_inputs ? operands.input_bits - 1 : operands.input_bits;
  const int bits = std::max(weight_magnitude, input_magnitude);
  if (bits > kMaxOperandBits) throw std::invalid_argument("operand magnitudes wider than 24 bits");
  return std::make_unique<DaismMacro>(spec_, bits);
}

std::unique_ptr<core::Macro> DaismSpec::for_format(const NumberFormat& format) const {
  if (!spec_.format.floating) return MacroSpec::for_format(format);  // throws: takes integer codes
  (void)format;                                                      // the macro rounds every operand to its own format
  return std::make_unique<DaismMacro>(spec_, spec_.format.operand_bits());
}

std::string DaismSpec::readout() const {
  MultiplierConfig config = spec_.multiplier;
  return spec_.format.name + " " + short_name(config) +
         (config.kept_columns > 0 ? ", " + std::to_string(config.kept_columns) + " columns kept" : "") + ", " +
         to_string(config.rounding);
}

std::vector<core::EventKind> DaismSpec::emitted_kinds() const {
  std::vector<core::EventKind> kinds = {EventKind::Mac,      EventKind::ArrayActivation, EventKind::RowDrive,
                                        EventKind::CellRead, EventKind::Sense,           EventKind::PeripheralAddition};
  if (spec_.format.floating) {
    kinds.push_back(EventKind::Normalization);
    kinds.push_back(EventKind::FloatAddition);
  }
  return kinds;
}

cost::MacroInventory DaismSpec::macro_inventory(const std::vector<const core::Macro*>& layers,
                                                const cost::Hardware& hardware, const cost::ComponentLibrary& c) const {
  // One design for every layer: products per read from the narrowest stored element's columns.
  int columns_per_element = 1;
  int operand_bits = 1;
  for (const core::Macro* layer : layers) {
    const auto& macro = dynamic_cast<const DaismMacro&>(*layer);
    columns_per_element = std::max(columns_per_element, macro.columns_per_element());
    operand_bits = std::max(operand_bits, macro.datapath().config().operand_bits);
  }
  const auto columns = static_cast<double>(hardware.array_columns);
  const double lanes = std::max(1.0, std::floor(columns / columns_per_element));  // products per read
  cost::MacroInventory inventory = cost::array_inventory(hardware, c);  // row drivers: the wordline drivers
  // Per product lane: an exponent adder, a normaliser (counted as adder bits) and an FP accumulator.
  const double exponent_bits = spec_.format.floating ? spec_.format.fp.exponent_bits + 1 : 0;
  inventory[static_cast<int>(cost::Part::Periphery)] = {
      lanes,
      (exponent_bits + operand_bits) * c.adder_area_um2_per_bit +
          (spec_.format.floating ? c.float_adder_area_um2_per_significand_bit * (spec_.accumulation.mantissa_bits + 1)
                                 : c.adder_area_um2_per_bit * 2 * operand_bits)};
  return inventory;
}

}  // namespace bitline::core::daism
