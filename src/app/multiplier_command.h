#pragma once
// `bitline multiplier`: characterizes DAISM multiplier variants over a format's operands
// (docs/macros/daism.md): the error table on the terminal, and per variant a CSV of the error over
// every operand pair plus one summary.json.
#include <cstdint>
#include <optional>
#include <string>

namespace bitline::app {

// The most operand pairs --max-pairs takes, so that a run ends in minutes on 2 cores and its CSVs fit
// in memory (docs/macros/daism.md): each CSV row is built in memory (about 80 bytes per pair and variant).
constexpr int64_t kMaxMultiplierPairsWithCsv = int64_t{1} << 22;
constexpr int64_t kMaxMultiplierPairs = int64_t{1} << 27;  // --no-csv

struct MultiplierCommandOptions {
  std::string format = "bf16";
  std::string variants = "exact,or,pc2,pc3,pc4,top2,top3,top4";  // comma-separated short names
  int kept_columns = 0;                                          // 0: all 2n
  std::string rounding = "toward_zero";
  int64_t max_pairs = int64_t{1} << 20;  // more pairs than this: a random sample of this many
  int64_t seed = 1;  // in [0, 2^63 - 1]
  std::optional<std::string> output_dir;  // none: runs/multiplier/<format>
  bool csv = true;
};

int run_multiplier_command(const MultiplierCommandOptions& options);

}  // namespace bitline::app
