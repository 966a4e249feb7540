#include "core/daism/kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

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

// decode() as plain integer operations that vectorise: the mantissa rounded to n bits (nearest,
// ties to even), values below the format's smallest normal flushed to zero. Returns false when a
// value is not finite in the format (Inf, NaN, or rounding past its largest): the lanes do not
// take those.
#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
bool decode_finite(const float* __restrict values, int64_t count, int64_t stride, int n, int32_t min_exponent,
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

}  // namespace

bool approximate_gemm_lanes(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n, int64_t d,
                            const float* driving, const float* stored, float* out, StoredLayout layout) {
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
        accumulate_block(plan, row.mantissa.data(), row.exponent.data(), row.sign.data(), d, first, sum);
        const int64_t lanes = std::min(kLanes, n - first);
        std::copy(sum, sum + lanes, out + i * n + first);
      }
    }
  }
  return finite;
}

}  // namespace bitline::core::daism
