#include "core/sot_mram/kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#if !defined(__clang__)
// GCC 12 warns inside its own AVX-512 intrinsics (their _mm512_undefined pass-through operands).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

#include "core/sot_mram/fp_format.h"

// Vectors of 64 bytes (GCC/Clang vector extensions, lowered to AVX-512, AVX2 or SSE by target).
// Passing them by value changes the ABI across targets (-Wpsabi); they are only used inlined.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace bitline::core::sot_mram {
namespace {

template <class T>
struct LaneTraits;
template <>
struct LaneTraits<float> {
  using Bits = uint32_t;
  using Signed = int32_t;
  using Value = float __attribute__((vector_size(64)));
  using BitVector = uint32_t __attribute__((vector_size(64)));
  using SignedVector = int32_t __attribute__((vector_size(64)));
  static constexpr int kFieldBits = 23;
  static constexpr Bits kExponentMask = 0xff;
};
template <>
struct LaneTraits<double> {
  using Bits = uint64_t;
  using Signed = int64_t;
  using Value = double __attribute__((vector_size(64)));
  using BitVector = uint64_t __attribute__((vector_size(64)));
  using SignedVector = int64_t __attribute__((vector_size(64)));
  static constexpr int kFieldBits = 52;
  static constexpr Bits kExponentMask = 0x7ff;
};

template <class T>
struct Lanes {
  using Traits = LaneTraits<T>;
  using Bits = typename Traits::Bits;
  using Signed = typename Traits::Signed;
  static constexpr int kCount = 64 / sizeof(T);
  using Value = typename Traits::Value;  // the attribute cannot apply to a dependent type
  using BitVector = typename Traits::BitVector;
  using SignedVector = typename Traits::SignedVector;
  static constexpr Bits kSignBit = Bits{1} << (8 * sizeof(T) - 1);

  // What the lanes need of the format, broadcast.
  struct Plan {
    bool truncate = true;
    Bits drop_mask = 0;       // the field bits below the format's mantissa
    Bits half_minus_one = 0;  // nearest even: added before the mask, with the kept LSB
    Bits lsb_mask = 0;        // 1, or 0 when no bit is dropped (the format fills the field)
    int drop = 0;
    Signed clear_offset = 0;  // field bits of the smaller addend to clear: exponent distance + this
    T smallest = 0, largest = 0;
    NumberFormat format;
  };
  static Plan plan_of(const NumberFormat& format, Rounding rounding) {
    Plan plan;
    plan.truncate = rounding == Rounding::TowardZero;
    plan.drop = Traits::kFieldBits - format.mantissa_bits;
    plan.drop_mask = (Bits{1} << plan.drop) - 1;
    plan.half_minus_one = (plan.drop_mask >> 1);
    plan.lsb_mask = plan.drop > 0 ? 1 : 0;
    plan.clear_offset = plan.drop - guard_bits(format, rounding);
    plan.smallest = static_cast<T>(smallest_normal(format));
    plan.largest = static_cast<T>(largest_finite(format));
    plan.format = format;
    return plan;
  }

  [[gnu::always_inline]] static inline BitVector bits(Value v) { return (BitVector)v; }  // the same bits
  [[gnu::always_inline]] static inline Value value(BitVector b) { return (Value)b; }

  // Rounding to the format's mantissa, then the range checks (fp_format.cpp's finish).
  [[gnu::always_inline]] static inline Value finish(Value v, const Plan& plan) {
    BitVector b = bits(v);
    if (!plan.truncate) b += plan.half_minus_one + ((b >> plan.drop) & plan.lsb_mask);
    b &= ~plan.drop_mask;
    const BitVector sign = b & kSignBit;
    const Value magnitude = value(b & ~kSignBit);
    const T infinity = std::numeric_limits<T>::infinity();
    b = magnitude > plan.largest ? (sign | bits(Value{} + infinity)) : b;
    b = magnitude < plan.smallest ? sign : b;
    return value(b);
  }

  [[gnu::always_inline]] static inline Value multiply(Value a, Value b, const Plan& plan) {
    return finish(a * b, plan);  // exact product; zeros, infinities and NaN as IEEE
  }

  [[gnu::always_inline]] static inline Value add(Value a, Value b, const Plan& plan) {
    if (!plan.truncate) return finish(a + b, plan);
    // Order by magnitude; clear the smaller addend's bits below the alignment register's last bit
    // (all of it, but its sign, when it falls past the register).
    const BitVector a_bits = bits(a), b_bits = bits(b);
    const auto swap = (b_bits & ~kSignBit) > (a_bits & ~kSignBit);
    const BitVector larger = swap ? b_bits : a_bits, smaller = swap ? a_bits : b_bits;
    const SignedVector distance = (SignedVector)((larger >> Traits::kFieldBits) & Traits::kExponentMask) -
                                  (SignedVector)((smaller >> Traits::kFieldBits) & Traits::kExponentMask);
    const SignedVector cleared = distance + plan.clear_offset;  // >= 0
    const auto lost = cleared > Traits::kFieldBits;
    const BitVector shift = (BitVector)(lost ? SignedVector{} : cleared);
    const BitVector clear_mask = lost ? BitVector{} + ~kSignBit : ((BitVector{} + 1) << shift) - 1;
    const Value aligned = value(smaller & ~clear_mask);
    return finish(value(larger) + aligned, plan);  // exact: at most m + 3 bits
  }
};

// out rows [first, first + kRows) (fewer at the end): blocks of kRows rows and kVectors vectors of
// lanes, the sums in registers across d. Several independent sums hide the latency of the add's
// dependent steps.
template <class T, int kRows>
[[gnu::always_inline]] inline void gemm_block(const typename Lanes<T>::Plan& plan, int64_t first, int64_t n_padded, int64_t n, int64_t d,
                const float* driving, const T* stored_by_depth, float* out) {
  using L = Lanes<T>;
  using Value = typename L::Value;
  constexpr int kVectors = 2;
  constexpr int64_t kBlock = kVectors * L::kCount;
  for (int64_t j0 = 0; j0 < n_padded; j0 += kBlock) {
    Value sum[kRows][kVectors];
    for (auto& row : sum) {
      for (auto& s : row) s = Value{} + T(0);
    }
    for (int64_t k = 0; k < d; ++k) {
      const T* w = stored_by_depth + k * n_padded + j0;
      Value wv[kVectors];
      for (int v = 0; v < kVectors; ++v) std::memcpy(&wv[v], w + v * L::kCount, sizeof(Value));
      for (int r = 0; r < kRows; ++r) {
        const Value xk = Value{} + static_cast<T>(driving[(first + r) * d + k]);
        for (int v = 0; v < kVectors; ++v) sum[r][v] = L::add(sum[r][v], L::multiply(xk, wv[v], plan), plan);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      alignas(64) T lanes[kBlock];
      for (int v = 0; v < kVectors; ++v) std::memcpy(lanes + v * L::kCount, &sum[r][v], sizeof(Value));
      for (int64_t j = j0; j < std::min(j0 + kBlock, n); ++j) out[(first + r) * n + j] = static_cast<float>(lanes[j - j0]);
    }
  }
}

constexpr int64_t kRowsPerBlock = 4;

// Inlined into each target clone below, so that the lanes compile for that target.
template <class T>
[[gnu::always_inline]] inline void gemm_rows(const typename Lanes<T>::Plan& plan, int64_t first_row, int64_t end_row, int64_t n_padded, int64_t n,
               int64_t d, const float* driving, const T* stored_by_depth, float* out) {
  int64_t i = first_row;
  for (; i + kRowsPerBlock <= end_row; i += kRowsPerBlock) {
    gemm_block<T, kRowsPerBlock>(plan, i, n_padded, n, d, driving, stored_by_depth, out);
  }
  for (; i < end_row; ++i) gemm_block<T, 1>(plan, i, n_padded, n, d, driving, stored_by_depth, out);
}

#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
void gemm_float_lanes(const Lanes<float>::Plan& plan, int64_t first_row, int64_t end_row, int64_t n_padded, int64_t n,
                      int64_t d, const float* driving, const float* stored_by_depth, float* out) {
  gemm_rows<float>(plan, first_row, end_row, n_padded, n, d, driving, stored_by_depth, out);
}

#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
void gemm_double_lanes(const Lanes<double>::Plan& plan, int64_t first_row, int64_t end_row, int64_t n_padded,
                       int64_t n, int64_t d, const float* driving, const double* stored_by_depth, float* out) {
  gemm_rows<double>(plan, first_row, end_row, n_padded, n, d, driving, stored_by_depth, out);
}

#if defined(__x86_64__) && !defined(__clang__)
// Truncation in formats with fp32's exponent range (bf16) on AVX-512: the same operations as
// Lanes<float> with the masks in mask registers, and without the overflow checks, which cannot fire
// (a product or truncated sum above the format's largest finite is a float infinity already).
#define BITLINE_SOT_MRAM_AVX512 1

bool cpu_has_avx512() {
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return supported;
}

struct TruncationE8 {
  __m512i drop_mask;  // the field bits below the format's mantissa (cleared)
  __m512i clear_offset;
};

__attribute__((target("avx512f,avx512dq"), always_inline)) inline __m512 flush_below_normal(__m512i bits) {
  // An exponent field of 0 (fp32 subnormals and zeros): below the format's smallest normal, ±0.
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __mmask16 below = _mm512_testn_epi32_mask(bits, _mm512_set1_epi32(0x7f800000));
  return _mm512_castsi512_ps(_mm512_mask_and_epi32(bits, below, bits, sign));
}

__attribute__((target("avx512f,avx512dq"), always_inline)) inline __m512 multiply_e8(__m512 a, __m512 b,
                                                                                      const TruncationE8& plan) {
  const __m512i product = _mm512_castps_si512(_mm512_mul_ps(a, b));  // exact
  return flush_below_normal(_mm512_andnot_si512(plan.drop_mask, product));
}

__attribute__((target("avx512f,avx512dq"), always_inline)) inline __m512 add_e8(__m512 a, __m512 b,
                                                                                 const TruncationE8& plan) {
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  const __m512i a_bits = _mm512_castps_si512(a), b_bits = _mm512_castps_si512(b);
  const __m512i a_magnitude = _mm512_and_si512(a_bits, magnitude), b_magnitude = _mm512_and_si512(b_bits, magnitude);
  const __mmask16 swap = _mm512_cmpgt_epu32_mask(b_magnitude, a_magnitude);
  const __m512i larger = _mm512_mask_blend_epi32(swap, a_bits, b_bits);
  const __m512i smaller = _mm512_mask_blend_epi32(swap, b_bits, a_bits);
  const __m512i distance = _mm512_abs_epi32(
      _mm512_sub_epi32(_mm512_srli_epi32(a_magnitude, 23), _mm512_srli_epi32(b_magnitude, 23)));
  const __m512i cleared = _mm512_add_epi32(distance, plan.clear_offset);
  const __mmask16 kept = _mm512_cmple_epi32_mask(cleared, _mm512_set1_epi32(23));  // else shifted out whole
  const __m512i keep = _mm512_sllv_epi32(_mm512_set1_epi32(-1), cleared);
  const __m512i aligned = _mm512_maskz_and_epi32(kept, smaller, keep);
  const __m512i sum = _mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(larger), _mm512_castsi512_ps(aligned)));
  return flush_below_normal(_mm512_andnot_si512(plan.drop_mask, sum));
}

template <int kRows>
__attribute__((target("avx512f,avx512dq"), always_inline)) inline void gemm_block_e8(
    const TruncationE8& plan, int64_t first, int64_t n_padded, int64_t n, int64_t d, const float* driving,
    const float* stored_by_depth, float* out) {
  constexpr int kVectors = 2;
  for (int64_t j0 = 0; j0 < n_padded; j0 += 16 * kVectors) {
    __m512 sum[kRows][kVectors];
    for (auto& row : sum) {
      for (auto& s : row) s = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < d; ++k) {
      const float* w = stored_by_depth + k * n_padded + j0;
      const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
      for (int r = 0; r < kRows; ++r) {
        const __m512 x = _mm512_set1_ps(driving[(first + r) * d + k]);
        sum[r][0] = add_e8(sum[r][0], multiply_e8(x, w0, plan), plan);
        sum[r][1] = add_e8(sum[r][1], multiply_e8(x, w1, plan), plan);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      alignas(64) float lanes[16 * kVectors];
      _mm512_store_ps(lanes, sum[r][0]);
      _mm512_store_ps(lanes + 16, sum[r][1]);
      for (int64_t j = j0; j < std::min<int64_t>(j0 + 16 * kVectors, n); ++j) out[(first + r) * n + j] = lanes[j - j0];
    }
  }
}

__attribute__((target("avx512f,avx512dq"))) void gemm_truncation_e8(const Lanes<float>::Plan& lanes_plan,
                                                                   int64_t first_row, int64_t end_row, int64_t n_padded,
                                                                   int64_t n, int64_t d, const float* driving,
                                                                   const float* stored_by_depth, float* out) {
  const TruncationE8 plan{_mm512_set1_epi32(static_cast<int>(lanes_plan.drop_mask)),
                          _mm512_set1_epi32(static_cast<int>(lanes_plan.clear_offset))};
  int64_t i = first_row;
  for (; i + kRowsPerBlock <= end_row; i += kRowsPerBlock) {
    gemm_block_e8<kRowsPerBlock>(plan, i, n_padded, n, d, driving, stored_by_depth, out);
  }
  for (; i < end_row; ++i) gemm_block_e8<1>(plan, i, n_padded, n, d, driving, stored_by_depth, out);
}
#endif

// The stored operand as [d][n_padded] in the lanes' type, zeros past n.
template <class T>
std::vector<T> stored_by_depth(const float* stored, int64_t n, int64_t d, int64_t n_padded, StoredLayout layout) {
  std::vector<T> result(static_cast<std::size_t>(d * n_padded), T(0));
  for (int64_t k = 0; k < d; ++k) {
    for (int64_t j = 0; j < n; ++j) {
      result[k * n_padded + j] = layout == StoredLayout::ByDepth ? stored[k * n + j] : stored[j * d + k];
    }
  }
  return result;
}

template <class T, class Kernel>
void run_lanes(const NumberFormat& format, Rounding rounding, int64_t m, int64_t n, int64_t d, const float* driving,
               const float* stored, float* out, StoredLayout layout, Kernel kernel) {
  constexpr int64_t kBlock = 2 * Lanes<T>::kCount;
  const int64_t n_padded = (n + kBlock - 1) / kBlock * kBlock;
  const auto plan = Lanes<T>::plan_of(format, rounding);
  const auto by_depth = stored_by_depth<T>(stored, n, d, n_padded, layout);
  constexpr int64_t kRowsPerTask = 4 * kRowsPerBlock;
#pragma omp parallel for schedule(dynamic)
  for (int64_t first = 0; first < m; first += kRowsPerTask) {
    kernel(plan, first, std::min(first + kRowsPerTask, m), n_padded, n, d, driving, by_depth.data(), out);
  }
}

// to_format on float lanes: fp32 subnormals flushed, the mantissa rounded to nearest even (a carry
// renormalises), the range checks; NaN made the quiet NaN.
#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
void to_format_block(const Lanes<float>::Plan& plan, const float* values, int64_t count, float* out) {
  using L = Lanes<float>;
  using BitVector = L::BitVector;
  int64_t i = 0;
  for (; i + L::kCount <= count; i += L::kCount) {
    L::Value v;
    std::memcpy(&v, values + i, sizeof(v));
    BitVector b = L::bits(v);
    b = (b & 0x7f800000u) == 0 ? (b & L::kSignBit) : b;  // fp32 subnormals
    const BitVector nan = v != v;
    v = L::finish(L::value(b), plan);
    v = L::value(nan ? BitVector{} + 0x7fc00000u : L::bits(v));
    std::memcpy(out + i, &v, sizeof(v));
  }
  for (; i < count; ++i) out[i] = to_format(values[i], plan.format);
}

}  // namespace

void to_format_lanes(const float* values, int64_t count, const NumberFormat& format, float* out) {
  auto plan = Lanes<float>::plan_of(format, Rounding::NearestEven);
  constexpr int64_t kChunk = 1 << 14;
#pragma omp parallel for schedule(static)
  for (int64_t first = 0; first < count; first += kChunk) {
    to_format_block(plan, values + first, std::min(kChunk, count - first), out + first);
  }
}

void fp_gemm(const NumberFormat& format, Rounding rounding, int64_t m, int64_t n, int64_t d, const float* driving,
             const float* stored, float* out, StoredLayout layout) {
  if (m == 0 || n == 0) return;
  if (format.mantissa_bits <= 10) {
#ifdef BITLINE_SOT_MRAM_AVX512
    if (format.exponent_bits == 8 && rounding == Rounding::TowardZero && cpu_has_avx512()) {
      run_lanes<float>(format, rounding, m, n, d, driving, stored, out, layout, gemm_truncation_e8);
      return;
    }
#endif
    run_lanes<float>(format, rounding, m, n, d, driving, stored, out, layout, gemm_float_lanes);
  } else {
    run_lanes<double>(format, rounding, m, n, d, driving, stored, out, layout, gemm_double_lanes);
  }
}

void fp_gemm_reference(const NumberFormat& format, Rounding rounding, int64_t m, int64_t n, int64_t d,
                       const float* driving, const float* stored, float* out, StoredLayout layout) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t k = 0; k < d; ++k) {
        const float w = layout == StoredLayout::ByDepth ? stored[k * n + j] : stored[j * d + k];
        sum = add(sum, multiply(driving[i * d + k], w, format, rounding), format, rounding);
      }
      out[i * n + j] = sum;
    }
  }
}

}  // namespace bitline::core::sot_mram
