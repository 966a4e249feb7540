#include "core/daism/kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define BITLINE_DAISM_AVX512 1
#if !defined(__clang__)
// GCC 12 warns inside its own AVX-512 intrinsics (their _mm512_undefined pass-through operands).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace bitline::core::daism {
namespace {

// Stored elements per block: one block's running sums stay in registers or L1 while a row of the
// driving operand streams past.
constexpr int64_t kLanes = 64;

// The exponent given to zeros (and padding lanes): far below every format's smallest normal, so
// that any product with them underflows to ±0.
constexpr int32_t kZeroExponent = -512;

// What the lanes need of the datapath.
struct Plan {
  int n = 8;                 // operand bits
  uint32_t sensed_mask = 0;  // the kept product columns
  bool nearest_even = false;
  int32_t min_exponent = 0, max_exponent = 0;
  bool top = false;                  // PrecomputedTop
  bool fp32_exponent_range = false;  // the format's exponents are fp32's (bf16)
  bool may_sense_zero = false;       // one sensed column: a product of normal operands may read 0
  int k = 1;                         // digit width, or exact top bits
  // The stored operand decoded, [d][stride]: mantissas, exponents, signs.
  const uint32_t* mantissa = nullptr;
  const int32_t* exponent = nullptr;
  const uint32_t* sign = nullptr;
  int64_t stride = 0;
};

// Operands decoded to the format for the lanes: mantissa with its hidden bit (0 for a zero, which
// makes every product with it 0), unbiased exponent, sign bit.
struct DecodedPlanes {
  std::vector<uint32_t> mantissa, sign;
  std::vector<int32_t> exponent;
  explicit DecodedPlanes(std::size_t size) : mantissa(size, 0u), sign(size, 0u), exponent(size, kZeroExponent) {}
};

// 16 lanes as one value (GCC/Clang vector extensions: lowered to AVX-512, AVX2 or SSE by target;
// C-style casts between them reinterpret the bits). Passing them by value outside an AVX-512
// function changes the ABI, hence -Wpsabi; they are only used inlined.
#pragma GCC diagnostic ignored "-Wpsabi"
using U32x16 = uint32_t __attribute__((vector_size(64)));
using I32x16 = int32_t __attribute__((vector_size(64)));
using F32x16 = float __attribute__((vector_size(64)));
constexpr int kVectors = static_cast<int>(kLanes / 16);

template <class Vector, class T>
[[gnu::always_inline]] inline Vector load_vector(const T* from) {
  Vector value;
  std::memcpy(&value, from, sizeof(value));
  return value;
}

// decode() as plain integer operations: the mantissa rounded to n bits (nearest, ties to even),
// values below the format's smallest normal flushed to zero. Returns false when a value is not
// finite in the format (Inf, NaN, or rounding past its largest): the lanes do not take those.
bool decode_finite_scalar(const float* __restrict values, int64_t count, int64_t stride, int n, int32_t min_exponent,
                          int32_t max_exponent, uint32_t* __restrict mantissa, int32_t* __restrict exponent,
                          uint32_t* __restrict sign) {
  bool finite = true;
  const int drop = 24 - n;
  const uint32_t half = 1u << (drop - 1);
  const uint32_t drop_mask = (1u << drop) - 1;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i * stride], sizeof(bits));
    const auto biased = static_cast<int32_t>((bits >> 23) & 0xffu);
    const uint32_t full = (bits & 0x7fffffu) | 0x800000u;
    uint32_t kept = full >> drop;
    const uint32_t remainder = full & drop_mask;
    kept += static_cast<uint32_t>(remainder > half) | (static_cast<uint32_t>(remainder == half) & kept & 1u);
    const uint32_t carry = kept >> n;
    kept >>= carry;
    const int32_t e = biased - 127 + static_cast<int32_t>(carry);
    const bool zero = biased == 0 || e < min_exponent;  // zeros, fp32 subnormals, below the format's normals
    finite &= biased != 0xff && e <= max_exponent;      // Inf, NaN, or rounded past the format's largest
    mantissa[i] = zero ? 0u : kept;
    exponent[i] = zero ? kZeroExponent : e;
    sign[i] = bits & 0x80000000u;
  }
  return finite;
}

#ifdef BITLINE_DAISM_AVX512
bool cpu_has_avx512_lanes() {
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vbmi");
  return supported;
}

// decode_finite_scalar on contiguous values, 16 at a time in AVX-512 (GCC 12 leaves the scalar
// loop unvectorised), the same operations lane for lane.
__attribute__((target("avx512f,avx512bw"))) bool decode_finite_avx512(
    const float* __restrict values, int64_t count, int n, int32_t min_exponent, int32_t max_exponent,
    uint32_t* __restrict mantissa, int32_t* __restrict exponent, uint32_t* __restrict sign) {
  const int drop = 24 - n;
  const __m128i drop_count = _mm_cvtsi32_si128(drop), n_count = _mm_cvtsi32_si128(n);
  const __m512i half = _mm512_set1_epi32(static_cast<int>(1u << (drop - 1)));
  const __m512i drop_mask = _mm512_set1_epi32(static_cast<int>((1u << drop) - 1));
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(127), all_ones = _mm512_set1_epi32(0xff);
  const __m512i smallest = _mm512_set1_epi32(min_exponent), largest = _mm512_set1_epi32(max_exponent);
  const __m512i zero_exponent = _mm512_set1_epi32(kZeroExponent);
  __mmask16 not_finite = 0;
  int64_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m512i bits = _mm512_loadu_si512(values + i);
    const __m512i biased = _mm512_and_si512(_mm512_srli_epi32(bits, 23), all_ones);
    const __m512i full = _mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x7fffff)), _mm512_set1_epi32(0x800000));
    __m512i kept = _mm512_srl_epi32(full, drop_count);
    const __m512i remainder = _mm512_and_si512(full, drop_mask);
    const __mmask16 round_up = _mm512_cmpgt_epu32_mask(remainder, half) |
                               (_mm512_cmpeq_epi32_mask(remainder, half) & _mm512_test_epi32_mask(kept, one));
    kept = _mm512_mask_add_epi32(kept, round_up, kept, one);
    const __m512i carry = _mm512_srl_epi32(kept, n_count);
    kept = _mm512_srlv_epi32(kept, carry);
    const __m512i e = _mm512_add_epi32(_mm512_sub_epi32(biased, bias), carry);
    const __mmask16 zero = _mm512_cmpeq_epi32_mask(biased, _mm512_setzero_si512()) | _mm512_cmplt_epi32_mask(e, smallest);
    not_finite |= _mm512_cmpeq_epi32_mask(biased, all_ones) | _mm512_cmpgt_epi32_mask(e, largest);
    _mm512_storeu_si512(mantissa + i, _mm512_maskz_mov_epi32(static_cast<__mmask16>(~zero), kept));
    _mm512_storeu_si512(exponent + i, _mm512_mask_blend_epi32(zero, e, zero_exponent));
    _mm512_storeu_si512(sign + i, _mm512_and_si512(bits, _mm512_set1_epi32(static_cast<int>(0x80000000u))));
  }
  const bool tail_finite = decode_finite_scalar(values + i, count - i, 1, n, min_exponent, max_exponent, mantissa + i,
                                                exponent + i, sign + i);
  return not_finite == 0 && tail_finite;
}
#endif

bool decode_finite(const float* values, int64_t count, int64_t stride, int n, int32_t min_exponent, int32_t max_exponent,
                   uint32_t* mantissa, int32_t* exponent, uint32_t* sign) {
#ifdef BITLINE_DAISM_AVX512
  if (stride == 1 && cpu_has_avx512_lanes()) {
    return decode_finite_avx512(values, count, n, min_exponent, max_exponent, mantissa, exponent, sign);
  }
#endif
  return decode_finite_scalar(values, count, stride, n, min_exponent, max_exponent, mantissa, exponent, sign);
}

// accumulate_block for a digit variant of compile-time width: the digit rows, the datapath and the
// accumulation fused, 16 lanes per vector, the block's running sums held in registers across K.
// Lane for lane the same operations as Datapath::multiply and Accumulator::add (tests: bit for bit).
template <int N, int K, bool NearestEven, bool Fp32Range>
[[gnu::always_inline]] inline void fused_digits_block(const Plan& plan, const uint32_t* __restrict driving_mantissa,
                                                      const int32_t* __restrict driving_exponent,
                                                      const uint32_t* __restrict driving_sign, int64_t depth,
                                                      int64_t first, float* __restrict sum) {
  constexpr int kGroups = (N + K - 1) / K;
  constexpr uint32_t kDigitMask = (1u << K) - 1;
  const uint32_t sensed_mask = plan.sensed_mask;
  const int32_t min_exponent = plan.min_exponent, max_exponent = plan.max_exponent;
  F32x16 sums[kVectors];
  for (int v = 0; v < kVectors; ++v) sums[v] = load_vector<F32x16>(sum + 16 * v);
  for (int64_t l = 0; l < depth; ++l) {
    const uint32_t b = driving_mantissa[l];
    if (b == 0) continue;  // a zero: its ±0 products leave the sums unchanged
    uint32_t digits[kGroups];
    for (int g = 0; g < kGroups; ++g) digits[g] = (b >> (g * K)) & kDigitMask;
    const int64_t at = l * plan.stride + first;
    const int32_t e_b = driving_exponent[l];
    const uint32_t s_b = driving_sign[l];
    for (int v = 0; v < kVectors; ++v) {
      const auto a = load_vector<U32x16>(plan.mantissa + at + 16 * v);
      const auto e_a = load_vector<I32x16>(plan.exponent + at + 16 * v);
      const auto s = load_vector<U32x16>(plan.sign + at + 16 * v) ^ s_b;
      // The rows of A * digit, shifted to their digit's place (a multiply stands for the
      // precomputed rows; reading them from memory measured slower).
      U32x16 product = a * digits[0];
      for (int g = 1; g < kGroups; ++g) product |= (a * digits[g]) << (g * K);
      const U32x16 p = product & sensed_mask;
      const U32x16 high = p >> (2 * N - 1);  // 1: the product reached the top column
      const U32x16 shift = (N - 1) + high;
      U32x16 kept = p >> shift;
      U32x16 carry = {};
      if constexpr (NearestEven) {
        const U32x16 remainder = p & ((1u << shift) - 1);
        const U32x16 half = 1u << (shift - 1);
        // Comparisons give -1 in the lanes where they hold: subtracting the mask adds the rounding.
        kept -= (U32x16)((remainder > half) | ((remainder == half) & ((kept & 1u) != 0)));
        carry = kept >> N;
        kept >>= carry;
      }
      U32x16 bits;
      if constexpr (Fp32Range) {
        // fp32's exponent range: the exponent field directly (minus 1: the hidden bit adds it).
        const I32x16 biased = e_a + (e_b + 126) + (I32x16)(high + carry);
        const U32x16 magnitude = ((U32x16)biased << 23) + (kept << (24 - N));
        const U32x16 out_of_range = biased > 253 ? U32x16{} + 0x7f800000u : U32x16{};  // overflow: inf; underflow: 0
        bits = ((U32x16)biased <= 253u ? magnitude : out_of_range) | s;
      } else {
        const I32x16 e = e_a + e_b + (I32x16)(high + carry);
        bits = s | (U32x16)(e + 127) << 23 | (kept & ((1u << (N - 1)) - 1)) << (24 - N);
        bits = ((p == 0) | (e < min_exponent)) ? s : bits;
        bits = ((e > max_exponent) & (p != 0)) ? (s | 0x7f800000u) : bits;
      }
      F32x16 value;
      std::memcpy(&value, &bits, sizeof(value));
      sums[v] += value;
    }
  }
  for (int v = 0; v < kVectors; ++v) std::memcpy(sum + 16 * v, &sums[v], sizeof(sums[v]));
}

// Runs fused_digits_block when the plan is of width N and digit width K (bf16: N = 8; fp16: 11).
template <int N, int K>
[[gnu::always_inline]] inline bool fused_digits(const Plan& plan, const uint32_t* __restrict driving_mantissa,
                                                const int32_t* __restrict driving_exponent,
                                                const uint32_t* __restrict driving_sign, int64_t depth, int64_t first,
                                                float* __restrict sum) {
  if (plan.n != N || plan.k != K || plan.top || plan.may_sense_zero) return false;
#define BITLINE_DAISM_BLOCK(nearest_even, fp32_range)                                                               \
  fused_digits_block<N, K, nearest_even, fp32_range>(plan, driving_mantissa, driving_exponent, driving_sign, depth, \
                                                     first, sum)
  if (plan.fp32_exponent_range) {
    if (plan.nearest_even) {
      BITLINE_DAISM_BLOCK(true, true);
    } else {
      BITLINE_DAISM_BLOCK(false, true);
    }
  } else if (plan.nearest_even) {
    BITLINE_DAISM_BLOCK(true, false);
  } else {
    BITLINE_DAISM_BLOCK(false, false);
  }
#undef BITLINE_DAISM_BLOCK
  return true;
}

// sum[0, kLanes) += the products of one block of stored elements with every driving element of a
// row, in K order. Plain loops over the lanes, compiled for AVX-512, AVX2 and baseline x86-64 and
// chosen at run time. The driving element's rows: its k-bit digits at shifts k g (PrecomputedTop:
// its exact top part at n - k, then one row per low bit); a zero digit raises no row (ORs 0).
#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
void accumulate_block(const Plan& plan, const uint32_t* __restrict driving_mantissa,
                      const int32_t* __restrict driving_exponent, const uint32_t* __restrict driving_sign, int64_t depth,
                      int64_t first, float* __restrict sum) {
  // The formats' and variants' common widths take fused loops of compile-time width.
#define BITLINE_DAISM_ARGUMENTS plan, driving_mantissa, driving_exponent, driving_sign, depth, first, sum
  if (fused_digits<8, 1>(BITLINE_DAISM_ARGUMENTS) || fused_digits<8, 2>(BITLINE_DAISM_ARGUMENTS) ||
      fused_digits<8, 3>(BITLINE_DAISM_ARGUMENTS) || fused_digits<8, 4>(BITLINE_DAISM_ARGUMENTS) ||
      fused_digits<8, 8>(BITLINE_DAISM_ARGUMENTS) || fused_digits<11, 1>(BITLINE_DAISM_ARGUMENTS) ||
      fused_digits<11, 2>(BITLINE_DAISM_ARGUMENTS) || fused_digits<11, 3>(BITLINE_DAISM_ARGUMENTS) ||
      fused_digits<11, 11>(BITLINE_DAISM_ARGUMENTS)) {
    return;
  }
#undef BITLINE_DAISM_ARGUMENTS
  alignas(64) uint32_t product[kLanes];
  alignas(64) uint32_t values[kLanes];
  // Locals, so that the compiler need not reload them after every store.
  const int n = plan.n;
  const uint32_t sensed_mask = plan.sensed_mask;
  const bool nearest_even = plan.nearest_even;
  const int32_t min_exponent = plan.min_exponent, max_exponent = plan.max_exponent;
  const bool top = plan.top;
  const int k = plan.k;
  const int top_column = 2 * n - 1;
  const uint32_t fraction_mask = (1u << (n - 1)) - 1;
  const int fraction_shift = 24 - n;
  const uint32_t digit_mask = (1u << k) - 1;
  for (int64_t l = 0; l < depth; ++l) {
    const uint32_t b = driving_mantissa[l];
    if (b == 0) continue;  // a zero: its ±0 products leave the sums unchanged
    const int64_t at = l * plan.stride + first;
    const uint32_t* a = plan.mantissa + at;
    const int32_t* e_a = plan.exponent + at;
    const uint32_t* s_a = plan.sign + at;
    // The raised rows' OR, one row at a time across the lanes.
    if (top) {
      const uint32_t part = b >> (n - k);
      for (int64_t j = 0; j < kLanes; ++j) product[j] = (a[j] * part) << (n - k);
      for (int bit = 0; bit < n - k; ++bit) {
        const uint32_t raised = (b >> bit) & 1u;
        for (int64_t j = 0; j < kLanes; ++j) product[j] |= (a[j] * raised) << bit;
      }
    } else {
      for (int64_t j = 0; j < kLanes; ++j) product[j] = a[j] * (b & digit_mask);
      for (int shift = k; shift < n; shift += k) {
        const uint32_t digit = (b >> shift) & digit_mask;
        for (int64_t j = 0; j < kLanes; ++j) product[j] |= (a[j] * digit) << shift;
      }
    }
    // Sensing, normalisation, rounding, range checks, the fp32 accumulation.
    const int32_t e_b = driving_exponent[l];
    const uint32_t s_b = driving_sign[l];
    for (int64_t j = 0; j < kLanes; ++j) {
      const uint32_t p = product[j] & sensed_mask;
      const uint32_t high = p >> top_column;  // 1: the product reached the top column
      const uint32_t shift = static_cast<uint32_t>(n - 1) + high;
      uint32_t kept = p >> shift;
      if (nearest_even) {
        const uint32_t remainder = p & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        kept += static_cast<uint32_t>(remainder > half) | (static_cast<uint32_t>(remainder == half) & kept & 1u);
      }
      const uint32_t carry = kept >> n;
      kept >>= carry;
      const int32_t e = e_a[j] + e_b + static_cast<int32_t>(high + carry);
      const uint32_t s = s_a[j] ^ s_b;
      uint32_t bits = s | static_cast<uint32_t>(e + 127) << 23 | (kept & fraction_mask) << fraction_shift;
      bits = (p == 0 || e < min_exponent) ? s : bits;
      bits = (e > max_exponent && p != 0) ? (s | 0x7f800000u) : bits;
      values[j] = bits;
    }
    for (int64_t j = 0; j < kLanes; ++j) {
      float value;
      std::memcpy(&value, &values[j], sizeof(value));
      sum[j] += value;
    }
  }
}

// ---- the table path: bf16 mantissa products looked up -------------------------------------------

// The normalised, rounded mantissa product of every pair of normalised 8-bit mantissas (1.a)(1.b)
// as Datapath::multiply forms it at exponents 0: a value in [1, 4], or 0 when every sensed column
// read 0, as the two bytes of its bf16 bits (it has 8 significant bits): [b fraction][a fraction].
constexpr int kTableFractions = 128;
struct ProductTable {
  std::vector<uint8_t> low, high;
};

const ProductTable& product_table(const Datapath& datapath) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int, int, int>, std::unique_ptr<ProductTable>> tables;
  const auto& config = datapath.config();
  const auto key = std::make_tuple(static_cast<int>(config.variant), config.k, config.kept_columns,
                                   static_cast<int>(config.rounding));
  const std::lock_guard<std::mutex> lock(mutex);
  auto& table = tables[key];
  if (!table) {
    table = std::make_unique<ProductTable>();
    table->low.resize(kTableFractions * kTableFractions);
    table->high.resize(kTableFractions * kTableFractions);
    for (uint64_t b = 0; b < kTableFractions; ++b) {
      for (uint64_t a = 0; a < kTableFractions; ++a) {
        const Decoded stored{Decoded::Class::Normal, false, 0, kTableFractions | a};
        const Decoded driving{Decoded::Class::Normal, false, 0, kTableFractions | b};
        const float product = encode(datapath.multiply(stored, driving), datapath.format().fp);
        uint32_t bits;
        std::memcpy(&bits, &product, sizeof(bits));
        table->low[b * kTableFractions + a] = static_cast<uint8_t>(bits >> 16);
        table->high[b * kTableFractions + a] = static_cast<uint8_t>(bits >> 24);
      }
    }
  }
  return *table;
}

// The lane order of the table path's sums: the byte unpacks that widen 64 looked-up products to
// four vectors of 16 floats put element 16 c + 4 v + r of a block in lane 4 c + r of vector v.
constexpr int64_t table_lane_element(int64_t vector, int64_t lane) { return 16 * (lane / 4) + 4 * vector + lane % 4; }

// The stored operand as the table path reads it, [d][stride] like the decoded planes: the
// mantissa's 7-bit fraction (the table's index), ±2^exponent (±0 for a zero) in the table's lane
// order, and per (K index, block) the extreme exponents of its nonzero elements.
struct TablePlanes {
  std::vector<uint8_t> index;
  std::vector<float> scale;
  std::vector<int32_t> block_min_exponent, block_max_exponent;  // [d][blocks]
};

float power_of_two(int32_t exponent, uint32_t sign) {  // a normal exponent
  const uint32_t bits = sign | static_cast<uint32_t>(exponent + 127) << 23;
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

TablePlanes table_planes(const Plan& plan, int64_t d, int64_t blocks) {
  TablePlanes planes;
  const auto size = static_cast<std::size_t>(d * plan.stride);
  planes.index.resize(size);
  planes.scale.resize(size);
  planes.block_min_exponent.assign(static_cast<std::size_t>(d * blocks), std::numeric_limits<int32_t>::max() / 2);
  planes.block_max_exponent.assign(static_cast<std::size_t>(d * blocks), std::numeric_limits<int32_t>::min() / 2);
  for (int64_t l = 0; l < d; ++l) {
    for (int64_t j = 0; j < plan.stride; ++j) {
      const auto at = static_cast<std::size_t>(l * plan.stride + j);
      planes.index[at] = static_cast<uint8_t>(plan.mantissa[at] & (kTableFractions - 1));
      const int64_t block_start = j - j % kLanes, lane = j % kLanes;
      const auto element = static_cast<std::size_t>(l * plan.stride + block_start + table_lane_element(lane / 16, lane % 16));
      const bool zero = plan.mantissa[element] == 0;
      planes.scale[at] = zero ? (plan.sign[element] != 0 ? -0.0f : 0.0f)
                              : power_of_two(plan.exponent[element], plan.sign[element]);
      if (plan.mantissa[at] == 0) continue;
      const auto block = static_cast<std::size_t>(l * blocks + j / kLanes);
      planes.block_min_exponent[block] = std::min(planes.block_min_exponent[block], plan.exponent[at]);
      planes.block_max_exponent[block] = std::max(planes.block_max_exponent[block], plan.exponent[at]);
    }
  }
  return planes;
}

#ifdef BITLINE_DAISM_AVX512
// accumulate_block on the table: per driving element, the block's 64 products looked up (one
// 128-entry byte permute per byte of their bf16 bits), widened by unpacks into the table's lane
// order, and scaled by ±2^(e_a + e_b) in one float multiply where the block's exponents keep every
// product a normal float (it is then exact, and its fused add equals Accumulator::add); elsewhere
// each lane takes the datapath's range checks on the looked-up value.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void table_block(
    const Plan& plan, const TablePlanes& planes, const ProductTable& table, int64_t blocks,
    const uint32_t* __restrict driving_mantissa, const int32_t* __restrict driving_exponent,
    const uint32_t* __restrict driving_sign, int64_t depth, int64_t block, float* __restrict sum) {
  const int64_t first = block * kLanes;
  alignas(64) float lanes[kLanes];
  for (int64_t v = 0; v < kVectors; ++v) {
    for (int64_t lane = 0; lane < 16; ++lane) lanes[16 * v + lane] = sum[table_lane_element(v, lane)];
  }
  // Four named sums, not an array: an indexed array of vectors stays in memory, and every
  // addition then waits on a store and a load (measured: 2x slower).
  static_assert(kVectors == 4, "table_block holds one block's sums in four vectors");
  __m512 sum0 = _mm512_load_ps(lanes), sum1 = _mm512_load_ps(lanes + 16), sum2 = _mm512_load_ps(lanes + 32),
         sum3 = _mm512_load_ps(lanes + 48);
  const __m512i zero = _mm512_setzero_si512();
  // Locals, so that the compiler need not reload them after every store.
  const int64_t stride = plan.stride;
  const int32_t min_exponent = plan.min_exponent, max_exponent = plan.max_exponent;
  const uint8_t* __restrict index_plane = planes.index.data();
  const float* __restrict scale_plane = planes.scale.data();
  const int32_t* __restrict block_min = planes.block_min_exponent.data();
  const int32_t* __restrict block_max = planes.block_max_exponent.data();
  const uint8_t* __restrict table_low = table.low.data();
  const uint8_t* __restrict table_high = table.high.data();
  for (int64_t l = 0; l < depth; ++l) {
    const uint32_t b = driving_mantissa[l];
    if (b == 0) continue;  // a zero: its ±0 products leave the sums unchanged
    const int32_t e_b = driving_exponent[l];
    const uint32_t s_b = driving_sign[l];
    const int64_t at = l * stride + first;
    const std::size_t row = (b & (kTableFractions - 1)) * kTableFractions;
    const int64_t extremes = l * blocks + block;
    if (e_b + block_min[extremes] >= min_exponent &&
        e_b + block_max[extremes] <= max_exponent - 2) {  // products up to 4 * 2^(e_a + e_b)
      const __m512i index = _mm512_loadu_si512(index_plane + at);
      const __m512i low = _mm512_permutex2var_epi8(_mm512_loadu_si512(table_low + row), index,
                                                   _mm512_loadu_si512(table_low + row + 64));
      const __m512i high = _mm512_permutex2var_epi8(_mm512_loadu_si512(table_high + row), index,
                                                    _mm512_loadu_si512(table_high + row + 64));
      const __m512i words_low = _mm512_unpacklo_epi8(low, high), words_high = _mm512_unpackhi_epi8(low, high);
      const __m512 scale_b = _mm512_set1_ps(power_of_two(e_b, s_b));
      const float* scale = scale_plane + at;
      sum0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, words_low)),
                             _mm512_mul_ps(_mm512_loadu_ps(scale), scale_b), sum0);
      sum1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, words_low)),
                             _mm512_mul_ps(_mm512_loadu_ps(scale + 16), scale_b), sum1);
      sum2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, words_high)),
                             _mm512_mul_ps(_mm512_loadu_ps(scale + 32), scale_b), sum2);
      sum3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, words_high)),
                             _mm512_mul_ps(_mm512_loadu_ps(scale + 48), scale_b), sum3);
      continue;
    }
    for (int64_t v = 0; v < kVectors; ++v) {
      for (int64_t lane = 0; lane < 16; ++lane) {
        const int64_t j = at + table_lane_element(v, lane);
        const std::size_t entry = row + index_plane[j];
        const uint32_t word = static_cast<uint32_t>(table_high[entry]) << 8 | table_low[entry];
        const uint32_t s = plan.sign[j] ^ s_b;
        const int32_t e = plan.exponent[j] + e_b + (static_cast<int32_t>(word >> 7) - 127);
        uint32_t bits = s | static_cast<uint32_t>(e + 127) << 23 | (word & 0x7fu) << 16;
        bits = (word == 0 || e < min_exponent) ? s : bits;
        bits = (e > max_exponent && word != 0) ? (s | 0x7f800000u) : bits;
        std::memcpy(&lanes[16 * v + lane], &bits, sizeof(bits));
      }
    }
    sum0 = _mm512_add_ps(sum0, _mm512_load_ps(lanes));
    sum1 = _mm512_add_ps(sum1, _mm512_load_ps(lanes + 16));
    sum2 = _mm512_add_ps(sum2, _mm512_load_ps(lanes + 32));
    sum3 = _mm512_add_ps(sum3, _mm512_load_ps(lanes + 48));
  }
  _mm512_store_ps(lanes, sum0);
  _mm512_store_ps(lanes + 16, sum1);
  _mm512_store_ps(lanes + 32, sum2);
  _mm512_store_ps(lanes + 48, sum3);
  for (int64_t v = 0; v < kVectors; ++v) {
    for (int64_t lane = 0; lane < 16; ++lane) sum[table_lane_element(v, lane)] = lanes[16 * v + lane];
  }
}
#endif

}  // namespace

bool approximate_gemm_lanes(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n, int64_t d,
                            const float* driving, const float* stored, float* out, StoredLayout layout,
                            LanePath path) {
  const auto& format = datapath.format().fp;
  const auto& config = datapath.config();
  if (!datapath.format().floating || config.operand_bits > 16 || accumulator.format.mantissa_bits < 23) return false;
  Plan plan;
  plan.n = config.operand_bits;
  plan.sensed_mask = static_cast<uint32_t>(~((uint64_t{1} << (2 * plan.n - sensed_columns(config))) - 1));
  plan.nearest_even = config.rounding == Rounding::NearestEven;
  plan.min_exponent = 2 - (1 << (format.exponent_bits - 1));
  plan.max_exponent = (1 << (format.exponent_bits - 1)) - 1;

  plan.top = config.variant == Variant::PrecomputedTop;
  plan.fp32_exponent_range = format.exponent_bits == 8;
  plan.may_sense_zero = sensed_columns(config) < 2;
  plan.k = plan.top ? config.k : digit_bits(config);

  // The stored operand decoded once, transposed to [d][n] and padded to whole blocks with zeros.
  const int64_t blocks = (n + kLanes - 1) / kLanes;
  const int64_t stride = blocks * kLanes;
  DecodedPlanes stored_planes(static_cast<std::size_t>(d * stride));
  for (int64_t l = 0; l < d; ++l) {
    const auto at = static_cast<std::size_t>(l * stride);
    const bool by_depth = layout == StoredLayout::ByDepth;
    if (!decode_finite(by_depth ? stored + l * n : stored + l, n, by_depth ? 1 : d, plan.n, plan.min_exponent,
                       plan.max_exponent, &stored_planes.mantissa[at], &stored_planes.exponent[at],
                       &stored_planes.sign[at])) {
      return false;
    }
  }
  bool finite = true;
  plan.mantissa = stored_planes.mantissa.data();
  plan.exponent = stored_planes.exponent.data();
  plan.sign = stored_planes.sign.data();
  plan.stride = stride;
  bool use_table = false;
#ifdef BITLINE_DAISM_AVX512
  use_table = path == LanePath::Fastest && plan.n == 8 && plan.fp32_exponent_range && cpu_has_avx512_lanes();
#endif
  const ProductTable* table = use_table ? &product_table(datapath) : nullptr;
  const TablePlanes planes = use_table ? table_planes(plan, d, blocks) : TablePlanes{};
#pragma omp parallel
  {
    DecodedPlanes row(static_cast<std::size_t>(d));
    alignas(64) float sum[kLanes];
#pragma omp for schedule(static) reduction(&& : finite)
    for (int64_t i = 0; i < m; ++i) {
      if (!decode_finite(driving + i * d, d, 1, plan.n, plan.min_exponent, plan.max_exponent, row.mantissa.data(),
                         row.exponent.data(), row.sign.data())) {
        finite = false;  // the reference recomputes everything
        continue;
      }
      for (int64_t block = 0; block < blocks; ++block) {
        std::fill(sum, sum + kLanes, 0.0f);
        const int64_t first = block * kLanes;
#ifdef BITLINE_DAISM_AVX512
        if (use_table) {
          table_block(plan, planes, *table, blocks, row.mantissa.data(), row.exponent.data(), row.sign.data(), d, block,
                      sum);
        } else {
          accumulate_block(plan, row.mantissa.data(), row.exponent.data(), row.sign.data(), d, first, sum);
        }
#else
        accumulate_block(plan, row.mantissa.data(), row.exponent.data(), row.sign.data(), d, first, sum);
#endif
        const int64_t lanes = std::min(kLanes, n - first);
        std::copy(sum, sum + lanes, out + i * n + first);
      }
    }
  }
  return finite;
}

bool lookup_table_path_available() {
#ifdef BITLINE_DAISM_AVX512
  return cpu_has_avx512_lanes();
#else
  return false;
#endif
}

}  // namespace bitline::core::daism
