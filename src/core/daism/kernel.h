#pragma once
// The lane-parallel kernel of DAISM's approximate GEMM (core/daism/macro.h): one driving element
// broadcast against the stored elements of its K index, their raised rows ORed lane by lane, the
// datapath's normalisation, rounding and range checks branch-free, and the fp32 accumulation in K
// order, as Datapath::multiply and Accumulator::add define them (tests: bit for bit).
#include <cstdint>

#include "core/daism/number_format.h"

namespace bitline::core::daism {

// How a GEMM's stored operand is laid out: [n, d] (one stored element's depth contiguous) or [d, n].
enum class StoredLayout { ByElement, ByDepth };

// How the lanes form the mantissa products. Table: bf16 on a CPU with AVX-512 (BW, VBMI), the normalised
// product of every pair of 8-bit mantissas looked up (built from Datapath::multiply), exponents and
// signs applied by a float multiply where the block's exponents keep every product normal. Computed:
// the raised rows ORed in the lanes. Fastest: Table where it applies, else Computed.
enum class LanePath { Fastest, Computed };

// Whether LanePath::Fastest takes the Table path for bf16 on this CPU (AVX-512 BW and VBMI); elsewhere
// Fastest is Computed. For tests, which say which path they ran.
bool lookup_table_path_available();

// out [m, n] = Σ_d product(stored [n, d], driving [m, d]), on the lanes; false (out unspecified)
// for products they do not take: operands wider than 16 bits (fp32), accumulators narrower than
// fp32, an operand not finite in the format. The scalar reference computes those.
bool approximate_gemm_lanes(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n, int64_t d,
                            const float* driving, const float* stored, float* out, StoredLayout layout,
                            LanePath path = LanePath::Fastest);

}  // namespace bitline::core::daism
