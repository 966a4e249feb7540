// The plan of the SIMD kernel (kernel.h): byte tables, weights and the bucketed inverse CDFs.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/analog_sram/kernel.h"

namespace bitline::core::analog_sram::detail {

void fill_column_tables(const Readout* const* bit_readouts, int weight_bits, uint8_t* tables) {
  std::fill(tables, tables + kColumnTableBytes, uint8_t{0});
  for (int i = 0; i < weight_bits; ++i) {
    const Readout& readout = *bit_readouts[i];
    for (int64_t m = 0; m < 256; ++m) {
      const auto code = static_cast<uint8_t>(readout.noiseless_code(std::min<int64_t>(m, readout.max_mac())));
      tables[kColumnTablesFull + static_cast<std::size_t>(256 * i + m)] = code;
      if (m < 64) tables[kColumnTablesHalf + static_cast<std::size_t>(64 * i + m)] = code;
      if (m < 32) tables[kColumnTablesQuarter + static_cast<std::size_t>(32 * i + m)] = code;
    }
  }
}
std::shared_ptr<const FastPlan> make_fast_plan(const Spec& spec, const std::vector<Cycle>& cycles,
                                               const Readout* analog, const Readout* digital) {
  if (spec.input_bits_per_cycle != 1 || spec.weight_bits > 8 || spec.input_bits > 16 ||
      spec.rows_per_conversion > 255 || spec.adc_bits > 8 || cycles.empty()) {
    return nullptr;
  }
  auto plan = std::make_shared<FastPlan>();
  plan->weight_bits = spec.weight_bits;
  plan->input_bits = spec.input_bits;
  plan->any_noise = spec.noisy();
  plan->max_mac = spec.rows_per_conversion;
  plan->cycles = cycles;
  plan->vote_samples = spec.vote_samples;
  plan->vote_tie_rule = spec.vote_tie_rule;

  bool has_analog = false, has_digital = false;
  const int chunks = input_chunk_count(spec);
  if (chunks != spec.input_bits) return nullptr;
  for (const auto& c : cycles) {
    if (c.input_bit_count != 1 || c.chunk != c.input_first_bit) return nullptr;
    (c.kind == CycleKind::Digital ? has_digital : has_analog) = true;
  }
  // Per-column transfers: deterministic ones read per-lane tables; noisy ones and votes (which would
  // sample per column) run on the reference path.
  if (spec.per_column() && has_analog) {  // digital cycles are the same in every column
    if (spec.noisy()) return nullptr;
    for (const auto& c : cycles) {
      if (c.kind == CycleKind::Voted) return nullptr;
    }
    plan->per_column = true;
  }
  plan->analog = has_analog ? analog : nullptr;
  plan->digital = has_digital ? digital : nullptr;
  const Readout* any = has_analog ? analog : digital;
  if (any == nullptr || (has_analog && analog == nullptr) || (has_digital && digital == nullptr)) return nullptr;
  if (any->max_mac() != spec.rows_per_conversion) return nullptr;

  // Byte tables of the noise-free transfers over m.
  for (int64_t m = 0; m < 256; ++m) {
    const int64_t mac = std::min<int64_t>(m, any->max_mac());
    if (has_analog) plan->analog_code[m] = static_cast<uint8_t>(analog->noiseless_code(mac));
    if (has_digital) plan->digital_code[m] = static_cast<uint8_t>(digital->noiseless_code(mac));
  }

  // Exact integer values: value(code) = V(code) 2^e, V = slope * code + delta, |delta| < 128.
  const int levels = any->levels();
  if (levels > 255) return nullptr;
  plan->wide_codes = levels > 127;
  const float step = any->value(1);
  if (!(step > 0)) return nullptr;
  int exponent = 0;
  std::frexp(step, &exponent);
  int value_exponent = exponent - 24;  // the ulp of the smallest nonzero value
  std::vector<int64_t> units(static_cast<std::size_t>(levels) + 1);
  for (int c = 0; c <= levels; ++c) {
    const double scaled = std::ldexp(static_cast<double>(any->value(c)), -value_exponent);
    if (scaled != std::floor(scaled) || scaled < 0 || scaled > 9.0e15) return nullptr;
    units[static_cast<std::size_t>(c)] = static_cast<int64_t>(scaled);
  }
  // Drop common factors of two.
  while (std::all_of(units.begin(), units.end(), [](int64_t v) { return v % 2 == 0; }) && units.back() != 0) {
    for (auto& v : units) v /= 2;
    ++value_exponent;
  }
  if (units[0] != 0) return nullptr;
  // The slope that keeps delta smallest; delta takes one biased byte plane (|delta| < 128) or two.
  const int64_t center = (units.back() + levels / 2) / levels;
  int64_t widest = -1;
  for (int64_t slope : {center, center - 1, center + 1}) {
    int64_t largest = 0;
    for (int c = 0; c <= levels; ++c) {
      largest = std::max<int64_t>(largest, std::llabs(units[static_cast<std::size_t>(c)] - slope * c));
    }
    if (widest < 0 || largest < widest) {
      widest = largest;
      plan->slope = slope;
    }
  }
  if (widest > 32767) return nullptr;
  plan->delta_planes = widest == 0 ? 0 : widest <= 127 ? 1 : 2;
  const int64_t delta_offset = plan->delta_planes == 2 ? 32768 : 128;
  plan->value_exponent = value_exponent;
  plan->value_max = units.back();
  for (int c = 0; c < 256; ++c) {
    const int64_t d = (c <= levels ? units[static_cast<std::size_t>(c)] - plan->slope * c : 0) + delta_offset;
    plan->delta[c] = static_cast<uint8_t>(d & 0xFF);
    plan->delta_high[c] = static_cast<uint8_t>(d >> 8);
  }
  plan->code_units = units;

  // Weights, cycle kinds and the delta bias, per input bit b (chunk j = b).
  int64_t bias = 0;
  for (const auto& c : cycles) {
    const int i = c.weight_bit, b = c.chunk;
    for (int q = 0; q < 8; ++q) plan->weights[b][8 * q + i] = static_cast<int8_t>(c.sign * (1 << (i & 3)));
    bias += static_cast<int64_t>(c.sign) * (int64_t{1} << (i + b));
    const auto bit = static_cast<uint8_t>(1u << i);
    switch (c.kind) {
      case CycleKind::Analog: plan->analog_slots[b] |= bit; break;
      case CycleKind::Digital: plan->digital_slots[b] |= bit; break;
      case CycleKind::Voted: plan->voted_slots[b] |= bit; break;
    }
  }
  plan->delta_bias = delta_offset * bias;

  // The staircase of the noisy analog readout.
  plan->sampled = has_analog && analog->noisy();
  if (plan->sampled) {
    std::vector<std::vector<uint32_t>> steps(256);
    for (int64_t m = 0; m < 256; ++m) {
      const int64_t mac = std::min<int64_t>(m, analog->max_mac());
      const uint32_t* t = analog->thresholds(mac);
      int base = analog->first_code(mac);
      for (int k = 0; k < analog->threshold_count(mac); ++k) {
        const uint32_t prefix = t[k] >> 16;
        if (prefix == 0) {
          ++base;
        } else if (prefix != 0xFFFF) {
          steps[static_cast<std::size_t>(m)].push_back(prefix);
        }
      }
      if (base > 255) return nullptr;
      plan->stair_base[m] = static_cast<uint8_t>(base);
      plan->stair_steps = std::max(plan->stair_steps, static_cast<int>(steps[static_cast<std::size_t>(m)].size()));
    }
    plan->stair_high.assign(static_cast<std::size_t>(plan->stair_steps) * 256, 0xFF);
    plan->stair_low.assign(static_cast<std::size_t>(plan->stair_steps) * 256, 0xFF);
    for (std::size_t m = 0; m < 256; ++m) {
      for (std::size_t k = 0; k < steps[m].size(); ++k) {
        plan->stair_high[k * 256 + m] = static_cast<uint8_t>(steps[m][k] >> 8);
        plan->stair_low[k * 256 + m] = static_cast<uint8_t>(steps[m][k] & 0xFF);
      }
    }
    // The widest range of m sharing steps and base - m (checked for the reachable m <= N).
    const int64_t last = std::min<int64_t>(analog->max_mac(), 255);
    int64_t best_lo = 0, best_hi = -1;
    for (int64_t lo = 0; lo <= last;) {
      int64_t hi = lo;
      auto same = [&](int64_t a, int64_t b) {
        return steps[static_cast<std::size_t>(a)] == steps[static_cast<std::size_t>(b)] &&
               plan->stair_base[a] - a == plan->stair_base[b] - b;
      };
      while (hi + 1 <= last && same(hi + 1, lo)) ++hi;
      if (hi - lo > best_hi - best_lo) best_lo = lo, best_hi = hi;
      lo = hi + 1;
    }
    if (best_hi - best_lo >= 15) {
      plan->uniform_class = true;
      plan->uniform_lo = static_cast<uint8_t>(best_lo);
      plan->uniform_hi = static_cast<uint8_t>(best_hi);
      plan->uniform_shift = plan->stair_base[best_lo] - static_cast<int>(best_lo);
      const auto& s = steps[static_cast<std::size_t>(best_lo)];
      for (int h = 0; h < 256; ++h) {
        int below = 0, inside = 0;
        uint8_t low_byte = 0;
        for (uint32_t step : s) {
          below += static_cast<int>(step >> 8) < h;
          if (static_cast<int>(step >> 8) == h) {
            ++inside;
            low_byte = static_cast<uint8_t>(step & 0xFF);
          }
        }
        plan->uniform_count[h] = static_cast<uint8_t>(below);
        plan->uniform_kind[h] = static_cast<uint8_t>(std::min(inside, 2));
        plan->uniform_low[h] = low_byte;
      }
    }
  }
  return plan;
}

bool fast_plan_applies(const FastPlan& plan, const ProductShape& shape, const std::vector<Tile>& tiles) {
  for (const auto& tile : tiles) {
    if (tile.end - tile.begin > plan.max_mac || tile.end - tile.begin > 255) return false;
  }
  // |sum over tiles and cycles of 2^(i+b) V| must stay exact in a double (and in int64).
  const double bound = static_cast<double>(tiles.size()) * static_cast<double>(plan.value_max) *
                       static_cast<double>((int64_t{1} << plan.weight_bits) - 1) *
                       static_cast<double>((int64_t{1} << plan.input_bits) - 1);
  return bound < 9.0e15 && shape.cols > 0 && shape.rows > 0;
}

}  // namespace bitline::core::analog_sram::detail
