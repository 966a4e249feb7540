#include "nn/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdlib>
#include <filesystem>

namespace bitline::nn {

void set_threads(int threads) { at::set_num_threads(threads); }

int threads() { return at::get_num_threads(); }

void retain_freed_memory() {
#if defined(__GLIBC__)
  // Blocks up to glibc's largest mmap threshold (32 MiB) come from the heap, and the heap's top is
  // never trimmed: freed blocks are reused as they are.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);
#endif
}

BlasInfo detect_blas() {
  BlasInfo info;
  // Make sure LibTorch's BLAS is loaded, then ask the dynamic linker who answers sgemm_.
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (sgemm != nullptr && dladdr(sgemm, &where) != 0 && where.dli_fname != nullptr) {
    std::error_code error;
    auto resolved = std::filesystem::canonical(where.dli_fname, error);
    info.sgemm_library = error ? where.dli_fname : resolved.string();
  }
  using ConfigFunction = char* (*)();
  if (auto get_config = reinterpret_cast<ConfigFunction>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    info.openblas_config = get_config();
  }
  info.is_openblas = info.sgemm_library.find("openblas") != std::string::npos;
  return info;
}

}  // namespace bitline::nn
