// The plan of the SIMD kernel (kernel.h): byte tables, weights and the bucketed inverse CDFs.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/analog_sram/kernel.h"

namespace bitline::core::analog_sram::detail {
namespace {

constexpr uint32_t kNoThreshold24 = 0xFFFFFFu;
constexpr uint32_t kNoThreshold16 = 0xFFFFu;
constexpr uint32_t kScan = 0xFFFFFFFFu;

// Number of thresholds <= u.
uint32_t below_or_at(const uint32_t* t, int n, uint64_t u) {
  return static_cast<uint32_t>(std::upper_bound(t, t + n, u, [](uint64_t v, uint32_t x) { return v < x; }) - t);
}

// A bucket of uniforms [start, start + width): (threshold - start - 1) << 8 | offset when it holds
// at most one threshold (threshold field `none` when it holds none), or nothing (multi).
bool bucket_entry(const uint32_t* t, int n, uint64_t start, uint64_t width, uint32_t none, uint32_t* entry) {
  const uint32_t lo = below_or_at(t, n, start), hi = below_or_at(t, n, start + width - 1);
  if (hi == lo) {
    *entry = (none << 8) | lo;
    return lo < 0xFF;
  }
  if (hi == lo + 1) {
    *entry = (static_cast<uint32_t>(t[lo] - start - 1) << 8) | lo;
    return lo < 0xFF;
  }
  return false;
}

}  // namespace

int32_t FastPlan::resolve_offset(int64_t mac, uint32_t uniform) const {
  const uint32_t e = level1[static_cast<std::size_t>(sampler_class[mac]) * 256 + (uniform >> 24)];
  if ((e & 0xFF) != 0xFF) return static_cast<int32_t>((e & 0xFF) + ((uniform & 0xFFFFFF) > (e >> 8)));
  if ((e >> 8) != kNoThreshold24) {
    const uint32_t e2 = level2[static_cast<std::size_t>(e >> 8) * 256 + ((uniform >> 16) & 0xFF)];
    if (e2 != kScan) return static_cast<int32_t>((e2 & 0xFF) + ((uniform & 0xFFFF) > (e2 >> 8)));
  }
  return analog->sample_code(mac, uniform) - sampler_first[mac];
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
  const int64_t center = (units.back() + levels / 2) / levels;
  bool found = false;
  for (int64_t slope : {center, center - 1, center + 1}) {
    bool fits = true;
    for (int c = 0; c <= levels && fits; ++c) fits = std::llabs(units[static_cast<std::size_t>(c)] - slope * c) <= 127;
    if (fits) {
      plan->slope = slope;
      found = true;
      break;
    }
  }
  if (!found) return nullptr;
  plan->value_exponent = value_exponent;
  plan->value_max = units.back();
  for (int c = 0; c < 256; ++c) {
    const int64_t d = c <= levels ? units[static_cast<std::size_t>(c)] - plan->slope * c : 0;
    plan->delta[c] = static_cast<uint8_t>(d + 128);
    plan->has_delta = plan->has_delta || d != 0;
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
  plan->delta_bias = 128 * bias;

  // Inverse CDF buckets of the noisy analog readout, deduplicated into classes of m with the same
  // thresholds.
  plan->sampled = has_analog && analog->noisy();
  if (plan->sampled) {
    std::map<std::vector<uint32_t>, int> classes;
    std::vector<const std::vector<uint32_t>*> class_thresholds;
    for (int64_t m = 0; m < 256; ++m) {
      const int64_t mac = std::min<int64_t>(m, analog->max_mac());
      const uint32_t* t = analog->thresholds(mac);
      std::vector<uint32_t> key(t, t + analog->threshold_count(mac));
      auto [it, inserted] = classes.emplace(std::move(key), static_cast<int>(classes.size()));
      if (inserted) class_thresholds.push_back(&it->first);
      plan->sampler_class[m] = static_cast<uint8_t>(it->second);
      plan->sampler_first[m] = static_cast<uint8_t>(analog->first_code(mac));
    }
    if (classes.size() > 256) return nullptr;
    plan->level1.assign(classes.size() * 256, 0);
    for (std::size_t k = 0; k < class_thresholds.size(); ++k) {
      const uint32_t* t = class_thresholds[k]->data();
      const int n = static_cast<int>(class_thresholds[k]->size());
      for (uint64_t bucket = 0; bucket < 256; ++bucket) {
        uint32_t entry = 0;
        auto& slot = plan->level1[k * 256 + bucket];
        if (bucket_entry(t, n, bucket << 24, uint64_t{1} << 24, kNoThreshold24, &entry)) {
          slot = entry;
          continue;
        }
        const auto index = static_cast<uint32_t>(plan->level2.size() / 256);
        if (index >= kNoThreshold24) return nullptr;
        slot = (index << 8) | 0xFF;
        for (uint64_t sub = 0; sub < 256; ++sub) {
          const uint64_t start = (bucket << 24) | (sub << 16);
          plan->level2.push_back(bucket_entry(t, n, start, uint64_t{1} << 16, kNoThreshold16, &entry) ? entry : kScan);
        }
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
