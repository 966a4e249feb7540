#include "nn/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

namespace bitline::nn {

void set_threads(int threads) { at::set_num_threads(threads); }

int threads() { return at::get_num_threads(); }

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
