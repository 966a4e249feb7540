#include "core/sot_mram/kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

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
    int drop = 0;
    Signed clear_offset = 0;  // field bits of the smaller addend to clear: exponent distance + this
    T smallest = 0, largest = 0;
  };
  static Plan plan_of(const NumberFormat& format, Rounding rounding) {
    Plan plan;
    plan.truncate = rounding == Rounding::TowardZero;
    plan.drop = Traits::kFieldBits - format.mantissa_bits;
    plan.drop_mask = (Bits{1} << plan.drop) - 1;
    plan.half_minus_one = (plan.drop_mask >> 1);
    plan.clear_offset = plan.drop - guard_bits(format, rounding);
    plan.smallest = static_cast<T>(smallest_normal(format));
    plan.largest = static_cast<T>(largest_finite(format));
    return plan;
  }

  [[gnu::always_inline]] static inline BitVector bits(Value v) { return (BitVector)v; }  // the same bits
  [[gnu::always_inline]] static inline Value value(BitVector b) { return (Value)b; }

  // Rounding to the format's mantissa, then the range checks (fp_format.cpp's finish).
  [[gnu::always_inline]] static inline Value finish(Value v, const Plan& plan) {
    BitVector b = bits(v);
    if (!plan.truncate) b += plan.half_minus_one + ((b >> plan.drop) & 1);
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

}  // namespace

void fp_gemm(const NumberFormat& format, Rounding rounding, int64_t m, int64_t n, int64_t d, const float* driving,
             const float* stored, float* out, StoredLayout layout) {
  if (m == 0 || n == 0) return;
  if (format.mantissa_bits <= 10) {
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
