#pragma once
// The analog SRAM compute-in-memory macro (ASiM-style, spec/papers.md §5): its knobs, and the
// plan of conversion cycles and row tiles that follows from them. See docs/macros/analog_sram.md.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/adc/converter.h"
#include "core/macro.h"

namespace bitline::core::analog_sram {

using core::RowMapping;
using core::Tile;

// What the ADC's full scale is, in MAC units (per input chunk of e bits).
enum class FullScale {
  AsimFullRange,  // (2^e - 1) * N: ASiM's, lossless when N = 2^adc_bits - 1 and e = 1
  Calibrated,     // calibrated_fraction * (2^e - 1) * N, from partial-sum statistics; clips above
};

// What happens to the top `hybrid_levels` significance levels (i + j large).
enum class TopLevels {
  Digital,       // HCiM: computed digitally, noise-free (still through the ADC rounding, as ASiM)
  MajorityVote,  // converted vote_samples times with independent noise; the most frequent code wins
};

// Which code wins a tied majority vote.
enum class VoteTieRule {
  Smallest,  // ASiM's torch.mode: the smallest of the tied codes
  Largest,
  ClosestToMean,  // the tied code closest to the mean of all samples (smaller on a further tie)
};

struct Spec {
  int weight_bits = 8;
  int input_bits = 8;
  bool signed_inputs = false;
  int input_bits_per_cycle = 1;  // ASiM's act_enc: 1 = bit-serial
  int64_t rows_per_conversion = 255;  // N (nrow)
  RowMapping row_mapping = RowMapping::ChannelAligned;
  bool asim_drop_channels = false;  // reproduce ASiM's dropped channels when ceil(C/c_t) > ceil(C*k^2/N)
  IntegerOperands operands() const { return {weight_bits, input_bits, signed_inputs, {}}; }

  int adc_bits = 8;
  FullScale full_scale = FullScale::AsimFullRange;
  double calibrated_fraction = 1.0;  // for FullScale::Calibrated; set per layer by calibration
  double calibration_percentile = 99.99;  // percentile of the partial sums the calibrated range holds

  // Noise added to the normalized analog value v = MAC / full scale, before the ADC. All sigmas are
  // fractions of the full scale.
  double additive_sigma_fs = 0.0;        // ASiM's rand_noise_sigma / 100
  double asim_mac_sigma_fs = 0.0;        // ASiM's non_linear_sigma / 100, divided by sqrt(m + 1)
  double physical_mac_sigma_fs = 0.0;    // sigma_c * sqrt(m) / N  [A]: grows with the MAC value
  double gain_compression_alpha = 0.0;   // current domain: v <- v / (1 + alpha v), before noise
  double parasitic_capacitance_ratio = 0.0;  // charge domain: C_par / C_u, v <- v N / (N + C_par / C_u)

  // The column ADC of analog cycles; null: the ideal converter in ASiM's float32 rounding (exact
  // parity). Digital (HCiM) cycles always use the ideal rounding.
  std::shared_ptr<const adc::Converter> converter;
  // Measured converters of the columns of one array, by physical column p = o * weight_bits + i
  // (output column o, weight bit i); every row tile and every layer reads column p through
  // column_converters[p % size()] (layers wider than the table wrap around [A]). Empty: every
  // column uses `converter`.
  std::vector<std::shared_ptr<const adc::Converter>> column_converters;
  // Per-column gain and offset errors of one chip instance, on every analog conversion: each
  // physical column (layer, tile, output column, weight bit) reads through its own error.
  adc::Variation variation;

  int hybrid_levels = 0;  // L: top significance levels handled by top_levels
  TopLevels top_levels = TopLevels::Digital;
  int vote_samples = 3;
  VoteTieRule vote_tie_rule = VoteTieRule::Smallest;

  uint64_t seed = 0;

  // Whether analog conversions are random: noise before the ADC or a converter with randomness of
  // its own (a CCO's phase).
  bool noisy() const {
    bool random_columns = false;
    for (const auto& column : column_converters) random_columns = random_columns || column->random();
    return additive_sigma_fs > 0 || asim_mac_sigma_fs > 0 || physical_mac_sigma_fs > 0 ||
           (converter != nullptr && converter->random()) || random_columns;
  }
  // Whether physical columns read through different transfers.
  bool per_column() const { return variation.any() || !column_converters.empty(); }
  int adc_levels() const { return (1 << adc_bits) - 1; }
};

// The most MAC values a conversion may take, (2^e - 1) N: its readout tables hold one entry each.
constexpr int64_t kMaxMacValues = int64_t{1} << 24;

// Throws std::invalid_argument naming the offending field (e.g. "rows_per_conversion must be >= 1").
void validate(const Spec& spec);

// One conversion cycle: weight bit `weight_bit` against input chunk `chunk`.
enum class CycleKind { Analog, Digital, Voted };
struct Cycle {
  int weight_bit = 0;
  int chunk = 0;            // j, LSB-first
  int input_first_bit = 0;  // first input bit of the chunk
  int input_bit_count = 1;  // e
  int shift = 0;            // significance: weight_bit + input_first_bit
  int sign = 1;             // -1 for the negative-weight MSB products of two's complement
  CycleKind kind = CycleKind::Analog;
};

// The cycles of one tile, weight bit major. Bit-serial W8A8 gives 64 cycles.
std::vector<Cycle> cycle_plan(const Spec& spec);
int input_chunk_count(const Spec& spec);  // P

// Tiles of a dot product of length K = channels * kernel_area, converted together: core::row_tiles
// at rows_per_conversion. With asim_drop_channels, the channels ASiM drops are left out (the
// returned tiles then cover fewer than K rows).
std::vector<Tile> row_tiles(const Spec& spec, int64_t channels, int64_t kernel_area);

std::string to_string(FullScale full_scale);
std::string to_string(TopLevels top_levels);
std::string to_string(VoteTieRule rule);

}  // namespace bitline::core::analog_sram
