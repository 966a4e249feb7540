#pragma once
// `bitline multiplier`: characterizes DAISM multiplier variants over a format's operands
// (docs/macros/daism.md): the error table on the terminal, and per variant a CSV of the error over
// every operand pair plus one summary.json.
#include <cstdint>
#include <string>

namespace bitline::app {

struct MultiplierCommandOptions {
  std::string format = "bf16";
  std::string variants = "exact,or,pc2,pc3,pc4,top2,top3,top4";  // comma-separated short names
  int kept_columns = 0;                                          // 0: all 2n
  std::string rounding = "toward_zero";
  int64_t max_pairs = int64_t{1} << 20;  // more pairs than this: a random sample of this many
  uint64_t seed = 1;
  std::string output_dir;  // empty: runs/multiplier/<format>
  bool csv = true;
};

int run_multiplier_command(const MultiplierCommandOptions& options);

}  // namespace bitline::app
