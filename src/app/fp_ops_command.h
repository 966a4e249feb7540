#pragma once
// `bitline fp-ops`: what one in-memory floating-point multiply and add cost on the SOT-MRAM engine and
// on the FloatPIM-style MAGIC NOR baseline (docs/mram_validation.md): the programs' expected primitive
// counts, cycles, time and energy per operation, beside the published NOR-based figures.
#include <string>

namespace bitline::app {

struct FpOpsOptions {
  std::string format = "bf16";  // bf16, fp16, fp32 or eXmY (e.g. e5m2)
  std::string rounding = "toward_zero";
  int samples = 2048;
};

int run_fp_ops_command(const FpOpsOptions& options);

}  // namespace bitline::app
