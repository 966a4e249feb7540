#pragma once
// Internal to the analog SRAM engine: the noise keying shared by both paths of Engine::matmul, and
// the plan of the SIMD kernel (kernel_plan.cpp builds it, kernel_avx512.cpp runs it).
//
// The SIMD kernel (bit-serial specs, up to 8 weight bits, N <= 255, ADC <= 8 bits) computes, per
// row r, tile t and 64-column block, all binary MACs m(i, b, o) = popcount(w_i(o) & x_b(r)) at once:
// for every set bit k of an input plane x_b it adds the k-th row of the transposed weight tile (64
// bytes: bit i of byte o = bit i of weight (o, k)) into a bit-sliced counter (Harley-Seal carry-save
// adders on 512-bit vectors), then transposes the 8 counter planes into bytes (unpacks + a GF(2)
// affine bit transpose). Each byte is one conversion: the noise-free readout is a byte table lookup
// (vpermi2b); a noisy one compares the high 16 bits of the conversion's uniform with per-m steps of
// the inverse CDF (byte tables again), and only the rare lanes this leaves undecided draw the low 16
// bits and scan the thresholds, so every code is exactly Readout::sample_code(m, u).
// The reconstructed value of a code is an exact integer multiple of 2^value_exponent,
// V(code) = slope * code + delta(code) with delta in one or two bytes, so sum_{i,b} s 2^(i+b) V is accumulated
// exactly with byte dot products (vpdpbusd, Horner over b): the result equals the reference path
// (double accumulation, exact in that range) bit for bit.
#include <cstdint>
#include <vector>

#include "core/analog_sram/engine.h"
#include "core/counter_hash.h"

namespace bitline::core::analog_sram::detail {

// The uniform of analog conversion (output column o, weight bit i, input chunk j) of one (row,
// tile): 16-bit chunk i % 4 of SplitMix64 at n = (4 o + i / 4) * chunks + j gives the high half; the
// same chunk of a second stream (key ^ kLowStream) the low half, which the kernel only computes in
// the rare case that the high half does not decide the code.
// tile_key = counter_hash(layer_seed, sample, position in sample, tile).
constexpr uint64_t kStreamGamma = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kLowStream = 0xD1B54A32D192ED03ULL;
inline uint64_t analog_stream_index(int64_t o, int i, int j, int chunks) {
  return (static_cast<uint64_t>(o) * 4 + static_cast<uint64_t>(i >> 2)) * static_cast<uint64_t>(chunks) +
         static_cast<uint64_t>(j);
}
inline uint32_t analog_uniform_high(uint64_t tile_key, int64_t o, int i, int j, int chunks) {
  const uint64_t n = analog_stream_index(o, i, j, chunks);
  return static_cast<uint32_t>(mix64(tile_key + n * kStreamGamma) >> (16 * (i & 3))) & 0xFFFFu;
}
inline uint32_t analog_uniform_low(uint64_t tile_key, int64_t o, int i, int j, int chunks) {
  const uint64_t n = analog_stream_index(o, i, j, chunks);
  return static_cast<uint32_t>(mix64((tile_key ^ kLowStream) + n * kStreamGamma) >> (16 * (i & 3))) & 0xFFFFu;
}
inline uint32_t analog_uniform(uint64_t tile_key, int64_t o, int i, int j, int chunks) {
  return (analog_uniform_high(tile_key, o, i, j, chunks) << 16) | analog_uniform_low(tile_key, o, i, j, chunks);
}

struct FastPlan {
  int weight_bits = 0, input_bits = 0;
  bool any_noise = false;   // spec.noisy(): voted cycles draw noise
  bool sampled = false;     // analog cycles draw noise (the staircase below)
  int delta_planes = 0;     // 0: delta == 0; 1: delta + 128 in a byte; 2: delta + 32768 in two bytes
  bool wide_codes = false;  // codes up to 255 (ADC > 7 bits)
  int64_t max_mac = 0;      // N
  int64_t slope = 0;        // V(code) = slope * code + delta(code)
  int value_exponent = 0;   // value(code) = V(code) * 2^value_exponent
  int64_t value_max = 0;    // max V(code)
  int64_t delta_bias = 0;   // offset * sum_{i,b} s(i, b) 2^(i+b): the offset of the stored delta bytes
  // Byte tables over m (or over code for delta), 256 entries each.
  uint8_t analog_code[256] = {};   // noise-free analog readout
  uint8_t digital_code[256] = {};  // HCiM digital cycles
  uint8_t delta[256] = {};         // delta(code) + offset: low byte
  uint8_t delta_high[256] = {};    // and high byte (two planes)
  // Per input bit b (<= 16): byte 8q + i = s(i, b) 2^(i mod 4) for i < weight_bits (replicated over q).
  int8_t weights[16][64] = {};
  uint8_t digital_slots[16] = {}, voted_slots[16] = {}, analog_slots[16] = {};  // bit i: kind of cycle (i, b)
  std::vector<int64_t> code_units;  // V(code), code in [0, levels]
  // Noisy analog readout as a staircase over the high 16 bits h of the uniform: for h not in
  // {0, 0xFFFF} and not equal to any step of m, sample_code(m, u) = stair_base[m] + #{k : step_k(m) < h}
  // (steps: the 16-bit prefixes of m's thresholds in [1, 0xFFFE], padded with 0xFFFF; thresholds with
  // prefix 0 are counted in stair_base). Steps are stored as high and low bytes, step-major.
  int stair_steps = 0;
  uint8_t stair_base[256] = {};
  std::vector<uint8_t> stair_high, stair_low;  // [step][256]
  // Where every m in [uniform_lo, uniform_hi] has the same steps and stair_base[m] - m (additive
  // noise on a lossless ADC grid), by the high byte H of the uniform: the steps below H's bucket,
  // kind (0: no step in the bucket, 1: one, whose low byte is uniform_low[H], 2: more, undecided).
  bool uniform_class = false;
  uint8_t uniform_lo = 0, uniform_hi = 0;
  int uniform_shift = 0;  // stair_base[m] - m
  uint8_t uniform_count[256] = {}, uniform_kind[256] = {}, uniform_low[256] = {};
  // Per-column transfers (spec.per_column(), deterministic readouts only): each lane reads its own
  // byte table over m (fill_column_tables). A block of rows counts all its input bits first; a
  // qword transpose then gathers the 8 weight-bit lanes of one column into each register, read by
  // up to 8 masked vpermi2b.
  bool per_column = false;
  const Readout* analog = nullptr;   // analog and voted cycles
  const Readout* digital = nullptr;  // digital cycles (may be null)
  std::vector<Cycle> cycles;
  int vote_samples = 1;
  VoteTieRule vote_tie_rule = VoteTieRule::Smallest;
};

// Null when the spec is outside what the kernel handles (the reference path runs then).
std::shared_ptr<const FastPlan> make_fast_plan(const Spec& spec, const std::vector<Cycle>& cycles,
                                               const Readout* analog, const Readout* digital);
// True when this CPU runs the AVX-512 kernel (AVX-512 F/BW/DQ/VL/VBMI/VBMI2/VNNI and GFNI).
bool avx512_kernel_supported();
// Whether the kernel is exact for this product (the value sums stay below 2^53).
bool fast_plan_applies(const FastPlan& plan, const ProductShape& shape, const std::vector<Tile>& tiles);
// The product; its events are Engine::count(shape) (every row, tile, cycle and column runs).
// column_tables: for plan.per_column, the tables of output column o of tile t at
// (t * cols + o) * kColumnTableBytes (fill_column_tables); null otherwise.
void avx512_matmul(const FastPlan& plan, const ProductShape& shape, const std::vector<Tile>& tiles, const int32_t* x,
                   const int32_t* w, uint64_t layer_seed, const NoiseKey& key, const uint8_t* column_tables,
                   float* out);

// Per-column transfers in the kernel: the noise-free codes of the (up to 8) weight-bit columns of
// one output column of one tile, as 128-entry vpermi2b tables. The kernel picks the layout by the
// largest count it converts at once: a table over m < 256 per weight bit (its first half serves m <
// 128); for m < 64, two weight bits per table (entry 64 (i % 2) + m); for m < 32, four (entry
// 32 (i % 4) + m).
constexpr std::size_t kColumnTablesFull = 0;                   // [i][256]
constexpr std::size_t kColumnTablesHalf = 8 * 256;             // [i / 2][128]
constexpr std::size_t kColumnTablesQuarter = 8 * 256 + 4 * 128;  // [i / 4][128]
constexpr std::size_t kColumnTableBytes = 8 * 256 + 4 * 128 + 2 * 128;
// bit_readouts[i]: the analog readout of weight bit i's physical column, i < weight_bits.
void fill_column_tables(const Readout* const* bit_readouts, int weight_bits, uint8_t* tables);

}  // namespace bitline::core::analog_sram::detail
