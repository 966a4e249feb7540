// The AVX-512 kernel of Engine::matmul (kernel.h describes the method). Only the functions below
// the target pragma use AVX-512; Engine calls them after avx512_kernel_supported().
#include <algorithm>
#include <cmath>
#include <cstdint>
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
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2,avx512vnni,gfni,popcnt")
#endif

namespace {

constexpr int kListStride = 256 + 128;  // a plane's set-bit list: <= 255 rows, padding, a full store
constexpr int kPadRow = 255;             // index of the all-zero row of a transposed weight tile
constexpr int64_t kRowBlock = 4;         // rows that share a weight tile while it is in L1
// plan.per_column: a row's counts, then its codes, as [input bit 16][count register 8][64 lanes].
constexpr std::size_t kPerColumnBytes = 16 * 8 * 64;

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
  __m512i blend(__mmask64 upper, __m512i index) const {  // upper: the indexes >= 128
    return _mm512_mask_blend_epi8(upper, _mm512_permutex2var_epi8(t0, index, t1), _mm512_permutex2var_epi8(t2, index, t3));
  }
};

struct Tables {
  Table analog, digital, delta, delta_high, stair_base;
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

// Adds 8 listed weight-tile rows into the ones/twos/fours counters; returns the carry of weight 8.
__attribute__((always_inline)) inline __m512i add_eight_rows(const uint8_t* wt, const uint8_t* list, __m512i& ones,
                                                             __m512i& twos, __m512i& fours) {
  auto row = [&](int k) { return _mm512_loadu_si512(wt + static_cast<std::size_t>(list[k]) * 64); };
  __m512i twos_a, twos_b, fours_a, fours_b, eights;
  csa(twos_a, ones, ones, row(0), row(1));
  csa(twos_b, ones, ones, row(2), row(3));
  csa(fours_a, twos, twos, twos_a, twos_b);
  csa(twos_a, ones, ones, row(4), row(5));
  csa(twos_b, ones, ones, row(6), row(7));
  csa(fours_b, twos, twos, twos_a, twos_b);
  csa(eights, fours, fours, fours_a, fours_b);
  return eights;
}

// Adds a carry into a ripple of bit-sliced counters (the last one absorbs the overflow, which the
// row count bound of 255 rules out).
template <int kCount>
__attribute__((always_inline)) inline void ripple(__m512i* counters[kCount], __m512i carry) {
  for (int j = 0; j < kCount - 1; ++j) {
    const __m512i next = _mm512_and_si512(*counters[j], carry);
    *counters[j] = _mm512_xor_si512(*counters[j], carry);
    carry = next;
  }
  *counters[kCount - 1] = _mm512_xor_si512(*counters[kCount - 1], carry);
}

// Bit-sliced sum of the weight-tile rows listed (n entries, padded with kPadRow up to a multiple of
// 8 or 16): planes[j] holds bit j of the 512 counts (byte o, bit i: weight bit i of column o).
__attribute__((always_inline)) inline void count_rows(const uint8_t* wt, const uint8_t* list, int n, __m512i planes[8]) {
  __m512i ones = _mm512_setzero_si512(), twos = ones, fours = ones, eights = ones, c16 = ones, c32 = ones,
          c64 = ones, c128 = ones;
  int k = 0;
  while (n - k > 8) {  // blocks of 16 (the last one padded)
    const __m512i eights_a = add_eight_rows(wt, list + k, ones, twos, fours);
    const __m512i eights_b = add_eight_rows(wt, list + k + 8, ones, twos, fours);
    __m512i sixteens;
    csa(sixteens, eights, eights, eights_a, eights_b);
    __m512i* higher[] = {&c16, &c32, &c64, &c128};
    ripple<4>(higher, sixteens);
    k += 16;
  }
  if (n - k > 0) {  // a block of 8 (padded)
    __m512i* higher[] = {&eights, &c16, &c32, &c64, &c128};
    ripple<5>(higher, add_eight_rows(wt, list + k, ones, twos, fours));
  }
  planes[0] = ones, planes[1] = twos, planes[2] = fours, planes[3] = eights;
  planes[4] = c16, planes[5] = c32, planes[6] = c64, planes[7] = c128;
}

// Bit planes -> byte counts of the first kRegs count registers. counts[R] qword p, byte i = count of
// (weight bit i, column 16 (p / 2) + 2 R + p % 2): a byte transpose by unpacks (byte d of a qword =
// plane 7 - d), then an 8x8 bit transpose of each qword (GF(2) affine with the identity's columns).
template <int kRegs>
__attribute__((always_inline)) inline void planes_to_counts(const __m512i p[8], __m512i counts[8]) {
  static_assert(kRegs == 2 || kRegs == 4 || kRegs == 8, "registers come in pairs of unpack halves");
  constexpr int kHalves = kRegs == 8 ? 2 : 1;  // registers 4-7 come from the high unpacks
  __m512i unpacked[2][4];
  for (int k = 0; k < 4; ++k) {
    unpacked[0][k] = _mm512_unpacklo_epi8(p[7 - 2 * k], p[6 - 2 * k]);
    if (kHalves == 2) unpacked[1][k] = _mm512_unpackhi_epi8(p[7 - 2 * k], p[6 - 2 * k]);
  }
  const __m512i transpose = _mm512_set1_epi64(static_cast<long long>(0x8040201008040201ULL));
  for (int h1 = 0; h1 < kHalves; ++h1) {
    const __m512i* x = unpacked[h1];
    const __m512i b00 = _mm512_unpacklo_epi16(x[0], x[1]), b10 = _mm512_unpacklo_epi16(x[2], x[3]);
    counts[4 * h1 + 0] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpacklo_epi32(b00, b10), 0);
    counts[4 * h1 + 1] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpackhi_epi32(b00, b10), 0);
    if (kRegs >= 4) {
      const __m512i b01 = _mm512_unpackhi_epi16(x[0], x[1]), b11 = _mm512_unpackhi_epi16(x[2], x[3]);
      counts[4 * h1 + 2] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpacklo_epi32(b01, b11), 0);
      counts[4 * h1 + 3] = _mm512_gf2p8affine_epi64_epi8(transpose, _mm512_unpackhi_epi32(b01, b11), 0);
    }
  }
}

// A column's value from its accumulator qword: low dword (weight bits 0-3) + 16 x high dword (4-7).
inline __m512i fold(__m512i acc) {
  const __m512i lo = _mm512_srai_epi64(_mm512_slli_epi64(acc, 32), 32);
  const __m512i hi = _mm512_srai_epi64(acc, 32);
  return _mm512_add_epi64(lo, _mm512_slli_epi64(hi, 4));
}

// 8x8 transpose of qwords, its own inverse: out[j] qword k = in[k] qword j.
inline void transpose_qwords(const __m512i in[8], __m512i out[8]) {
  __m512i pairs[8], quads[8];
  for (int p = 0; p < 4; ++p) {  // pairs[2p] = [in[2p].0, in[2p+1].0, in[2p].2, in[2p+1].2, ...]
    pairs[2 * p] = _mm512_unpacklo_epi64(in[2 * p], in[2 * p + 1]);
    pairs[2 * p + 1] = _mm512_unpackhi_epi64(in[2 * p], in[2 * p + 1]);
  }
  const __m512i first = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0), second = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  for (int h = 0; h < 2; ++h) {  // quads[4h + j]: qwords j and j + 4 of in[4h .. 4h + 3]
    for (int p = 0; p < 2; ++p) {
      quads[4 * h + p] = _mm512_permutex2var_epi64(pairs[4 * h + p], first, pairs[4 * h + 2 + p]);
      quads[4 * h + 2 + p] = _mm512_permutex2var_epi64(pairs[4 * h + p], second, pairs[4 * h + 2 + p]);
    }
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm512_shuffle_i64x2(quads[j], quads[4 + j], 0x44);
    out[j + 4] = _mm512_shuffle_i64x2(quads[j], quads[4 + j], 0xEE);
  }
}

// planes_to_counts puts weight-row byte 16 (p / 2) + 2 R + p % 2 into count register R, qword p.
// Column c of a 64-column block is stored at the byte that lands in register c / 8, qword c % 8,
// so a block with fewer than 64 columns leaves whole registers empty, and their readout is skipped.
inline int column_of(int reg, int qword) { return 8 * reg + qword; }
inline int weight_byte_of_column(int64_t column) {
  const int reg = static_cast<int>(column >> 3), qword = static_cast<int>(column & 7);
  return 16 * (qword >> 1) + 2 * reg + (qword & 1);
}
// Count registers holding at least one of the block's columns.
inline int active_registers(int64_t columns_in_block) { return static_cast<int>(std::min<int64_t>(8, (columns_in_block + 7) / 8)); }

// Set-bit lists of the input planes of one row's tile: lists[b * kListStride ...], counts[b].
// First the 64-bit plane words of each 64-row chunk (planes[chunk * 16 + b]), then one byte
// compress per nonzero word.
// Codes [first, first + 16) of a tile of `length` rows, zero past its end.
inline __m512i load_codes(const int32_t* codes, int64_t length, int64_t first) {
  const int64_t rest = length - first;
  const __mmask16 mask =
      rest >= 16 ? static_cast<__mmask16>(0xFFFF) : rest <= 0 ? 0 : static_cast<__mmask16>((1u << rest) - 1);
  return _mm512_maskz_loadu_epi32(mask, codes + first);
}

void build_lists(const int32_t* codes, int64_t length, int bits, uint8_t* lists, int* counts) {
  alignas(64) uint64_t planes[4 * 16];
  const int words = static_cast<int>((length + 63) / 64);
#define load(first) load_codes(codes, length, first)
  if (bits <= 8) {
    // Low bytes of 64 codes with each qword's 8 bytes reversed, an 8x8 bit transpose per qword
    // (byte b = bit b of the 8 rows), then byte b of every qword gathered into qword b.
    alignas(64) static const uint8_t pick[64] = {
#define BITLINE_PICK(q) 4 * (8 * q + 7), 4 * (8 * q + 6), 4 * (8 * q + 5), 4 * (8 * q + 4), \
                        4 * (8 * q + 3), 4 * (8 * q + 2), 4 * (8 * q + 1), 4 * (8 * q + 0)
        BITLINE_PICK(0), BITLINE_PICK(1), BITLINE_PICK(2), BITLINE_PICK(3),
        BITLINE_PICK(0), BITLINE_PICK(1), BITLINE_PICK(2), BITLINE_PICK(3)};
#undef BITLINE_PICK
    alignas(64) static const uint8_t gather[64] = {
        0, 8,  16, 24, 32, 40, 48, 56, 1, 9,  17, 25, 33, 41, 49, 57, 2, 10, 18, 26, 34, 42,
        50, 58, 3, 11, 19, 27, 35, 43, 51, 59, 4, 12, 20, 28, 36, 44, 52, 60, 5, 13, 21, 29,
        37, 45, 53, 61, 6, 14, 22, 30, 38, 46, 54, 62, 7, 15, 23, 31, 39, 47, 55, 63};
    const __m512i pick_index = _mm512_load_si512(pick);
    const __m512i gather_index = _mm512_load_si512(gather);
    const __m512i transpose = _mm512_set1_epi64(static_cast<long long>(0x8040201008040201ULL));
    for (int word = 0; word < words; ++word) {
      const int64_t first = 64 * word;
      // Rows 0-31 of the chunk from two loads, rows 32-63 from two more.
      const __m512i low = _mm512_permutex2var_epi8(load(first), pick_index, load(first + 16));
      const __m512i high = _mm512_permutex2var_epi8(load(first + 32), pick_index, load(first + 48));
      const __m512i bytes = _mm512_mask_blend_epi64(0xF0, low, high);
      const __m512i bit_major = _mm512_gf2p8affine_epi64_epi8(transpose, bytes, 0);
      _mm512_store_si512(planes + 16 * word, _mm512_permutexvar_epi8(gather_index, bit_major));
    }
  } else {
    for (int word = 0; word < words; ++word) {
      __m512i v[2];
      for (int half = 0; half < 2; ++half) {
        const int64_t first = 64 * word + 32 * half;
        v[half] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(load(first))),
                                     _mm512_cvtepi32_epi16(load(first + 16)), 1);
      }
      for (int b = 0; b < bits; ++b) {
        const __m512i bit = _mm512_set1_epi16(static_cast<short>(1 << b));
        planes[16 * word + b] = static_cast<uint64_t>(_mm512_test_epi16_mask(v[0], bit)) |
                                (static_cast<uint64_t>(_mm512_test_epi16_mask(v[1], bit)) << 32);
      }
    }
  }
#undef load
  alignas(64) static const uint8_t iota[64] = {
      0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
      22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
      44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __m512i base_index = _mm512_load_si512(iota);
  const __m512i pad = _mm512_set1_epi8(static_cast<char>(kPadRow));
  for (int b = 0; b < bits; ++b) {
    uint8_t* list = lists + static_cast<std::size_t>(b) * kListStride;
    int n = 0;
    for (int word = 0; word < words; ++word) {
      const uint64_t mask = planes[16 * word + b];
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
  std::vector<uint64_t> stream_base;  // [column block][reg 8][i / 4 in {0, 1}][qword 8]: stream index (b = 0) * gamma
  const uint8_t* column_tables;  // plan.per_column: avx512_matmul's column_tables

  Kernel(const FastPlan& p, const ProductShape& s, const std::vector<Tile>& t, const int32_t* w, uint64_t seed,
         const uint8_t* codes)
      : plan(p), shape(s), tiles(t), layer_seed(seed), column_blocks((s.cols + 63) / 64), column_tables(codes) {
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
            dst[(k - tiles[ti].begin) * 64 + weight_byte_of_column(o)] =
                static_cast<uint8_t>(static_cast<uint32_t>(src[k]) & mask);
          }
        }
      }
    }
    if (plan.sampled) {
      stream_base.resize(static_cast<std::size_t>(column_blocks) * 8 * 2 * 8);
      for (int64_t cb = 0; cb < column_blocks; ++cb) {
        for (int reg = 0; reg < 8; ++reg) {
          for (int half = 0; half < 2; ++half) {
            for (int qword = 0; qword < 8; ++qword) {
              const int64_t o = cb * 64 + column_of(reg, qword);
              stream_base[((static_cast<std::size_t>(cb) * 8 + reg) * 2 + half) * 8 + qword] =
                  analog_stream_index(o, 4 * half, 0, plan.input_bits) * kStreamGamma;
            }
          }
        }
      }
    }
  }

  const uint8_t* weight_tile(std::size_t tile, int64_t cb) const {
    return weight_tiles.data() + (tile * static_cast<std::size_t>(column_blocks) + static_cast<std::size_t>(cb)) * 256 * 64;
  }

  // Codes of the analog lanes of kRegs count registers (reg0 ...) drawn from the noisy readout:
  // the staircase over the high 16 bits of each lane's uniform, byte compares against per-m steps
  // looked up by vpermi2b; the few lanes it leaves undecided draw their low 16 bits and scan.
  template <int kRegs>
  void sample(const __m512i* mac, __m512i* code, int reg0, int b, int64_t cb, uint64_t tile_key,
               const Table& base_table) const {
    alignas(64) static const uint8_t high_index[64] = {
#define BITLINE_LANE(p) 8 * p + 1, 8 * p + 3, 8 * p + 5, 8 * p + 7, 64 + 8 * p + 1, 64 + 8 * p + 3, 64 + 8 * p + 5, 64 + 8 * p + 7
        BITLINE_LANE(0), BITLINE_LANE(1), BITLINE_LANE(2), BITLINE_LANE(3),
        BITLINE_LANE(4), BITLINE_LANE(5), BITLINE_LANE(6), BITLINE_LANE(7)
#undef BITLINE_LANE
    };
    const __m512i index_high = _mm512_load_si512(high_index);
    const __m512i index_low = _mm512_sub_epi8(index_high, _mm512_set1_epi8(1));
    const __m512i zero = _mm512_setzero_si512(), all = _mm512_set1_epi8(-1);
    const __m512i key = _mm512_set1_epi64(static_cast<long long>(tile_key + static_cast<uint64_t>(b) * kStreamGamma));
    const uint64_t* streams = stream_base.data() + (static_cast<std::size_t>(cb) * 8 + static_cast<std::size_t>(reg0)) * 16;
    // Undecided lanes are tracked as 0xFF bytes (masked moves, no mask arithmetic).
    __m512i high[kRegs], low[kRegs], count[kRegs], undecided[kRegs];
    __mmask64 upper_mac = 0, outside = 0;
    const __m512i uniform_lo = _mm512_set1_epi8(static_cast<char>(plan.uniform_lo));
    const __m512i uniform_hi = _mm512_set1_epi8(static_cast<char>(plan.uniform_hi));
    for (int q = 0; q < kRegs; ++q) {
      const __m512i a = mix64v(_mm512_add_epi64(key, _mm512_loadu_si512(streams + 16 * q)));
      const __m512i z = mix64v(_mm512_add_epi64(key, _mm512_loadu_si512(streams + 16 * q + 8)));
      high[q] = _mm512_permutex2var_epi8(a, index_high, z);
      low[q] = _mm512_permutex2var_epi8(a, index_low, z);
      upper_mac |= _mm512_movepi8_mask(mac[q]);
      outside |= _mm512_cmplt_epu8_mask(mac[q], uniform_lo) | _mm512_cmpgt_epu8_mask(mac[q], uniform_hi);
      // High halves 0 and 0xFFFF are undecided whatever the steps.
      undecided[q] = _mm512_maskz_mov_epi8(_mm512_mask_cmpeq_epu8_mask(_mm512_cmpeq_epu8_mask(high[q], zero), low[q], zero), all);
      undecided[q] = _mm512_mask_mov_epi8(undecided[q], _mm512_mask_cmpeq_epu8_mask(_mm512_cmpeq_epu8_mask(high[q], all), low[q], all), all);
    }
    const bool narrow = upper_mac == 0;
    if (plan.uniform_class && outside == 0) {
      // Every m has the same steps (relative to m): tables over the high byte of the uniform.
      const Table steps_below(plan.uniform_count), step_kind(plan.uniform_kind), step_low(plan.uniform_low);
      const __m512i shift = _mm512_set1_epi8(static_cast<char>(plan.uniform_shift));
      const __m512i one = _mm512_set1_epi8(1), two = _mm512_set1_epi8(2);
      for (int q = 0; q < kRegs; ++q) {
        const __mmask64 upper = _mm512_movepi8_mask(high[q]);
        const __m512i kind = step_kind.blend(upper, high[q]);
        const __m512i low_step = step_low.blend(upper, high[q]);
        const __mmask64 single = _mm512_cmpeq_epu8_mask(kind, one);
        count[q] = _mm512_add_epi8(_mm512_add_epi8(mac[q], shift), steps_below.blend(upper, high[q]));
        count[q] = _mm512_mask_sub_epi8(count[q], _mm512_mask_cmplt_epu8_mask(single, low_step, low[q]), count[q], all);
        undecided[q] = _mm512_mask_mov_epi8(undecided[q], _mm512_mask_cmpeq_epu8_mask(single, low_step, low[q]), all);
        undecided[q] = _mm512_mask_mov_epi8(undecided[q], _mm512_cmpeq_epu8_mask(kind, two), all);
      }
    } else {
      for (int q = 0; q < kRegs; ++q) count[q] = narrow ? base_table.low(mac[q]) : base_table(mac[q]);
      for (int k = 0; k < plan.stair_steps; ++k) {
        const uint8_t* step_high = plan.stair_high.data() + static_cast<std::size_t>(k) * 256;
        const uint8_t* step_low = plan.stair_low.data() + static_cast<std::size_t>(k) * 256;
        __m512i sh[4], sl[4];
        if (narrow) {
          const __m512i h0 = _mm512_loadu_si512(step_high), h1 = _mm512_loadu_si512(step_high + 64);
          const __m512i l0 = _mm512_loadu_si512(step_low), l1 = _mm512_loadu_si512(step_low + 64);
          for (int q = 0; q < kRegs; ++q) {
            sh[q] = _mm512_permutex2var_epi8(h0, mac[q], h1);
            sl[q] = _mm512_permutex2var_epi8(l0, mac[q], l1);
          }
        } else {
          const Table th(step_high), tl(step_low);
          for (int q = 0; q < kRegs; ++q) {
            sh[q] = th(mac[q]);
            sl[q] = tl(mac[q]);
          }
        }
        for (int q = 0; q < kRegs; ++q) {
          const __mmask64 equal = _mm512_cmpeq_epu8_mask(sh[q], high[q]);
          count[q] = _mm512_mask_sub_epi8(count[q], _mm512_cmplt_epu8_mask(sh[q], high[q]), count[q], all);
          count[q] = _mm512_mask_sub_epi8(count[q], _mm512_mask_cmplt_epu8_mask(equal, sl[q], low[q]), count[q], all);
          undecided[q] = _mm512_mask_mov_epi8(undecided[q], _mm512_mask_cmpeq_epu8_mask(equal, sl[q], low[q]), all);
        }
      }
    }
    __m512i any_undecided = undecided[0];
    for (int q = 1; q < kRegs; ++q) any_undecided = _mm512_or_si512(any_undecided, undecided[q]);
    if (_mm512_movepi8_mask(any_undecided) != 0) {
      fix_undecided(kRegs, mac, high, low, count, undecided, reg0, b, cb, tile_key);
    }
    for (int q = 0; q < kRegs; ++q) code[q] = count[q];
  }

  // The lanes the high 16 bits leave undecided (flagged 0xFF in undecided[q]): the full uniform and
  // a scan of the thresholds.
  __attribute__((noinline)) void fix_undecided(int regs, const __m512i* mac, const __m512i* high, const __m512i* low,
                                               __m512i* count, const __m512i* undecided, int reg0, int b, int64_t cb,
                                               uint64_t tile_key) const {
    for (int q = 0; q < regs; ++q) {
      const uint64_t lanes = _mm512_movepi8_mask(undecided[q]);
      if (lanes != 0) {
        alignas(64) uint8_t c[64], m[64], h[64], l[64];
        _mm512_store_si512(c, count[q]);
        _mm512_store_si512(m, mac[q]);
        _mm512_store_si512(h, high[q]);
        _mm512_store_si512(l, low[q]);
        for (uint64_t f = lanes; f != 0; f &= f - 1) {
          const int lane = static_cast<int>(__builtin_ctzll(f));
          const int i = lane & 7;
          const int64_t o = cb * 64 + column_of(reg0 + q, lane >> 3);
          const uint32_t uniform = (static_cast<uint32_t>(h[lane]) << 24) | (static_cast<uint32_t>(l[lane]) << 16) |
                                   analog_uniform_low(tile_key, o, i, b, plan.input_bits);
          c[lane] = static_cast<uint8_t>(plan.analog->sample_code(m[lane], uniform));
        }
        count[q] = _mm512_load_si512(c);
      }
    }
  }

  // The counts of input bit b of one (row, tile, column block) in the first kRegs registers.
  template <int kRegs>
  __attribute__((always_inline)) void count_bit(const uint8_t* wt, const uint8_t* lists, const int* counts, int b,
                                                __m512i* mac) const {
    if (counts[b] == 0) {
#pragma GCC unroll 8
      for (int r = 0; r < kRegs; ++r) mac[r] = _mm512_setzero_si512();
    } else {
      __m512i planes[8];
      count_rows(wt, lists + static_cast<std::size_t>(b) * kListStride, counts[b], planes);
      planes_to_counts<kRegs>(planes, mac);
    }
  }

  // The counts of one (row, tile, column block), every input bit, into counted[b][reg][64].
  template <int kRegs>
  void count_all_bits(const uint8_t* lists, const int* counts, std::size_t tile, int64_t cb, uint8_t* counted) const {
    const uint8_t* wt = weight_tile(tile, cb);
    for (int b = 0; b < plan.input_bits; ++b) {
      __m512i mac[8];
      count_bit<kRegs>(wt, lists, counts, b, mac);
#pragma GCC unroll 8
      for (int r = 0; r < kRegs; ++r) _mm512_store_si512(counted + (8 * b + r) * 64, mac[r]);
    }
  }

  // plan.per_column: the codes of kRowBlock rows' counts (per row: counts, then codes, each
  // [b][reg][64]), each lane through its own column's table. A qword transpose over 8 input bits
  // makes register q hold column (reg, q) alone, byte i of every qword being weight bit i, so that
  // one masked vpermi2b per table converts it (kernel.h: fill_column_tables; up to 8 tables, fewer
  // when the counts are small). Lanes of weight bits past plan.weight_bits read code 0.
  template <int kRegs>
  void read_per_column(uint8_t* rows, std::size_t tile, int64_t cb) const {
    const int bits = plan.input_bits;
    const __m512i zero = _mm512_setzero_si512();
    for (int r = 0; r < kRegs; ++r) {
      for (int b0 = 0; b0 < bits; b0 += 8) {
        __m512i lanes[kRowBlock][8];  // [row][column q of register r]: qword k = input bit b0 + k
        for (int row = 0; row < kRowBlock; ++row) {
          const uint8_t* counted = rows + 2 * kPerColumnBytes * row;
          __m512i in[8];
          for (int k = 0; k < 8; ++k) in[k] = b0 + k < bits ? _mm512_load_si512(counted + (8 * (b0 + k) + r) * 64) : zero;
          transpose_qwords(in, lanes[row]);
        }
        for (int q = 0; q < 8; ++q) {
          const int64_t o = cb * 64 + column_of(r, q);
          if (o < shape.cols) {
            convert_column(column_tables + (tile * static_cast<std::size_t>(shape.cols) + static_cast<std::size_t>(o)) * kColumnTableBytes,
                           lanes, q);
          }
        }
        for (int row = 0; row < kRowBlock; ++row) {
          uint8_t* codes = rows + 2 * kPerColumnBytes * row + kPerColumnBytes;
          __m512i out[8];
          transpose_qwords(lanes[row], out);
          for (int k = 0; k < 8 && b0 + k < bits; ++k) _mm512_store_si512(codes + (8 * (b0 + k) + r) * 64, out[k]);
        }
      }
    }
  }

  // Counts -> codes of one output column (lanes[row][q], byte i of each qword: weight bit i) with
  // its tables. Independent zero-masked lookups are ORed together (a chain of merging ones would be
  // latency-bound).
  void convert_column(const uint8_t* tables, __m512i (*lanes)[8], int q) const {
    __m512i any = lanes[0][q];
    for (int row = 1; row < kRowBlock; ++row) any = _mm512_or_si512(any, lanes[row][q]);
    const bool below_32 = _mm512_test_epi8_mask(any, _mm512_set1_epi8(static_cast<char>(0xE0))) == 0;
    const bool below_128 = _mm512_movepi8_mask(any) == 0;
    if (below_32) {
      lookup<4>(tables + kColumnTablesQuarter, 128, lanes, q);
    } else if (_mm512_test_epi8_mask(any, _mm512_set1_epi8(static_cast<char>(0xC0))) == 0) {
      lookup<2>(tables + kColumnTablesHalf, 128, lanes, q);
    } else if (below_128) {
      lookup<1>(tables + kColumnTablesFull, 256, lanes, q);
    } else {
      __m512i code[kRowBlock];
      __mmask64 upper[kRowBlock];
      for (int row = 0; row < kRowBlock; ++row) {
        code[row] = _mm512_setzero_si512();
        upper[row] = _mm512_movepi8_mask(lanes[row][q]);
      }
      for (int i = 0; i < plan.weight_bits; ++i) {
        const uint8_t* table = tables + kColumnTablesFull + 256 * i;
        const __mmask64 bit_lanes = 0x0101010101010101ULL << i;
        const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
        const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
        for (int row = 0; row < kRowBlock; ++row) {
          code[row] = _mm512_ternarylogic_epi64(
              code[row], _mm512_maskz_permutex2var_epi8(bit_lanes & ~upper[row], t0, lanes[row][q], t1),
              _mm512_maskz_permutex2var_epi8(bit_lanes & upper[row], t2, lanes[row][q], t3), 0xFE);
        }
      }
      for (int row = 0; row < kRowBlock; ++row) lanes[row][q] = code[row];
    }
  }

  // Counts < 128 / kBitsPerTable: kBitsPerTable weight bits share a table (entry (128 /
  // kBitsPerTable) (i % kBitsPerTable) + m); the tables are table_stride bytes apart.
  template <int kBitsPerTable>
  void lookup(const uint8_t* tables, std::size_t table_stride, __m512i (*lanes)[8], int q) const {
    constexpr uint64_t kEntryOffsets = kBitsPerTable == 4 ? 0x6040200060402000ULL : kBitsPerTable == 2 ? 0x4000400040004000ULL : 0;
    constexpr uint64_t kTableLanes = 0x0101010101010101ULL * ((1u << kBitsPerTable) - 1);
    const __m512i offsets = _mm512_set1_epi64(static_cast<long long>(kEntryOffsets));
    __m512i index[kRowBlock], code[kRowBlock];
    for (int row = 0; row < kRowBlock; ++row) {
      index[row] = _mm512_or_si512(lanes[row][q], offsets);
      code[row] = _mm512_setzero_si512();
    }
    for (int g = 0; g * kBitsPerTable < plan.weight_bits; ++g) {
      const uint8_t* table = tables + table_stride * static_cast<std::size_t>(g);
      const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
      const __mmask64 table_lanes = kTableLanes << (kBitsPerTable * g);
      for (int row = 0; row < kRowBlock; ++row) {
        code[row] = _mm512_or_si512(code[row], _mm512_maskz_permutex2var_epi8(table_lanes, t0, index[row], t1));
      }
    }
    for (int row = 0; row < kRowBlock; ++row) lanes[row][q] = code[row];
  }

  // The rows [0, count) of a row block on one (tile, column block). lists, counts: by row as
  // build_lists writes them; totals: [row][column block][64].
  template <bool kSampled, int kDeltaPlanes, int kRegs, bool kPerColumn>
  void run_block(const uint8_t* lists, const int* counts, int64_t count, std::size_t tile, int64_t cb,
                 const RowContext* rows, int64_t* totals, const Tables& tables, uint8_t* per_column_rows) const {
    const auto bits = static_cast<std::size_t>(plan.input_bits);
    if (kPerColumn) {
      for (int64_t r = 0; r < count; ++r) {
        count_all_bits<kRegs>(lists + static_cast<std::size_t>(r) * bits * kListStride, counts + static_cast<std::size_t>(r) * bits,
                              tile, cb, per_column_rows + 2 * kPerColumnBytes * static_cast<std::size_t>(r));
      }
      read_per_column<kRegs>(per_column_rows, tile, cb);
    }
    for (int64_t r = 0; r < count; ++r) {
      run_tile<kSampled, kDeltaPlanes, kRegs, kPerColumn>(
          lists + static_cast<std::size_t>(r) * bits * kListStride, counts + static_cast<std::size_t>(r) * bits, tile, cb, rows[r],
          totals + (r * column_blocks + cb) * 64, tables, per_column_rows + 2 * kPerColumnBytes * static_cast<std::size_t>(r));
    }
  }

  // One (row, tile, column block): adds s 2^(i+b) V(code) of every conversion into totals[64]
  // (index 8 reg + qword). Only the first kRegs count registers hold columns of this block
  // (active_registers); the others are neither counted out, read out nor accumulated.
  // kPerColumn: the counts and codes are given, [b][reg][64] each (read_per_column).
  template <bool kSampled, int kDeltaPlanes, int kRegs, bool kPerColumn>
  void run_tile(const uint8_t* lists, const int* counts, std::size_t tile, int64_t cb, const RowContext& row,
                int64_t* totals, const Tables& tables, const uint8_t* counted) const {
    const uint8_t* wt = weight_tile(tile, cb);
    const int bits = plan.input_bits;
    const bool wide_codes = plan.wide_codes;
    const uint64_t tile_key =
        kSampled ? counter_hash(layer_seed, row.sample, row.position, static_cast<uint64_t>(tile)) : 0;
    const __m512i a0 = tables.analog.t0, a1 = tables.analog.t1;
    const __m512i d0 = tables.delta.t0, d1 = tables.delta.t1;
    const __m512i e0 = tables.delta_high.t0, e1 = tables.delta_high.t1;
    __m512i acc_code[kRegs], acc_delta[kRegs], acc_high[kRegs];
#pragma GCC unroll 8
    for (int r = 0; r < kRegs; ++r) acc_code[r] = acc_delta[r] = acc_high[r] = _mm512_setzero_si512();
    alignas(64) int64_t voted_total[64];
    bool any_voted = false;
    for (int b = bits - 1; b >= 0; --b) {
      __m512i mac[8], codes[8];
      if (kPerColumn) {  // counted and read by read_per_column
#pragma GCC unroll 8
        for (int r = 0; r < kRegs; ++r) {
          mac[r] = _mm512_load_si512(counted + (8 * b + r) * 64);
          codes[r] = _mm512_load_si512(counted + kPerColumnBytes + (8 * b + r) * 64);
        }
      } else {
        count_bit<kRegs>(wt, lists, counts, b, mac);
      }
      if (kPerColumn) {
        // codes are read
      } else if (kSampled && plan.analog_slots[b] != 0) {
        if (kRegs == 2) {
          sample<2>(mac, codes, 0, b, cb, tile_key, tables.stair_base);
        } else {
          sample<4>(mac, codes, 0, b, cb, tile_key, tables.stair_base);
        }
        if (kRegs == 8) sample<4>(mac + 4, codes + 4, 4, b, cb, tile_key, tables.stair_base);
      } else {
        __m512i any = mac[0];
        for (int r = 1; r < kRegs; ++r) any = _mm512_or_si512(any, mac[r]);
        if (_mm512_movepi8_mask(any) == 0) {  // every count < 128
#pragma GCC unroll 8
          for (int r = 0; r < kRegs; ++r) codes[r] = _mm512_permutex2var_epi8(a0, mac[r], a1);
        } else {
#pragma GCC unroll 8
          for (int r = 0; r < kRegs; ++r) codes[r] = tables.analog(mac[r]);
        }
      }
      if ((plan.digital_slots[b] | plan.voted_slots[b]) != 0) {
        if (plan.voted_slots[b] != 0 && !any_voted) {
          std::fill(voted_total, voted_total + 64, 0);
          any_voted = true;
        }
        hybrid_cycles(kRegs, mac, codes, b, tile, cb, row, tables, voted_total);
      }
      const __m512i weights = _mm512_loadu_si512(plan.weights[b]);
#pragma GCC unroll 8
      for (int r = 0; r < kRegs; ++r) {
        acc_code[r] = _mm512_dpbusd_epi32(_mm512_add_epi32(acc_code[r], acc_code[r]), codes[r], weights);
      }
      if (kDeltaPlanes >= 1) {
#pragma GCC unroll 8
        for (int r = 0; r < kRegs; ++r) {
          const __m512i d = wide_codes ? tables.delta(codes[r]) : _mm512_permutex2var_epi8(d0, codes[r], d1);
          acc_delta[r] = _mm512_dpbusd_epi32(_mm512_add_epi32(acc_delta[r], acc_delta[r]), d, weights);
        }
      }
      if (kDeltaPlanes >= 2) {
#pragma GCC unroll 8
        for (int r = 0; r < kRegs; ++r) {
          const __m512i d = wide_codes ? tables.delta_high(codes[r]) : _mm512_permutex2var_epi8(e0, codes[r], e1);
          acc_high[r] = _mm512_dpbusd_epi32(_mm512_add_epi32(acc_high[r], acc_high[r]), d, weights);
        }
      }
    }
    const __m512i slope = _mm512_set1_epi64(plan.slope);
    const __m512i bias = _mm512_set1_epi64(plan.delta_bias);
#pragma GCC unroll 8
    for (int r = 0; r < kRegs; ++r) {
      __m512i value = _mm512_mullo_epi64(fold(acc_code[r]), slope);
      if (kDeltaPlanes >= 1) value = _mm512_add_epi64(value, _mm512_sub_epi64(fold(acc_delta[r]), bias));
      if (kDeltaPlanes >= 2) value = _mm512_add_epi64(value, _mm512_slli_epi64(fold(acc_high[r]), 8));
      if (any_voted) value = _mm512_add_epi64(value, _mm512_load_si512(voted_total + 8 * r));
      _mm512_storeu_si512(totals + 8 * r, _mm512_add_epi64(_mm512_loadu_si512(totals + 8 * r), value));
    }
  }

  // HCiM cycles of input bit b (rare): digital lanes take the digital readout; voted lanes are
  // converted here, scalar, into voted_total, and enter the byte accumulation as code 0.
  __attribute__((noinline)) void hybrid_cycles(int regs, const __m512i* mac, __m512i* codes, int b, std::size_t tile, int64_t cb,
                                               const RowContext& row, const Tables& tables,
                                               int64_t* voted_total) const {
    const uint64_t digital_mask = 0x0101010101010101ULL * plan.digital_slots[b];
    const uint64_t voted_mask = 0x0101010101010101ULL * plan.voted_slots[b];
    for (int r = 0; r < regs; ++r) {
      if (digital_mask != 0) codes[r] = _mm512_mask_blend_epi8(digital_mask, codes[r], tables.digital(mac[r]));
      if (voted_mask != 0) {
        add_voted(mac[r], r, b, voted_mask, tile, cb, row, voted_total);
        codes[r] = _mm512_maskz_mov_epi8(~voted_mask, codes[r]);
      }
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

void avx512_matmul(const FastPlan& plan, const ProductShape& shape, const std::vector<Tile>& tiles, const int32_t* x,
                   const int32_t* w, uint64_t layer_seed, const NoiseKey& key,
                   const uint8_t* column_tables, float* out) {
  const Kernel kernel(plan, shape, tiles, w, layer_seed, column_tables);
  const int bits = plan.input_bits;
  const int64_t depth = shape.depth();
  const int64_t blocks = (shape.rows + kRowBlock - 1) / kRowBlock;
  const int64_t column_blocks = kernel.column_blocks;
  const double scale = std::ldexp(1.0, plan.value_exponent);
  const Tables tables{Table(plan.analog != nullptr && !plan.sampled ? plan.analog_code : plan.digital_code),
                      Table(plan.digital_code), Table(plan.delta), Table(plan.delta_high), Table(plan.stair_base)};
  using BlockFunction = void (Kernel::*)(const uint8_t*, const int*, int64_t, std::size_t, int64_t, const RowContext*,
                                         int64_t*, const Tables&, uint8_t*) const;
#define BITLINE_BLOCK_FUNCTIONS(sampled, delta_planes, per_column)                                                      \
  {&Kernel::run_block<sampled, delta_planes, 2, per_column>, &Kernel::run_block<sampled, delta_planes, 4, per_column>, \
   &Kernel::run_block<sampled, delta_planes, 8, per_column>}
#define BITLINE_BLOCK_KIND(sampled, per_column)                                                   \
  {BITLINE_BLOCK_FUNCTIONS(sampled, 0, per_column), BITLINE_BLOCK_FUNCTIONS(sampled, 1, per_column), \
   BITLINE_BLOCK_FUNCTIONS(sampled, 2, per_column)}
  // [shared deterministic, sampled, per-column deterministic][delta planes][count registers]
  static constexpr BlockFunction kBlockFunctions[3][3][3] = {
      BITLINE_BLOCK_KIND(false, false), BITLINE_BLOCK_KIND(true, false), BITLINE_BLOCK_KIND(false, true)};
#undef BITLINE_BLOCK_KIND
#undef BITLINE_BLOCK_FUNCTIONS
  const int kind = plan.per_column ? 2 : plan.sampled ? 1 : 0;
  std::vector<BlockFunction> block_functions;  // per column block: by its count registers (2, 4 or 8)
  for (int64_t cb = 0; cb < column_blocks; ++cb) {
    const int active = active_registers(shape.cols - cb * 64);
    block_functions.push_back(kBlockFunctions[kind][plan.delta_planes][active <= 2 ? 0 : active <= 4 ? 1 : 2]);
  }

#pragma omp parallel
  {
    std::vector<uint8_t> lists(static_cast<std::size_t>(kRowBlock * bits) * kListStride + 64);
    std::vector<int> counts(static_cast<std::size_t>(kRowBlock * bits));
    std::vector<int64_t> totals(static_cast<std::size_t>(kRowBlock * column_blocks * 64));
    RowContext rows[kRowBlock];
    // plan.per_column: run_block's buffer, 64-byte aligned.
    std::vector<uint8_t> per_column_storage(plan.per_column ? 2 * kPerColumnBytes * kRowBlock + 64 : 0);
    uint8_t* per_column_rows = per_column_storage.data() + (-reinterpret_cast<uintptr_t>(per_column_storage.data()) & 63);
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
          if (first + r + kRowBlock < shape.rows) {  // the same tile of the next block's row
            const char* next = reinterpret_cast<const char*>(x + (first + r + kRowBlock) * depth + tiles[t].begin);
            const int64_t bytes = (tiles[t].end - tiles[t].begin) * 4;
            for (int64_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(next + offset, _MM_HINT_T0);
          }
          build_lists(x + (first + r) * depth + tiles[t].begin, tiles[t].end - tiles[t].begin, bits,
                      lists.data() + static_cast<std::size_t>(r * bits) * kListStride, counts.data() + r * bits);
        }
        for (int64_t cb = 0; cb < column_blocks; ++cb) {
          (kernel.*block_functions[static_cast<std::size_t>(cb)])(lists.data(), counts.data(), count, t, cb, rows,
                                                                  totals.data(), tables, per_column_rows);
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
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

#else  // no AVX-512 kernel on this platform

bool avx512_kernel_supported() { return false; }
void avx512_matmul(const FastPlan&, const ProductShape&, const std::vector<Tile>&, const int32_t*, const int32_t*,
                   uint64_t, const NoiseKey&, const std::vector<const Readout*>&, float*) {}

#endif

}  // namespace bitline::core::analog_sram::detail
