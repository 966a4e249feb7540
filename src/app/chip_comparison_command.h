#pragma once
// `bitline daism-chip`: a config's DAISM macro on its chip beside the two baselines of
// core/daism/chip_comparison.h (docs/daism_validation.md): energy, cycles, TOPS/W and TOPS/mm² of
// one GEMM, on the terminal and in <run_dir>/chip_comparison_<macro>.{json,csv}.
#include <string>

namespace bitline::app {

struct ChipComparisonOptions {
  std::string config_path;
  std::string macro;                // a daism macro's name; empty: the config's first daism macro
  std::string gemm = "8192,64,576";  // m,n,k: the reference conv (64 -> 64, 3x3, 32x32, batch 8)
};

int run_chip_comparison_command(const ChipComparisonOptions& options);

}  // namespace bitline::app
