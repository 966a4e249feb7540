#pragma once
// The SOT-MRAM FP engine's products, fast: the multiply and add of core/sot_mram/fp_format.h on
// SIMD lanes (bit for bit equal to it; tests), for training on the engine. Values of formats with at
// most 10 mantissa bits (bf16, fp16) travel in float lanes: their products (at most 22 bits) are exact
// in a float, a truncated sum (at most m + 3 bits) too, and rounding a float sum to the format again
// is innocuous (24 >= 2 (m + 1) + 2, Figueroa 1995). Wider formats travel in double lanes, for the
// same reasons.
#include <cstdint>

#include "core/events.h"
#include "core/rounding.h"

namespace bitline::core::sot_mram {

// How a GEMM's stored operand is laid out: [n, d] (one stored element's depth contiguous) or [d, n].
enum class StoredLayout { ByElement, ByDepth };

// out [m, n] = Σ_d multiply(driving [m, d], stored element (j, d)), summed with add in d order from
// +0: the engine's dot products, all in the format. Operands must be values of the format
// (to_format). The lanes run in parallel over row blocks (OpenMP); the result does not depend on it.
void fp_gemm(const NumberFormat& format, Rounding rounding, int64_t m, int64_t n, int64_t d, const float* driving,
             const float* stored, float* out, StoredLayout layout);
// out[i] = to_format(values[i]) for count values, on the lanes (in parallel); out may be values.
void to_format_lanes(const float* values, int64_t count, const NumberFormat& format, float* out);

// The same GEMM with the scalar functional model, one operation at a time (the tests' reference).
void fp_gemm_reference(const NumberFormat& format, Rounding rounding, int64_t m, int64_t n, int64_t d,
                       const float* driving, const float* stored, float* out, StoredLayout layout);

}  // namespace bitline::core::sot_mram
