#include "core/macro.h"

#include <algorithm>
#include <stdexcept>

namespace bitline::core {

std::vector<Tile> row_tiles(RowMapping mapping, int64_t rows_per_tile, int64_t channels, int64_t kernel_area,
                            bool drop_channels) {
  const int64_t n = rows_per_tile;
  const int64_t k = channels * kernel_area;
  std::vector<Tile> tiles;
  if (mapping == RowMapping::Packed || kernel_area > n) {
    // A kernel larger than a tile cannot be channel-aligned; packed chunks are the only mapping.
    for (int64_t begin = 0; begin < k; begin += n) tiles.push_back({begin, std::min(begin + n, k)});
    return tiles;
  }
  const int64_t channels_per_tile = n / kernel_area;
  int64_t tile_count = (channels + channels_per_tile - 1) / channels_per_tile;
  if (drop_channels) {
    // ASiM loops ceil(C k^2 / N) times over torch.split(c_t) chunks; the rest are never computed.
    tile_count = std::min(tile_count, (k + n - 1) / n);
  }
  for (int64_t t = 0; t < tile_count; ++t) {
    const int64_t first = t * channels_per_tile;
    const int64_t last = std::min(first + channels_per_tile, channels);
    tiles.push_back({first * kernel_area, last * kernel_area});
  }
  return tiles;
}

void validate_integer_operands(const IntegerOperands& operands, int input_bits_per_cycle) {
  const auto require = [](bool condition, const char* message) {
    if (!condition) throw std::invalid_argument(message);
  };
  require(operands.weight_bits >= 2 && operands.weight_bits <= 16, "weight_bits must be in [2, 16]");
  require(operands.input_bits >= (operands.signed_inputs ? 2 : 1) && operands.input_bits <= 16,
          "input_bits must be in [1, 16] (signed: [2, 16])");
  require(input_bits_per_cycle >= 1, "input_bits_per_cycle must be >= 1");
  require(input_bits_per_cycle <= operands.input_bits, "input_bits_per_cycle must not exceed input_bits");
}

std::vector<InputChunk> input_chunks(const IntegerOperands& operands, int input_bits_per_cycle) {
  const int e = input_bits_per_cycle;
  const int magnitude_bits = operands.signed_inputs ? operands.input_bits - 1 : operands.input_bits;
  std::vector<InputChunk> chunks;
  for (int first = 0; first < magnitude_bits; first += e) chunks.push_back({first, std::min(e, magnitude_bits - first), false});
  if (operands.signed_inputs) chunks.push_back({operands.input_bits - 1, 1, true});
  return chunks;
}

std::vector<PairedProducts> products_with_pairs(const ProductShape& shape, int64_t count, int64_t pairs,
                                                PairEncoding encoding) {
  if (pairs == 0) return {{shape, count, {encoding, 0, false}}};
  if (count == 1) {
    if (2 * pairs > shape.cols) {
      throw std::invalid_argument(std::to_string(pairs) + " filter pairs need " + std::to_string(2 * pairs) +
                                  " filters, the layer has " + std::to_string(shape.cols));
    }
    return {{shape, 1, {encoding, pairs, false}}};
  }
  if (shape.cols != 1) {
    throw std::invalid_argument("filter pairs across grouped products of " + std::to_string(shape.cols) +
                                " filters each are not supported: pair ungrouped or depthwise layers");
  }
  if (2 * pairs > count) {
    throw std::invalid_argument(std::to_string(pairs) + " channel pairs need " + std::to_string(2 * pairs) +
                                " channels, the layer has " + std::to_string(count));
  }
  ProductShape pair_shape = shape;
  pair_shape.cols = 2;
  std::vector<PairedProducts> products = {{pair_shape, pairs, {encoding, 1, true}}};
  if (count > 2 * pairs) products.push_back({shape, count - 2 * pairs, {encoding, 0, false}});
  return products;
}

std::string to_string(PairEncoding encoding) {
  return encoding == PairEncoding::TwosComplement ? "twos_complement" : "offset_binary";
}

std::string to_string(RowMapping mapping) { return mapping == RowMapping::Packed ? "packed" : "channel_aligned"; }

void Macro::forward(const ProductShape&, const int32_t*, const int32_t*, const NoiseKey&, float*, Events*) const {
  throw std::logic_error("this macro takes floating-point operands, not integer codes");
}

void Macro::forward(const ProductShape&, const float*, const float*, const NoiseKey&, float*, Events*) const {
  throw std::logic_error("this macro takes integer codes, not floating-point operands");
}

void Macro::input_gradient(const ProductShape&, const float*, const float*, const NoiseKey&, float*, Events*) const {
  throw std::logic_error("this macro has no training products (see training_products())");
}

void Macro::weight_gradient(const ProductShape&, const float*, const float*, const NoiseKey&, float*, Events*) const {
  throw std::logic_error("this macro has no training products (see training_products())");
}

void Macro::update_weights(int64_t, float*, const float*, double, Events*) const {
  throw std::logic_error("this macro does not update weights (see training_products())");
}

std::unique_ptr<Macro> MacroSpec::for_operands(const IntegerOperands&) const {
  throw std::invalid_argument("macro type " + type() + " takes floating-point operands, not integer codes");
}

void MacroSpec::check_operands(const IntegerOperands& operands) const { macro_for_layer(*this, operands); }

std::unique_ptr<Macro> macro_for_layer(const MacroSpec& spec, const IntegerOperands& operands, const NumberFormat& format) {
  return spec.operand_kind() == OperandKind::FloatingPoint ? spec.for_format(format) : spec.for_operands(operands);
}

std::unique_ptr<Macro> MacroSpec::for_format(const NumberFormat&) const {
  throw std::invalid_argument("macro type " + type() + " takes integer codes, not floating-point operands");
}

}  // namespace bitline::core
