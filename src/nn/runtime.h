#pragma once
// Process-wide LibTorch settings and checks of the numeric backend.
#include <string>

namespace bitline::nn {

// Sets LibTorch's intra-op threads (it defaults to 1 on some machines) and OpenMP's.
void set_threads(int threads);
int threads();

// Keeps memory the process frees for its next allocations instead of returning it to the
// system (glibc malloc; a no-op elsewhere). Layers allocate and free tensors of up to tens of MB
// per call; handing them back made every call page-fault them in again (about 15 % of a simulated
// layer's time, and a quarter of resnet20's fp32 forward pass).
void retain_freed_memory();

struct BlasInfo {
  std::string sgemm_library;   // the shared object that provides sgemm_, symlinks resolved
  bool is_openblas = false;
  std::string openblas_config; // openblas_get_config(), when OpenBLAS is loaded
};
// Which BLAS LibTorch's sgemm_ calls resolve to. Debian's libtorch links the libblas.so.3
// alternative; when that is the reference BLAS, fp32 GEMMs run about 30x slower.
BlasInfo detect_blas();

}  // namespace bitline::nn
