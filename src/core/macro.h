#pragma once
// One interface for every in-memory compute macro (DESIGN.md, "The central abstraction"). A macro
// computes the products Y = X · Wᵀ that linear, conv and attention layers reduce to, the way its
// hardware does, and records the hardware events that takes (core/events.h). nn, the layer
// command, reports and the cost model reach every macro through this interface.
//
// Two levels: a MacroSpec is a configured macro of some type (its knobs), shared by the layers
// that run on it; a Macro is that spec fixed for one layer's operands (their bits and sign, or
// their number format), the object that computes.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cost/hardware.h"
#include "core/events.h"

namespace bitline::core {

// Shape of Y[rows, cols] = X[rows, K] . W[cols, K]^T, K = channels * kernel_area (kernel_area = 1
// for linear layers; channels and kernel area matter to macros that map whole channels to rows).
struct ProductShape {
  int64_t rows = 0, cols = 0, channels = 0, kernel_area = 1;
  int64_t depth() const { return channels * kernel_area; }
};

// Where a product's randomness comes from: counter-based streams keyed by the macro's seed, the
// layer and the (sample, position in sample, ...) coordinates, so that results do not depend on
// thread count or batch split (DESIGN.md invariant 4).
struct NoiseKey {
  uint64_t layer = 0;
  uint64_t first_sample = 0;    // sample index of row 0
  int64_t rows_per_sample = 1;  // rows of one sample (output pixels of a conv, tokens of a linear)
};

// A row tile: rows [begin, end) of the K axis, activated together.
struct Tile {
  int64_t begin = 0, end = 0;
};

// How the K rows of a dot product are cut into tiles of at most `rows_per_tile` rows.
enum class RowMapping {
  ChannelAligned,  // whole input channels per tile (ASiM): floor(N / k^2) channels of k^2 rows
  Packed,          // contiguous chunks of N rows of the flattened C*k*k axis
};
// The tiles of a product; `drop_channels` reproduces ASiM's dropped channels (channel-aligned
// tiles stop after ceil(C k^2 / N) tiles even when more are needed).
std::vector<Tile> row_tiles(RowMapping mapping, int64_t rows_per_tile, int64_t channels, int64_t kernel_area,
                            bool drop_channels = false);
std::string to_string(RowMapping mapping);

// The operands a macro takes.
enum class OperandKind {
  IntegerCodes,   // integer codes of a layer's quantizer: bits and sign (analog and digital SRAM)
  FloatingPoint,  // values in a floating-point number format (DAISM, SOT-MRAM FP)
};

// Output columns that share bit cells: DDC-PIM stores one filter on Q and its bitwise complement on
// Q̄ of the same cells. The layer puts each pair's two columns side by side. Only macros whose spec
// stores_complementary_pairs() are given pairs.
// How a pair's codes relate. TwosComplement: the codes are two's complement and ~w = -w - 1.
// OffsetBinary: the codes are the odd codes d of a mid-rise grid of 2^n levels (weight_bits = n + 1),
// stored as u = (d + 2^n - 1) / 2 on n bits; ~u = 2^n - 1 - u, that is ~d = -d.
enum class PairEncoding { TwosComplement, OffsetBinary };
std::string to_string(PairEncoding encoding);

// Thrown by a macro's forward for a column pair whose codes it cannot store in shared cells (the
// second column not the complement of the first): pair `pair` (columns 2 pair, 2 pair + 1), at depth
// index `row`.
class PairNotStorable : public std::invalid_argument {
 public:
  PairNotStorable(const std::string& what, int64_t pair, int64_t row) : std::invalid_argument(what), pair(pair), row(row) {}
  int64_t pair, row;
};

struct ColumnPairs {
  PairEncoding encoding = PairEncoding::TwosComplement;
  int64_t pairs = 0;  // output columns (2i, 2i + 1), i < pairs, of every product: the second's codes complement the first's
  // Dual broadcast: every output column has its own input, x [rows, cols, K] (a depthwise layer's
  // pairs of channels); otherwise all columns share x [rows, K].
  bool separate_inputs = false;
};

// The products of a layer whose filters are tied in `pairs` complementary pairs, as a macro that
// stores pairs computes them: one product with the pairs side by side when the layer is one product
// (linear, ungrouped conv); a depthwise layer's `count` single-column products (one per channel) as
// `pairs` dual-broadcast products of two columns and the channels left single. Throws
// std::invalid_argument for pairs across grouped products of several columns.
struct PairedProducts {
  ProductShape shape;
  int64_t count = 0;
  ColumnPairs column_pairs;
};
std::vector<PairedProducts> products_with_pairs(const ProductShape& shape, int64_t count, int64_t pairs,
                                                PairEncoding encoding);

// A layer's integer operands: W codes of weight_bits (two's complement) and X codes of input_bits.
struct IntegerOperands {
  int weight_bits = 8;
  int input_bits = 8;
  bool signed_inputs = false;
  ColumnPairs column_pairs;
};
// Throws std::invalid_argument naming the field: weight_bits in [2, 16], input_bits in [1, 16]
// ([2, 16] signed), input_bits_per_cycle in [1, input_bits].
void validate_integer_operands(const IntegerOperands& operands, int input_bits_per_cycle);

// Inputs applied input_bits_per_cycle bits per cycle (1: bit-serial), one chunk per cycle, LSB
// first. Signed inputs end with their sign bit alone, of negative significance.
struct InputChunk {
  int first_bit = 0;
  int bits = 1;
  bool sign = false;
};
std::vector<InputChunk> input_chunks(const IntegerOperands& operands, int input_bits_per_cycle);

// How one product occupies arrays, for the cost model's mapping.
struct ArrayFootprint {
  std::vector<Tile> row_tiles;  // of K; each activated once per input chunk and output row
  int64_t rows_per_tile = 0;    // array rows a tile takes (the mapping's N): array_rows / N tiles stack in one array
  int columns_per_output = 0;   // physical columns of one output column (one per stored bit)
  int stored_bits = 0;          // bits of one stored element, written into the array
  int input_bits = 0;           // bits of one input element, read from the buffer
  // Output columns that take columns_per_output physical columns each: the product's cols, fewer
  // when two outputs share cells (complementary pairs).
  int64_t stored_columns = 0;
  // The independent products of a layer (its groups) that one column group can hold in separate
  // row blocks, each read out on its own: 1 for a column whose adder tree sums all its rows;
  // more with a segmented adder tree (DDC-PIM's reconfigurable unit).
  int64_t products_per_column_group = 1;
};

// Which products of a training step run on the macro; the others are exact fp32 products.
struct TrainingProducts {
  bool forward = true;           // y = x · wᵀ (integer-code macros: the straight-through estimator's forward)
  bool input_gradient = false;   // dx = dy · w
  bool weight_gradient = false;  // dw = dyᵀ · x
  bool weight_update = false;    // the SGD step w ← w - lr · dw, in place in the macro's format
};

// A macro fixed for one layer's operands: the products and their events.
class Macro {
 public:
  virtual ~Macro() = default;

  // The forward product of integer operands: x [rows, K] input codes, w [cols, K] stored codes
  // (signed), out [rows, cols] in integer units. Adds its events to *events when not null.
  virtual void forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
                       Events* events) const;
  // The forward product of floating-point operands (macros of OperandKind::FloatingPoint): x and w
  // as float32 values, rounded by the macro to its format.
  virtual void forward(const ProductShape& shape, const float* x, const float* w, const NoiseKey& key, float* out,
                       Events* events) const;

  // Training products on the hardware, for macros that have them (training_products()): the input
  // gradient dx [rows, K] = dy [rows, cols] · w [cols, K] and the weight gradient dw [cols, K] =
  // dyᵀ · x. Layers on other macros train with the straight-through estimator of the forward product.
  virtual TrainingProducts training_products() const { return {}; }
  virtual void input_gradient(const ProductShape& shape, const float* dy, const float* w, const NoiseKey& key,
                              float* dx, Events* events) const;
  virtual void weight_gradient(const ProductShape& shape, const float* dy, const float* x, const NoiseKey& key,
                               float* dw, Events* events) const;
  // The plain SGD step on the stored weights, in place, for macros whose training_products() say
  // so: w [count] ← w - learning_rate · gradient, computed the way the macro computes.
  virtual void update_weights(int64_t count, float* w, const float* gradient, double learning_rate,
                              Events* events) const;

  // The events of a forward product of this shape, without data: equal to what forward records
  // (DESIGN.md invariant 2).
  virtual Events count(const ProductShape& shape) const = 0;
  // True when the readout cannot lose information: forward then equals the exact integer product
  // (DESIGN.md invariant 3), and callers may compute that product themselves.
  virtual bool lossless() const = 0;

  // For the cost model: how a product maps onto arrays, how many clock cycles one array
  // activation takes on this chip, and this macro's own energy for an event type where its model
  // has one (a CCO converter's energy per conversion), replacing the component library's.
  virtual ArrayFootprint footprint(const ProductShape& shape) const = 0;
  virtual double cycles_per_activation(const cost::Hardware& hardware, const cost::ComponentLibrary& library) const = 0;
  virtual std::optional<double> own_energy_pj(const EventType& type) const { return std::nullopt; }
  // Events of writing one copy of the product's stored operand besides its bits (which the cost
  // model counts from the footprint): a DAISM macro's additions that precompute its multiples.
  virtual Events store_events(const ProductShape& shape) const { return {}; }
};

// The analog macro's calibrated ADC full scale, and any other readout a macro calibrates from a
// layer's own products: add() sees the products of a calibration pass, finish() returns the
// calibrated spec.
class MacroSpec;
class ReadoutCalibration {
 public:
  virtual ~ReadoutCalibration() = default;
  virtual void add(const Macro& macro, const ProductShape& shape, const int32_t* x, const int32_t* w) = 0;
  virtual std::shared_ptr<const MacroSpec> finish() const = 0;
};

// A configured macro of one type, before a layer's operands: immutable, shared by its layers.
class MacroSpec {
 public:
  virtual ~MacroSpec() = default;
  virtual std::string type() const = 0;  // the registered type name, e.g. "analog_sram"
  virtual OperandKind operand_kind() const = 0;
  // The macro for a layer's integer operands. Throws std::invalid_argument naming the knob that
  // cannot work with them (e.g. more input bits per cycle than input bits).
  virtual std::unique_ptr<Macro> for_operands(const IntegerOperands& operands) const;
  // The same checks as for_operands (or for_format, for floating-point macros) without building the
  // macro (config validation).
  virtual void check_operands(const IntegerOperands& operands) const;
  // The macro for operands in a floating-point format (OperandKind::FloatingPoint).
  virtual std::unique_ptr<Macro> for_format(const NumberFormat& format) const;
  // Floating-point macros: the name of the format they round operands to, e.g. "bf16", for reports.
  virtual std::string operand_format() const { return ""; }
  // One line for reports: how partial results are read out, e.g. "8-bit ideal ADC".
  virtual std::string readout() const = 0;
  // True when a layer's stored operand may hold complementary column pairs (IntegerOperands::column_pairs).
  virtual bool stores_complementary_pairs() const { return false; }
  // The event kinds this type records (a subset of the vocabulary).
  virtual std::vector<EventKind> emitted_kinds() const = 0;
  // A calibration of the readout from the layer's products, or null when it needs none.
  virtual std::unique_ptr<ReadoutCalibration> readout_calibration() const { return nullptr; }
  // The components of one macro of the chip by part (how many, and the area of one, from the
  // library scaled to the chip), for the layers it serves (`layers`: their macros, all made by
  // specs of this type). The cost model prices every macro of the chip with it.
  virtual cost::MacroInventory macro_inventory(const std::vector<const Macro*>& layers, const cost::Hardware& hardware,
                                               const cost::ComponentLibrary& library) const = 0;
};

// The macro of a layer by the spec's operand kind: for_operands(operands) for integer codes,
// for_format(format) for floating-point operands (layers hand over fp32 values).
std::unique_ptr<Macro> macro_for_layer(const MacroSpec& spec, const IntegerOperands& operands,
                                       const NumberFormat& format = {8, 23});

}  // namespace bitline::core
