#include "core/analog_sram/spec.h"

#include <algorithm>
#include <stdexcept>

namespace bitline::core::analog_sram {
namespace {

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

}  // namespace

void validate(const Spec& spec) {
  validate_integer_operands(spec.operands(), spec.input_bits_per_cycle);
  require(spec.rows_per_conversion >= 1 && spec.rows_per_conversion <= 65536, "rows_per_conversion must be in [1, 65536]");
  // The readouts hold a table entry per possible MAC value, (2^e - 1) N + 1 of them.
  require(((int64_t{1} << std::min(spec.input_bits_per_cycle, 30)) - 1) * spec.rows_per_conversion <= kMaxMacValues,
          "rows_per_conversion x (2^input_bits_per_cycle - 1) must be at most 16777216: the readout tables hold one "
          "entry per possible MAC value");
  require(spec.adc_bits >= 1 && spec.adc_bits <= 16, "adc_bits must be in [1, 16]");
  require(spec.calibrated_fraction > 0 && spec.calibrated_fraction <= 1, "calibrated_fraction must be in (0, 1]");
  require(spec.additive_sigma_fs >= 0 && spec.asim_mac_sigma_fs >= 0 && spec.physical_mac_sigma_fs >= 0,
          "noise sigmas must be >= 0");
  require(spec.gain_compression_alpha >= 0, "gain_compression_alpha must be >= 0");
  require(spec.parasitic_capacitance_ratio >= 0, "parasitic_capacitance_ratio must be >= 0");
  require(spec.variation.gain_sigma >= 0 && spec.variation.offset_sigma_lsb >= 0, "variation sigmas must be >= 0");
  require(spec.converter == nullptr || spec.converter->bits() == spec.adc_bits,
          "the converter's bits must equal adc_bits");
  for (const auto& column : spec.column_converters) {
    require(column != nullptr && column->bits() == spec.adc_bits, "every column converter's bits must equal adc_bits");
  }
  require(spec.hybrid_levels >= 0 && spec.hybrid_levels <= spec.weight_bits + spec.input_bits,
          "hybrid_levels must be in [0, weight_bits + input_bits]");
  require(spec.vote_samples >= 1 && spec.vote_samples <= 31, "vote_samples must be in [1, 31]");
}

int input_chunk_count(const Spec& spec) {
  return static_cast<int>(input_chunks(spec.operands(), spec.input_bits_per_cycle).size());
}

std::vector<Cycle> cycle_plan(const Spec& spec) {
  const auto chunks = input_chunks(spec.operands(), spec.input_bits_per_cycle);
  const int chunk_count = static_cast<int>(chunks.size());
  // ASiM's HCiM rule: cycle (i, j) is analog iff i + j <= B_w + P - L - 2.
  const int analog_limit = spec.weight_bits + chunk_count - spec.hybrid_levels - 2;
  std::vector<Cycle> cycles;
  for (int i = 0; i < spec.weight_bits; ++i) {
    for (int j = 0; j < chunk_count; ++j) {
      Cycle c;
      c.weight_bit = i;
      c.chunk = j;
      c.input_first_bit = chunks[j].first_bit;
      c.input_bit_count = chunks[j].bits;
      c.shift = i + c.input_first_bit;
      const bool negative_weight_bit = i == spec.weight_bits - 1;
      c.sign = (negative_weight_bit != chunks[j].sign) ? -1 : 1;
      if (i + j > analog_limit) {
        c.kind = spec.top_levels == TopLevels::Digital ? CycleKind::Digital : CycleKind::Voted;
      }
      cycles.push_back(c);
    }
  }
  return cycles;
}

std::vector<Tile> row_tiles(const Spec& spec, int64_t channels, int64_t kernel_area) {
  return core::row_tiles(spec.row_mapping, spec.rows_per_conversion, channels, kernel_area, spec.asim_drop_channels);
}

std::string to_string(FullScale full_scale) {
  return full_scale == FullScale::Calibrated ? "calibrated" : "asim_full_range";
}
std::string to_string(TopLevels top_levels) {
  return top_levels == TopLevels::MajorityVote ? "majority_vote" : "digital";
}
std::string to_string(VoteTieRule rule) {
  switch (rule) {
    case VoteTieRule::Smallest: return "smallest";
    case VoteTieRule::Largest: return "largest";
    case VoteTieRule::ClosestToMean: return "closest_to_mean";
  }
  return "smallest";
}

}  // namespace bitline::core::analog_sram
