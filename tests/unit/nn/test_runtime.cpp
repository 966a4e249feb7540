#include "nn/runtime.h"

#include <gtest/gtest.h>

namespace bitline::nn {
namespace {

// Debian's LibTorch calls the libblas.so.3 alternative; scripts/install-deps.sh points it at
// OpenBLAS. If this fails, fp32 GEMMs run on the reference BLAS, about 30x slower.
TEST(Runtime, LibTorchBlasIsOpenBlas) {
  const BlasInfo blas = detect_blas();
  EXPECT_TRUE(blas.is_openblas) << "sgemm_ comes from '" << blas.sgemm_library << "'";
  EXPECT_FALSE(blas.openblas_config.empty());
}

TEST(Runtime, ThreadCountIsSetExplicitly) {
  set_threads(2);
  EXPECT_EQ(threads(), 2);
  set_threads(1);
  EXPECT_EQ(threads(), 1);
}

}  // namespace
}  // namespace bitline::nn
