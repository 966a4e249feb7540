// The AVX-512 kernel of Engine::matmul (kernel.h describes the method). Only the functions below
// the target pragma use AVX-512; Engine calls them after avx512_kernel_supported().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/analog_sram/kernel.h"
#include "core/counter_hash.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BITLINE_HAVE_AVX512_KERNEL 1
#include <immintrin.h>
#endif

namespace bitline::core::analog_sram::detail {

#if BITLINE_HAVE_AVX512_KERNEL

bool avx512_kernel_supported() {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("gfni") &&
           __builtin_cpu_supports("popcnt");
  }();
  return supported;
}

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2,avx512vnni,gfni,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
// GCC 12 flags the intrinsics' own _mm512_undefined_* temporaries (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2,avx512vnni,gfni,popcnt")
#endif

namespace {

constexpr int kListStride = 256 + 128;  // a plane's set-bit list: <= 255 rows, padding, a full store
constexpr int kPadRow = 255;             // index of the all-zero row of a transposed weight tile
constexpr int64_t kRowBlock = 8;         // rows that share a weight tile while it is in L1

// Byte lookup tables of 256 entries in four registers.
struct Table {
  __m512i t0, t1, t2, t3;
  explicit Table(const uint8_t* bytes)
      : t0(_mm512_loadu_si512(bytes)),
        t1(_mm512_loadu_si512(bytes + 64)),
        t2(_mm512_loadu_si512(bytes + 128)),
        t3(_mm512_loadu_si512(bytes + 192)) {}
  __m512i operator()(__m512i index) const {
    const __m512i lo = _mm512_permutex2var_epi8(t0, index, t1);
    const __m512i hi = _mm512_permutex2var_epi8(t2, index, t3);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(index), lo, hi);
  }
  __m512i low(__m512i index) const { return _mm512_permutex2var_epi8(t0, index, t1); }  // index < 128
};

inline __m512i mix64v(__m512i x) {
  x = _mm512_add_epi64(x, _mm512_set1_epi64(static_cast<long long>(0x9E3779B97F4A7C15ULL)));
  x = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 30)),
                         _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ULL)));
  x = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 27)),
                         _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBULL)));
  return _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
}

// Carry-save adder: h:l = a + b + c.
inline void csa(__m512i& h, __m512i& l, __m512i a, __m512i b, __m512i c) {
  const __m512i high = _mm512_ternarylogic_epi64(a, b, c, 0xE8);
  l = _mm512_ternarylogic_epi64(a, b, c, 0x96);
  h = high;
}

// Bit-sliced sum of the weight-tile rows listed (n entries, padded with kPadRow up to a multiple of
// 8 or 16): planes[j] holds bit j of the 512 counts (byte o, bit i: weight bit i of column o).
inline void count_rows(const uint8_t* wt, const uint8_t* list, int n, __m512i planes[8]) {
  __m512i ones = _mm512_setzero_si512(), twos = ones, fours = ones, eights = ones, c16 = ones, c32 = ones,
          c64 = ones, c128 = ones;
#define row(k) _mm512_loadu_si512(wt + static_cast<std::size_t>(list[k]) * 64)
  int k = 0;
  while (n - k > 8) {  // blocks of 16 (the last one padded)
    __m512i twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens;
    csa(twos_a, ones, ones, row(k + 0), row(k + 1));
    csa(twos_b, ones, ones, row(k + 2), row(k + 3));
    csa(fours_a, twos, twos, twos_a, twos_b);
    csa(twos_a, ones, ones, row(k + 4), row(k + 5));
    csa(twos_b, ones, ones, row(k + 6), row(k + 7));
    csa(fours_b, twos, twos, twos_a, twos_b);
    csa(eights_a, fours, fours, fours_a, fours_b);
    csa(twos_a, ones, ones, row(k + 8), row(k + 9));
    csa(twos_b, ones, ones, row(k + 10), row(k + 11));
    csa(fours_a, twos, twos, twos_a, twos_b);
    csa(twos_a, ones, ones, row(k + 12), row(k + 13));
    csa(twos_b, ones, ones, row(k + 14), row(k + 15));
    csa(fours_b, twos, twos, twos_a, twos_b);
    csa(eights_b, fours, fours, fours_a, fours_b);
    csa(sixteens, eights, eights, eights_a, eights_b);
    __m512i carry = _mm512_and_si512(c16, sixteens);
    c16 = _mm512_xor_si512(c16, sixteens);
    __m512i next = _mm512_and_si512(c32, carry);
    c32 = _mm512_xor_si512(c32, carry);
    carry = _mm512_and_si512(c64, next);
    c64 = _mm512_xor_si512(c64, next);
    c128 = _mm512_xor_si512(c128, carry);
    k += 16;
  }
  if (n - k > 0) {  // a block of 8 (padded)
    __m512i twos_a, twos_b, fours_a, fours_b, eights_a;
    csa(twos_a, ones, ones, row(k + 0), row(k + 1));
    csa(twos_b, ones, ones, row(k + 2), row(k + 3));
    csa(fours_a, twos, twos, twos_a, twos_b);
    csa(twos_a, ones, ones, row(k + 4), row(k + 5));
    csa(twos_b, ones, ones, row(k + 6), row(k + 7));
    csa(fours_b, twos, twos, twos_a, twos_b);
    csa(eights_a, fours, fours, fours_a, fours_b);
    __m512i carry = _mm512_and_si512(eights, eights_a);
    eights = _mm512_xor_si512(eights, eights_a);
    __m512i next = _mm512_and_si512(c16, carry);
    c16 = _mm512_xor_si512(c16, carry);
    carry = _mm512_and_si512(c32, next);
    c32 = _mm512_xor_si512(c32, next);
    next = _mm512_and_si512(c64, carry);
    c64 = _mm512_xor_si512(c64, carry);
    c128 = _mm512_xor_si512(c128, next);
  }
#undef row
  planes[0] = ones, planes[1] = twos, planes[2] = fours, planes[3] = eights;
  planes[4] = c16, planes[5] = c32, planes[6] = c64, planes[7] = c128;
}

// Bit planes -> byte counts. counts[R] qword p, byte i = count of (weight bit i, column
// 16 (p / 2) + 2 R + p % 2): a byte transpose by unpacks (byte d of a qword = plane 7 - d), then
// an 8x8 bit transpose of each qword (GF(2) affine with the identity's columns).
inline void planes_to_counts(const __m512i p[8], __m512i counts[8]) {
  __m512i lo[4], hi[4];
  for (int k = 0; k < 4; ++k) {
    lo[k] = _mm512_unpacklo_epi8(p[7 - 2 * k], p[6 - 2 * k]);
    hi[k] = _mm512_unpackhi_epi8(p[7 - 2 * k], p[6 - 2 * k]);
  }
  const __m512i transpose = _mm512_set1_epi64(static_cast<long long>(0x8040201008040201ULL));
  for (int h1 = 0; h1 < 2; ++h1) {
    const __m512i* x = h1 ? hi : lo;
    const __m512i b00 = _mm512_unpacklo_epi16(x[0], x[1]), b01 = _mm512_unpackhi_epi16(x[0], x[1]);
    const __m512i b10 = _mm512_unpacklo_epi16(x[2], x[3]), b11 = _mm512_unpackhi_epi16(x[2], x[3]);
    counts[4 * h1 + 0] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpacklo_epi32(b00, b10), 0);
    counts[4 * h1 + 1] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpackhi_epi32(b00, b10), 0);
    counts[4 * h1 + 2] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpacklo_epi32(b01, b11), 0);
    counts[4 * h1 + 3] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpackhi_epi32(b01, b11), 0);
  }
}

// A column's value from its accumulator qword: low dword (weight bits 0-3) + 16 x high dword (4-7).
inline __m512i fold(__m512i acc) {
  const __m512i lo = _mm512_srai_epi64(_mm512_slli_epi64(acc, 32), 32);
  const __m512i hi = _mm512_srai_epi64(acc, 32);
  return _mm512_add_epi64(lo, _mm512_slli_epi64(hi, 4));
}

inline int column_of(int reg, int qword) { return 16 * (qword >> 1) + 2 * reg + (qword & 1); }

// Set-bit lists of the input planes of one row's tile: lists[b * kListStride ...], counts[b].
void build_lists(const int32_t* codes, int64_t length, int bits, uint8_t* lists, int* counts) {
  __m512i v[8];
  for (int c = 0; c < 8; ++c) {
    const int64_t base = 32 * c;
    auto mask_for = [&](int64_t first) -> __mmask16 {
      const int64_t rest = length - first;
      return rest >= 16 ? static_cast<__mmask16>(0xFFFF) : rest <= 0 ? 0 : static_cast<__mmask16>((1u << rest) - 1);
    };
    const __mmask16 m0 = mask_for(base), m1 = mask_for(base + 16);
    const __m256i a = m0 ? _mm512_cvtepi32_epi16(_mm512_maskz_loadu_epi32(m0, codes + base)) : _mm256_setzero_si256();
    const __m256i b = m1 ? _mm512_cvtepi32_epi16(_mm512_maskz_loadu_epi32(m1, codes + base + 16)) : _mm256_setzero_si256();
    v[c] = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
  }
  alignas(64) static const uint8_t iota[64] = {
      0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
      22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
      44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __m512i base_index = _mm512_load_si512(iota);
  const __m512i pad = _mm512_set1_epi8(static_cast<char>(kPadRow));
  const int words = static_cast<int>((length + 63) / 64);
  for (int b = 0; b < bits; ++b) {
    const __m512i bit = _mm512_set1_epi16(static_cast<short>(1 << b));
    uint8_t* list = lists + static_cast<std::size_t>(b) * kListStride;
    int n = 0;
    for (int word = 0; word < words; ++word) {
      const uint64_t mask = static_cast<uint64_t>(_mm512_test_epi16_mask(v[2 * word], bit)) |
                            (static_cast<uint64_t>(_mm512_test_epi16_mask(v[2 * word + 1], bit)) << 32);
      if (mask == 0) continue;
      const __m512i index = _mm512_add_epi8(base_index, _mm512_set1_epi8(static_cast<char>(64 * word)));
      _mm512_storeu_si512(list + n, _mm512_maskz_compress_epi8(mask, index));
      n += static_cast<int>(_mm_popcnt_u64(mask));
    }
    _mm512_storeu_si512(list + n, pad);
    counts[b] = n;
  }
}

struct RowContext {
  uint64_t sample = 0, position = 0;
};

struct Kernel {
  const FastPlan& plan;
  const ProductShape& shape;
  const std::vector<Tile>& tiles;
  uint64_t layer_seed;
  int64_t column_blocks;
  std::vector<uint8_t> weight_tiles;  // [tile][column block][256 rows][64 bytes]
  std::vector<uint64_t> stream_base;  // [column block][reg 8][group 4][8 lanes]: n(o, i/2, j = 0) * gamma

  Kernel(const FastPlan& p, const ProductShape& s, const std::vector<Tile>& t, const int32_t* w, uint64_t seed)
      : plan(p), shape(s), tiles(t), layer_seed(seed), column_blocks((s.cols + 63) / 64) {
    const std::size_t tile_bytes = 256 * 64;
    weight_tiles.assign(tiles.size() * static_cast<std::size_t>(column_blocks) * tile_bytes, 0);
    const uint32_t mask = (1u << plan.weight_bits) - 1;
    const int64_t depth = shape.depth();
    for (std::size_t ti = 0; ti < tiles.size(); ++ti) {
      for (int64_t cb = 0; cb < column_blocks; ++cb) {
        uint8_t* dst = weight_tiles.data() + (ti * static_cast<std::size_t>(column_blocks) + static_cast<std::size_t>(cb)) * tile_bytes;
        for (int64_t o = 0; o < 64 && cb * 64 + o < shape.cols; ++o) {
          const int32_t* src = w + (cb * 64 + o) * depth;
          for (int64_t k = tiles[ti].begin; k < tiles[ti].end; ++k) {
            dst[(k - tiles[ti].begin) * 64 + o] = static_cast<uint8_t>(static_cast<uint32_t>(src[k]) & mask);
          }
        }
      }
    }
    if (plan.sampled) {
      stream_base.resize(static_cast<std::size_t>(column_blocks) * 8 * 4 * 8);
      const uint64_t chunks = static_cast<uint64_t>(plan.input_bits);
      for (int64_t cb = 0; cb < column_blocks; ++cb) {
        for (int reg = 0; reg < 8; ++reg) {
          for (int g = 0; g < 4; ++g) {
            for (int lane = 0; lane < 8; ++lane) {
              const uint64_t o = static_cast<uint64_t>(cb * 64 + 16 * g + 2 * reg + (lane >> 2));
              const uint64_t n = (o * 8 + static_cast<uint64_t>(lane & 3)) * chunks;
              stream_base[((static_cast<std::size_t>(cb) * 8 + reg) * 4 + g) * 8 + lane] = n * kStreamGamma;
            }
          }
        }
      }
    }
  }

  const uint8_t* weight_tile(std::size_t tile, int64_t cb) const {
    return weight_tiles.data() + (tile * static_cast<std::size_t>(column_blocks) + static_cast<std::size_t>(cb)) * 256 * 64;
  }

  // Codes of the 64 analog lanes of `mac` (one register of counts) drawn from the noisy readout.
  __m512i sample(__m512i mac, const uint64_t* base, __m512i key, const Table& classes, const Table& firsts) const {
    const __m512i cls = classes(mac);
    const __m512i first = firsts(mac);
    const __m512i low8 = _mm512_set1_epi32(0xFF), low24 = _mm512_set1_epi32(0xFFFFFF), one = _mm512_set1_epi32(1);
    const int* level1 = reinterpret_cast<const int*>(plan.level1.data());
    __m512i uniform[4];
    __m128i offsets[4];
    uint64_t flagged = 0;
    for (int g = 0; g < 4; ++g) {
      uniform[g] = mix64v(_mm512_add_epi64(key, _mm512_loadu_si512(base + 8 * g)));
      const __m512i c32 = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(cls, g));
      const __m512i index = _mm512_or_si512(_mm512_slli_epi32(c32, 8), _mm512_srli_epi32(uniform[g], 24));
      const __m512i entry = _mm512_i32gather_epi32(index, level1, 4);
      __m512i offset = _mm512_and_si512(entry, low8);
      flagged |= static_cast<uint64_t>(_mm512_cmpeq_epi32_mask(offset, low8)) << (16 * g);
      const __mmask16 up = _mm512_cmpgt_epu32_mask(_mm512_and_si512(uniform[g], low24), _mm512_srli_epi32(entry, 8));
      offset = _mm512_mask_add_epi32(offset, up, offset, one);
      offsets[g] = _mm512_cvtepi32_epi8(offset);
    }
    __m512i offset = _mm512_inserti32x4(_mm512_castsi128_si512(offsets[0]), offsets[1], 1);
    offset = _mm512_inserti32x4(offset, offsets[2], 2);
    offset = _mm512_inserti32x4(offset, offsets[3], 3);
    if (flagged != 0) {
      alignas(64) uint8_t off[64], m[64];
      alignas(64) uint32_t u[64];
      _mm512_store_si512(off, offset);
      _mm512_store_si512(m, mac);
      for (int g = 0; g < 4; ++g) _mm512_store_si512(u + 16 * g, uniform[g]);
      for (uint64_t f = flagged; f != 0; f &= f - 1) {
        const int lane = static_cast<int>(__builtin_ctzll(f));
        off[lane] = static_cast<uint8_t>(plan.resolve_offset(m[lane], u[lane]));
      }
      offset = _mm512_load_si512(off);
    }
    return _mm512_add_epi8(first, offset);
  }

  // One (row, tile, column block): adds s 2^(i+b) V(code) of every conversion into totals[64]
  // (index 8 reg + qword).
  void run_tile(const uint8_t* lists, const int* counts, std::size_t tile, int64_t cb, const RowContext& row,
                int64_t* totals, const Table& analog, const Table& digital, const Table& delta,
                const Table& classes, const Table& firsts) const {
    const uint8_t* wt = weight_tile(tile, cb);
    const int bits = plan.input_bits;
    const bool narrow = tiles[tile].end - tiles[tile].begin < 128;  // every count < 128
    uint64_t tile_key = 0;
    if (plan.sampled) tile_key = counter_hash(layer_seed, row.sample, row.position, static_cast<uint64_t>(tile));
    const uint64_t* base = plan.sampled ? stream_base.data() + static_cast<std::size_t>(cb) * 8 * 4 * 8 : nullptr;
    __m512i acc_code[8], acc_delta[8];
    for (int r = 0; r < 8; ++r) acc_code[r] = acc_delta[r] = _mm512_setzero_si512();
    int64_t voted_total[64];
    bool any_voted = false;
    for (int b = bits - 1; b >= 0; --b) {
      __m512i mac[8];
      if (counts[b] == 0) {
        for (int r = 0; r < 8; ++r) mac[r] = _mm512_setzero_si512();
      } else {
        __m512i planes[8];
        count_rows(wt, lists + static_cast<std::size_t>(b) * kListStride, counts[b], planes);
        planes_to_counts(planes, mac);
      }
      const __m512i weights = _mm512_loadu_si512(plan.weights[b]);
      const uint64_t digital_mask = 0x0101010101010101ULL * plan.digital_slots[b];
      const uint64_t voted_mask = 0x0101010101010101ULL * plan.voted_slots[b];
      const bool sampled = plan.sampled && plan.analog_slots[b] != 0;
      const __m512i key = _mm512_set1_epi64(static_cast<long long>(tile_key + static_cast<uint64_t>(b) * kStreamGamma));
      for (int r = 0; r < 8; ++r) {
        __m512i code;
        if (sampled) {
          code = sample(mac[r], base + static_cast<std::size_t>(r) * 32, key, classes, firsts);
        } else {
          code = narrow ? analog.low(mac[r]) : analog(mac[r]);
        }
        if (digital_mask != 0) {
          code = _mm512_mask_blend_epi8(digital_mask, code, narrow ? digital.low(mac[r]) : digital(mac[r]));
        }
        if (voted_mask != 0) {
          if (!any_voted) std::fill(voted_total, voted_total + 64, 0);
          any_voted = true;
          add_voted(mac[r], r, b, voted_mask, tile, cb, row, voted_total);
          code = _mm512_maskz_mov_epi8(~voted_mask, code);
        }
        acc_code[r] = _mm512_dpbusd_epi32(_mm512_add_epi32(acc_code[r], acc_code[r]), code, weights);
        if (plan.has_delta) {
          const __m512i d = plan.wide_codes ? delta(code) : delta.low(code);
          acc_delta[r] = _mm512_dpbusd_epi32(_mm512_add_epi32(acc_delta[r], acc_delta[r]), d, weights);
        }
      }
    }
    const __m512i slope = _mm512_set1_epi64(plan.slope);
    const __m512i bias = _mm512_set1_epi64(plan.delta_bias);
    for (int r = 0; r < 8; ++r) {
      __m512i value = _mm512_mullo_epi64(fold(acc_code[r]), slope);
      if (plan.has_delta) value = _mm512_add_epi64(value, _mm512_sub_epi64(fold(acc_delta[r]), bias));
      if (any_voted) value = _mm512_add_epi64(value, _mm512_loadu_si512(voted_total + 8 * r));
      _mm512_storeu_si512(totals + 8 * r, _mm512_add_epi64(_mm512_loadu_si512(totals + 8 * r), value));
    }
  }

  // Majority-voted cycles (few): scalar, keyed as in the reference path.
  void add_voted(__m512i mac, int reg, int b, uint64_t voted_mask, std::size_t tile, int64_t cb, const RowContext& row,
                 int64_t* voted_total) const {
    alignas(64) uint8_t m[64];
    _mm512_store_si512(m, mac);
    const auto cycle_count = static_cast<uint64_t>(plan.cycles.size());
    int32_t codes[32];
    for (uint64_t f = voted_mask; f != 0; f &= f - 1) {
      const int lane = static_cast<int>(__builtin_ctzll(f));
      const int qword = lane >> 3, i = lane & 7;
      const int64_t o = cb * 64 + column_of(reg, qword);
      if (o >= shape.cols) continue;
      const int c = i * plan.input_bits + b;
      const Cycle& cycle = plan.cycles[static_cast<std::size_t>(c)];
      const uint64_t coordinate = row.position * static_cast<uint64_t>(shape.cols) + static_cast<uint64_t>(o);
      const uint64_t stream = tile * cycle_count + static_cast<uint64_t>(c);
      for (int v = 0; v < plan.vote_samples; ++v) {
        const uint64_t h = counter_hash(layer_seed, row.sample, coordinate, stream * 32 + static_cast<uint64_t>(v));
        codes[v] = plan.any_noise ? plan.analog->sample_code(m[lane], static_cast<uint32_t>(h))
                                  : plan.analog->noiseless_code(m[lane]);
      }
      const int32_t code = majority_vote(codes, plan.vote_samples, plan.vote_tie_rule);
      voted_total[8 * reg + qword] +=
          static_cast<int64_t>(cycle.sign) * (plan.code_units[static_cast<std::size_t>(code)] << cycle.shift);
    }
  }
};

}  // namespace

Events avx512_matmul(const FastPlan& plan, const ProductShape& shape, const std::vector<Tile>& tiles,
                     const int32_t* x, const int32_t* w, uint64_t layer_seed, const NoiseKey& key, float* out) {
  const Kernel kernel(plan, shape, tiles, w, layer_seed);
  const int bits = plan.input_bits;
  const int64_t depth = shape.depth();
  const int64_t blocks = (shape.rows + kRowBlock - 1) / kRowBlock;
  const int64_t column_blocks = kernel.column_blocks;
  const double scale = std::ldexp(1.0, plan.value_exponent);
  const Table analog_table(plan.analog != nullptr && !plan.sampled ? plan.analog_code : plan.digital_code);
  const Table digital_table(plan.digital_code), delta_table(plan.delta), classes(plan.sampler_class),
      firsts(plan.sampler_first);

#pragma omp parallel
  {
    std::vector<uint8_t> lists(static_cast<std::size_t>(kRowBlock * bits) * kListStride + 64);
    std::vector<int> counts(static_cast<std::size_t>(kRowBlock * bits));
    std::vector<int64_t> totals(static_cast<std::size_t>(kRowBlock * column_blocks * 64));
    RowContext rows[kRowBlock];
#pragma omp for schedule(dynamic, 1)
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t first = block * kRowBlock, count = std::min(kRowBlock, shape.rows - first);
      std::fill(totals.begin(), totals.end(), 0);
      for (int64_t r = 0; r < count; ++r) {
        rows[r].sample = key.first_sample + static_cast<uint64_t>((first + r) / key.rows_per_sample);
        rows[r].position = static_cast<uint64_t>((first + r) % key.rows_per_sample);
      }
      for (std::size_t t = 0; t < tiles.size(); ++t) {
        for (int64_t r = 0; r < count; ++r) {
          build_lists(x + (first + r) * depth + tiles[t].begin, tiles[t].end - tiles[t].begin, bits,
                      lists.data() + static_cast<std::size_t>(r * bits) * kListStride, counts.data() + r * bits);
        }
        for (int64_t cb = 0; cb < column_blocks; ++cb) {
          for (int64_t r = 0; r < count; ++r) {
            kernel.run_tile(lists.data() + static_cast<std::size_t>(r * bits) * kListStride, counts.data() + r * bits, t,
                            cb, rows[r], totals.data() + (r * column_blocks + cb) * 64, analog_table, digital_table,
                            delta_table, classes, firsts);
          }
        }
      }
      for (int64_t r = 0; r < count; ++r) {
        float* y = out + (first + r) * shape.cols;
        for (int64_t cb = 0; cb < column_blocks; ++cb) {
          const int64_t* total = totals.data() + (r * column_blocks + cb) * 64;
          for (int reg = 0; reg < 8; ++reg) {
            for (int qword = 0; qword < 8; ++qword) {
              const int64_t o = cb * 64 + column_of(reg, qword);
              if (o < shape.cols) y[o] = static_cast<float>(static_cast<double>(total[8 * reg + qword]) * scale);
            }
          }
        }
      }
    }
  }

  // The events of what ran: every (row, tile) drives its rows once per input bit, every column
  // converts every cycle.
  int64_t analog = 0, digital = 0, voted = 0, rows_in_tiles = 0;
  for (const auto& c : plan.cycles) {
    analog += c.kind == CycleKind::Analog;
    digital += c.kind == CycleKind::Digital;
    voted += c.kind == CycleKind::Voted;
  }
  for (const auto& tile : tiles) rows_in_tiles += tile.end - tile.begin;
  const int64_t outputs_by_tile = shape.rows * shape.cols * static_cast<int64_t>(tiles.size());
  Events events;
  events.macs = shape.rows * shape.cols * rows_in_tiles;
  events.adc_conversions = outputs_by_tile * (analog + voted * plan.vote_samples);
  events.digital_cycles = outputs_by_tile * digital;
  events.voted_cycles = outputs_by_tile * voted;
  events.tile_activations = shape.rows * static_cast<int64_t>(tiles.size()) * bits;
  events.row_drives = shape.rows * rows_in_tiles * bits;
  events.shift_adds = outputs_by_tile * static_cast<int64_t>(plan.cycles.size());
  return events;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

#else  // no AVX-512 kernel on this platform

bool avx512_kernel_supported() { return false; }
Events avx512_matmul(const FastPlan&, const ProductShape&, const std::vector<Tile>&, const int32_t*, const int32_t*,
                     uint64_t, const NoiseKey&, float*) {
  return {};
}

#endif

}  // namespace bitline::core::analog_sram::detail
