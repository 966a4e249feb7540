#include "core/analog_sram/engine.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/analog_sram/kernel.h"
#include "core/counter_hash.h"

namespace bitline::core::analog_sram {
namespace {

using core::EventKind;

constexpr int kWordBits = 64;

int64_t words_for(int64_t rows) { return (rows + kWordBits - 1) / kWordBits; }

std::size_t readout_index(int chunk_bits, bool noisy) { return static_cast<std::size_t>(chunk_bits) * 2 + (noisy ? 1 : 0); }

// Bit planes of integer codes, two's complement over `bits` bits, packed along each tile's rows:
// planes[((r * tiles + t) * bits + b) * words + w] holds bit b of rows [t.begin + 64 w, ...) of row r.
std::vector<uint64_t> pack_planes(const int32_t* codes, int64_t count, int64_t depth, const std::vector<Tile>& tiles,
                                  int bits, int64_t words) {
  std::vector<uint64_t> planes(static_cast<std::size_t>(count) * tiles.size() * bits * words, 0);
  const uint32_t mask = bits >= 32 ? 0xFFFFFFFFu : ((1u << bits) - 1);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < count; ++r) {
    const int32_t* row = codes + r * depth;
    for (std::size_t t = 0; t < tiles.size(); ++t) {
      uint64_t* tile_planes = planes.data() + ((static_cast<std::size_t>(r) * tiles.size() + t) * bits) * words;
      for (int64_t k = tiles[t].begin; k < tiles[t].end; ++k) {
        const uint32_t pattern = static_cast<uint32_t>(row[k]) & mask;
        if (pattern == 0) continue;
        const int64_t offset = k - tiles[t].begin;
        const uint64_t bit = uint64_t{1} << (offset % kWordBits);
        for (int b = 0; b < bits; ++b) {
          if (pattern & (1u << b)) tile_planes[b * words + offset / kWordBits] |= bit;
        }
      }
    }
  }
  return planes;
}

}  // namespace

Engine::Engine(const Spec& spec) : spec_(spec), cycles_(cycle_plan(spec)) {
  validate(spec_);
  readouts_.resize(readout_index(spec_.input_bits_per_cycle, true) + 1);
  for (const auto& cycle : cycles_) {
    const bool noisy = cycle.kind != CycleKind::Digital;
    auto& slot = readouts_[readout_index(cycle.input_bit_count, noisy)];
    if (!slot) slot = std::make_unique<Readout>(spec_, cycle.input_bit_count, noisy);
    lossless_ = lossless_ && slot->lossless();
  }
  if (spec_.asim_drop_channels) lossless_ = false;  // dropped channels make the result inexact
  // Per-column transfers act on conversions; a plan of digital cycles only has none to vary.
  per_column_ = spec_.per_column() && std::any_of(cycles_.begin(), cycles_.end(),
                                                  [](const Cycle& cycle) { return cycle.kind != CycleKind::Digital; });
  if (per_column_) lossless_ = false;
  if (detail::avx512_kernel_supported()) {
    const Readout* analog = readouts_[readout_index(1, true)].get();
    const Readout* digital = readouts_[readout_index(1, false)].get();
    fast_ = detail::make_fast_plan(spec_, cycles_, analog, digital);
  }
}

std::shared_ptr<const Engine::ColumnTransfers> Engine::column_transfers(uint64_t layer_key, const std::vector<Tile>& tiles,
                                                                        int64_t cols) const {
  const auto cache_key = std::make_tuple(layer_key, tiles.size(), cols);
  {
    std::lock_guard<std::mutex> lock(column_mutex_);
    auto found = column_cache_.find(cache_key);
    if (found != column_cache_.end()) return found->second;
  }
  // Which readout kinds analog and voted cycles use.
  std::vector<int> chunk_bits_used;
  for (const auto& cycle : cycles_) {
    if (cycle.kind != CycleKind::Digital &&
        std::find(chunk_bits_used.begin(), chunk_bits_used.end(), cycle.input_bit_count) == chunk_bits_used.end()) {
      chunk_bits_used.push_back(cycle.input_bit_count);
    }
  }
  const auto kinds = readouts_.size();
  const int64_t columns = static_cast<int64_t>(tiles.size()) * cols * spec_.weight_bits;
  auto built = std::make_shared<ColumnTransfers>();
  built->readouts.resize(static_cast<std::size_t>(columns) * kinds);
  const auto base = spec_.converter ? spec_.converter
                                    : std::make_shared<adc::ThresholdConverter>(
                                          spec_.adc_bits, adc::ThresholdConverter::ideal_thresholds_lsb(spec_.adc_bits));
#pragma omp parallel for schedule(dynamic, 8)
  for (int64_t column = 0; column < columns; ++column) {
    // column = (tile * cols + o) * weight_bits + i: the physical column's identity keys its error.
    const auto t = static_cast<uint64_t>(column / (cols * spec_.weight_bits));
    const auto o = static_cast<uint64_t>((column / spec_.weight_bits) % cols);
    const auto i = static_cast<uint64_t>(column % spec_.weight_bits);
    Spec column_spec = spec_;
    const auto& measured = spec_.column_converters;
    column_spec.converter =
        measured.empty() ? base : measured[static_cast<std::size_t>(o * static_cast<uint64_t>(spec_.weight_bits) + i) % measured.size()];
    if (spec_.variation.any()) {
      column_spec.converter = std::make_shared<adc::ColumnConverter>(
          column_spec.converter, adc::column_error(spec_.variation, counter_hash(layer_key, t, o, i)));
    }
    for (int bits : chunk_bits_used) {
      built->readouts[static_cast<std::size_t>(column) * kinds + readout_index(bits, true)] =
          std::make_unique<Readout>(column_spec, bits, true);
    }
  }
  if (fast_ != nullptr && fast_->per_column) {
    const int64_t output_columns = static_cast<int64_t>(tiles.size()) * cols;
    built->kernel_tables.resize(static_cast<std::size_t>(output_columns) * detail::kColumnTableBytes);
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t column = 0; column < output_columns; ++column) {  // tile * cols + o
      std::vector<const Readout*> bit_readouts;  // the kernel's cycles are single input bits
      for (int i = 0; i < spec_.weight_bits; ++i) {
        bit_readouts.push_back(
            built->readouts[static_cast<std::size_t>(column * spec_.weight_bits + i) * kinds + readout_index(1, true)].get());
      }
      detail::fill_column_tables(bit_readouts.data(), spec_.weight_bits,
                                 built->kernel_tables.data() + static_cast<std::size_t>(column) * detail::kColumnTableBytes);
    }
  }
  std::lock_guard<std::mutex> lock(column_mutex_);
  return column_cache_.emplace(cache_key, std::move(built)).first->second;
}

const Readout& Engine::readout(const Cycle& cycle) const {
  return *readouts_[readout_index(cycle.input_bit_count, cycle.kind != CycleKind::Digital)];
}

Events Engine::count(const ProductShape& shape) const { return count_events(spec_, cycles_, shape); }

Events count_events(const Spec& spec, const std::vector<Cycle>& cycles, const ProductShape& shape) {
  const auto tiles = row_tiles(spec, shape.channels, shape.kernel_area);
  const int64_t chunks = input_chunk_count(spec);
  int64_t rows_in_tiles = 0;
  for (const auto& tile : tiles) rows_in_tiles += tile.end - tile.begin;
  int64_t analog = 0, digital = 0, voted = 0;
  for (const auto& cycle : cycles) {
    analog += cycle.kind == CycleKind::Analog;
    digital += cycle.kind == CycleKind::Digital;
    voted += cycle.kind == CycleKind::Voted;
  }
  const int64_t outputs = shape.rows * shape.cols;
  const int64_t outputs_by_tile = outputs * static_cast<int64_t>(tiles.size());
  const int64_t row_drives = shape.rows * rows_in_tiles * chunks;
  Events events;
  events.add(EventKind::Mac, outputs * rows_in_tiles);
  events.add({EventKind::AdcConversion, spec.adc_bits}, outputs_by_tile * (analog + voted * spec.vote_samples));
  events.add(EventKind::DigitalCycle, outputs_by_tile * digital);
  events.add({EventKind::AdderTreeAddition, 1}, outputs * digital * rows_in_tiles);
  events.add(EventKind::VotedCycle, outputs_by_tile * voted);
  events.add(EventKind::ArrayActivation, shape.rows * static_cast<int64_t>(tiles.size()) * chunks);
  events.add(EventKind::RowDrive, row_drives);
  events.add(EventKind::CellRead, row_drives * shape.cols * spec.weight_bits);
  events.add(EventKind::ShiftAdd, outputs_by_tile * static_cast<int64_t>(cycles.size()));
  events.add(EventKind::Accumulation, outputs_by_tile);
  return events;
}

core::ArrayFootprint Engine::footprint(const ProductShape& shape) const {
  return {row_tiles(spec_, shape.channels, shape.kernel_area), spec_.rows_per_conversion, spec_.weight_bits,
          spec_.weight_bits, spec_.input_bits, shape.cols};
}

double Engine::cycles_per_activation(const cost::Hardware& hardware, const cost::ComponentLibrary& library) const {
  const bool converts = std::any_of(cycles_.begin(), cycles_.end(),
                                    [](const Cycle& cycle) { return cycle.kind != CycleKind::Digital; });
  if (!converts) return 1.0;
  const double own_ns = spec_.converter ? spec_.converter->conversion_ns() : 0.0;
  const double conversion_ns = own_ns > 0 ? own_ns : library.adc_conversion_ns;
  const double adc_cycles = std::max(1.0, std::ceil(conversion_ns * hardware.clock_mhz * 1e-3 - 1e-9));
  return static_cast<double>(hardware.columns_per_adc) * adc_cycles;
}

std::optional<double> Engine::own_energy_pj(const core::EventType& type) const {
  if (type.kind != EventKind::AdcConversion || !spec_.converter) return std::nullopt;
  const double energy = adc::mean_energy_pj(*spec_.converter);
  if (energy > 0) return energy;
  return std::nullopt;
}

void Engine::matmul(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
                    Events* events) const {
  if (fast_ != nullptr && shape.rows > 0 && shape.cols > 0) {
    const auto tiles = row_tiles(spec_, shape.channels, shape.kernel_area);
    if (detail::fast_plan_applies(*fast_, shape, tiles)) {
      const auto columns = fast_->per_column ? column_transfers(key.layer, tiles, shape.cols) : nullptr;
      detail::avx512_matmul(*fast_, shape, tiles, x, w, counter_hash(spec_.seed, key.layer), key,
                            columns ? columns->kernel_tables.data() : nullptr, out);
      if (events != nullptr) *events += count(shape);
      return;
    }
  }
  matmul_reference(shape, x, w, key, out, events);
}

void Engine::matmul_reference(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key,
                              float* out, Events* events) const {
  const auto tiles = row_tiles(spec_, shape.channels, shape.kernel_area);
  int64_t widest = 0;
  for (const auto& tile : tiles) widest = std::max(widest, tile.end - tile.begin);
  const int64_t words = words_for(widest);
  const int x_bits = spec_.input_bits, w_bits = spec_.weight_bits;
  const auto x_planes = pack_planes(x, shape.rows, shape.depth(), tiles, x_bits, words);
  const auto w_planes = pack_planes(w, shape.cols, shape.depth(), tiles, w_bits, words);
  const auto tile_count = static_cast<int64_t>(tiles.size());
  const auto cycle_count = static_cast<int64_t>(cycles_.size());
  const uint64_t layer_seed = counter_hash(spec_.seed, key.layer);
  std::vector<const Readout*> cycle_readouts;
  for (const auto& cycle : cycles_) cycle_readouts.push_back(&readout(cycle));
  const bool any_noise = spec_.noisy();
  const auto columns = per_column_ ? column_transfers(key.layer, tiles, shape.cols) : nullptr;
  const auto kinds = readouts_.size();

  const int64_t chunks = input_chunk_count(spec_);
  int64_t conversions = 0, digital = 0, adder_inputs = 0, voted = 0, activations = 0, drives = 0, shift_adds = 0,
          macs = 0, accumulations = 0;
#pragma omp parallel for schedule(dynamic, 4) \
    reduction(+ : conversions, digital, adder_inputs, voted, activations, drives, shift_adds, macs, accumulations)
  for (int64_t r = 0; r < shape.rows; ++r) {
    // Each input chunk drives a tile's rows once; all output columns convert in parallel.
    for (const auto& tile : tiles) {
      activations += chunks;
      drives += (tile.end - tile.begin) * chunks;
      macs += (tile.end - tile.begin) * shape.cols;
    }
    // Binary MACs of every (weight bit, input bit) pair of one tile: popcounts of ANDed planes.
    std::vector<int32_t> binary_macs(static_cast<std::size_t>(w_bits * x_bits));
    int32_t vote_codes[32];
    const uint64_t sample = key.first_sample + static_cast<uint64_t>(r / key.rows_per_sample);
    const uint64_t position = static_cast<uint64_t>(r % key.rows_per_sample);
    for (int64_t o = 0; o < shape.cols; ++o) {
      double accumulated = 0;
      const uint64_t coordinate = position * static_cast<uint64_t>(shape.cols) + static_cast<uint64_t>(o);
      for (int64_t t = 0; t < tile_count; ++t) {
        ++accumulations;
        const uint64_t tile_key = any_noise ? counter_hash(layer_seed, sample, position, static_cast<uint64_t>(t)) : 0;
        const uint64_t* xp = x_planes.data() + static_cast<std::size_t>((r * tile_count + t) * x_bits * words);
        const uint64_t* wp = w_planes.data() + static_cast<std::size_t>((o * tile_count + t) * w_bits * words);
        for (int i = 0; i < w_bits; ++i) {
          for (int b = 0; b < x_bits; ++b) {
            int32_t count = 0;
            for (int64_t word = 0; word < words; ++word) {
              count += __builtin_popcountll(wp[i * words + word] & xp[b * words + word]);
            }
            binary_macs[static_cast<std::size_t>(i * x_bits + b)] = count;
          }
        }
        for (int64_t c = 0; c < cycle_count; ++c) {
          const Cycle& cycle = cycles_[static_cast<std::size_t>(c)];
          int64_t mac = 0;
          for (int e = 0; e < cycle.input_bit_count; ++e) {
            mac += int64_t{binary_macs[static_cast<std::size_t>(cycle.weight_bit * x_bits + cycle.input_first_bit + e)]} << e;
          }
          const Readout& readout =
              columns && cycle.kind != CycleKind::Digital
                  ? *columns->readouts[static_cast<std::size_t>((t * shape.cols + o) * w_bits + cycle.weight_bit) * kinds +
                                       readout_index(cycle.input_bit_count, true)]
                  : *cycle_readouts[static_cast<std::size_t>(c)];
          float value;
          const uint64_t stream = static_cast<uint64_t>(t * cycle_count + c);
          if (cycle.kind == CycleKind::Voted) {
            for (int v = 0; v < spec_.vote_samples; ++v) {
              const uint64_t h = counter_hash(layer_seed, sample, coordinate, stream * 32 + static_cast<uint64_t>(v));
              vote_codes[v] = any_noise ? readout.sample_code(mac, static_cast<uint32_t>(h)) : readout.noiseless_code(mac);
            }
            value = readout.value(majority_vote(vote_codes, spec_.vote_samples, spec_.vote_tie_rule));
            conversions += spec_.vote_samples;
            ++voted;
          } else if (cycle.kind == CycleKind::Digital) {
            value = readout.convert(mac, 0);
            ++digital;
            adder_inputs += tiles[static_cast<std::size_t>(t)].end - tiles[static_cast<std::size_t>(t)].begin;
          } else {
            const uint32_t uniform =
                any_noise ? detail::analog_uniform(tile_key, o, cycle.weight_bit, cycle.chunk, static_cast<int>(chunks)) : 0u;
            value = readout.convert(mac, uniform);
            ++conversions;
          }
          accumulated += static_cast<double>(cycle.sign) * static_cast<double>(int64_t{1} << cycle.shift) * value;
          ++shift_adds;
        }
      }
      out[r * shape.cols + o] = static_cast<float>(accumulated);
    }
  }
  if (events != nullptr) {
    events->add(EventKind::Mac, macs);
    events->add({EventKind::AdcConversion, spec_.adc_bits}, conversions);
    events->add(EventKind::DigitalCycle, digital);
    events->add({EventKind::AdderTreeAddition, 1}, adder_inputs);
    events->add(EventKind::VotedCycle, voted);
    events->add(EventKind::ArrayActivation, activations);
    events->add(EventKind::RowDrive, drives);
    events->add(EventKind::CellRead, drives * shape.cols * w_bits);
    events->add(EventKind::ShiftAdd, shift_adds);
    events->add(EventKind::Accumulation, accumulations);
  }
}

}  // namespace bitline::core::analog_sram
