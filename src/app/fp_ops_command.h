#pragma once
// `bitline fp-ops`: what one in-memory floating-point multiply and add cost on the SOT-MRAM engine and
// on the FloatPIM-style MAGIC NOR baseline (docs/mram_validation.md): the programs' expected primitive
// counts, cycles, time and energy per operation, beside the published NOR-based figures.
#include <cstdint>
#include <string>

namespace bitline::app {

// The most operand pairs --samples takes: about a minute on 2 cores (docs/mram_validation.md).
constexpr int64_t kMaxFpOpsSamples = 1000000;

struct FpOpsOptions {
  std::string format = "bf16";  // bf16, fp16, fp32 or eXmY (e.g. e5m2)
  std::string rounding = "toward_zero";
  int64_t samples = 2048;
};

int run_fp_ops_command(const FpOpsOptions& options);

}  // namespace bitline::app
