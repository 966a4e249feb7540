#include "app/multiplier_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/daism/characterize.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {
namespace {

using core::daism::Datapath;
using core::daism::ErrorStatistics;

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream stream(list);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

nlohmann::json to_json(const ErrorStatistics& stats) {
  return {{"pairs", stats.pairs},
          {"inexact_share", stats.inexact_share()},
          {"mean_relative_error", stats.mean_relative_error},
          {"mean_absolute_relative_error", stats.mean_absolute_relative_error},
          {"worst_relative_error", stats.worst_relative_error},
          {"worst_stored", stats.worst_stored},
          {"worst_driving", stats.worst_driving},
          {"bias", stats.bias}};
}

std::string percent(double fraction) { return fmt::format("{:.3f}", 100 * fraction); }

// The datapaths of the options, every setting checked before anything runs.
std::vector<Datapath> datapaths(const MultiplierCommandOptions& options) {
  core::daism::OperandFormat format;
  try {
    format = core::daism::parse_operand_format(options.format);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("--format: {}", error.what()));
  }
  core::daism::MultiplierConfig base;
  base.operand_bits = format.operand_bits();
  base.kept_columns = options.kept_columns;
  try {
    base.rounding = core::parse_rounding(options.rounding);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("--rounding: {}", error.what()));
  }
  const int64_t most_pairs = options.csv ? kMaxMultiplierPairsWithCsv : kMaxMultiplierPairs;
  if (options.max_pairs < 1 || options.max_pairs > most_pairs) {
    throw InputError(fmt::format("--max-pairs: expected an integer in [1, {}]{}, found {}", most_pairs,
                                 options.csv ? fmt::format(" (with --no-csv: up to {})", kMaxMultiplierPairs) : "",
                                 options.max_pairs));
  }
  if (options.seed < 0) throw InputError(fmt::format("--seed: expected an integer >= 0, found {}", options.seed));
  const auto names = split_commas(options.variants);
  if (names.empty()) throw InputError("--variants: expected a comma-separated list, e.g. or,pc2,pc3, found nothing");
  std::vector<Datapath> result;
  for (const auto& name : names) {
    try {
      result.emplace_back(format, core::daism::parse_short_name(name, base));
    } catch (const std::invalid_argument& error) {
      const std::string option =
          std::string(error.what()).find("kept_columns") != std::string::npos ? "--kept-columns" : "--variants";
      throw InputError(fmt::format("{} (variant '{}' on {}): {}", option, name, options.format, error.what()));
    }
  }
  return result;
}

}  // namespace

int run_multiplier_command(const MultiplierCommandOptions& options) {
  const auto paths = datapaths(options);
  const std::filesystem::path dir = options.output_dir ? std::filesystem::path(*options.output_dir)
                                                       : std::filesystem::path("runs/multiplier") / options.format;
  io::prepare_output_directory(dir, {"*.csv", "summary.json", "*.tmp-*"}, "--output-dir");

  const auto& format = paths.front().format();
  const int n = paths.front().config().operand_bits;
  const int columns = core::daism::sensed_columns(paths.front().config());
  nlohmann::json summary = {
      {"format", options.format},
      {"operand_bits", n},
      {"kept_columns", columns},
      {"rounding", options.rounding},
      {"operands", format.floating ? "normalised mantissas, values in [1, 2)" : "nonzero magnitudes, sign-magnitude"},
      {"stored_operand", "the first of each pair (in the array); the second drives the wordlines"},
      {"variants", nlohmann::json::array()}};
  fmt::print("bitline multiplier: {} operands (n = {}), {} of {} product columns sensed, rounding {}\n", options.format,
             n, columns, 2 * n, options.rounding);
  const std::string product_label = format.floating ? options.format + " product" : "product";
  fmt::print("{:<8} {:>5} {:>5} | {:>34} | {:>44}\n", "", "", "", "mantissa product (integer)",
             product_label + " (normalised, rounded)");
  fmt::print("{:<8} {:>5} {:>5} | {:>8} {:>8} {:>8} {:>7} | {:>8} {:>8} {:>8} {:>7} {:>8}\n", "variant", "rows", "adds",
             "mean %", "|mean| %", "worst %", "inexact", "mean %", "|mean| %", "worst %", "inexact", "bias %");
  bool exhaustive = true;
  int64_t pairs = 0;
  for (const auto& datapath : paths) {
    const auto name = core::daism::short_name(datapath.config());
    std::string csv;
    if (options.csv) csv = "stored,driving,exact,approximate,relative_error\n";
    const auto result = core::daism::characterize(datapath, options.max_pairs, static_cast<uint64_t>(options.seed), [&](const auto& sample) {
      if (!options.csv) return;
      fmt::format_to(std::back_inserter(csv), "{},{},{},{},{}\n", sample.stored, sample.driving, sample.exact,
                     sample.approximate, (sample.approximate - sample.exact) / sample.exact);
    });
    exhaustive = result.exhaustive;
    pairs = result.product.pairs;
    if (options.csv) io::write_file_atomically(dir / (name + ".csv"), csv);
    const auto& m = result.mantissa_product;
    const auto& p = result.product;
    const int rows = core::daism::rows_per_operand(datapath.config(), format.floating);
    const int adds = core::daism::precompute_additions(datapath.config());
    fmt::print("{:<8} {:>5} {:>5} | {:>8} {:>8} {:>8} {:>6.1f}% | {:>8} {:>8} {:>8} {:>6.1f}% {:>8}\n", name, rows,
               adds, percent(m.mean_relative_error), percent(m.mean_absolute_relative_error),
               percent(m.worst_relative_error), 100 * m.inexact_share(), percent(p.mean_relative_error),
               percent(p.mean_absolute_relative_error), percent(p.worst_relative_error), 100 * p.inexact_share(),
               percent(p.bias));
    summary["variants"].push_back({{"variant", name},
                                   {"kind", core::daism::to_string(datapath.config().variant)},
                                   {"k", core::daism::digit_bits(datapath.config())},
                                   {"rows_per_operand", rows},
                                   {"precompute_additions", adds},
                                   {"mantissa_product", to_json(m)},
                                   {"product", to_json(p)},
                                   {"csv", options.csv ? name + ".csv" : ""}});
  }
  summary["exhaustive"] = exhaustive;
  summary["pairs"] = pairs;
  if (!exhaustive) summary["seed"] = options.seed;
  fmt::print("{} pairs per variant{}; rows: array rows per stored operand; adds: precomputing additions per write\n",
             pairs,
             exhaustive ? " (every pair)" : fmt::format(" (a random sample, seed {}; --max-pairs)", options.seed));
  io::write_file_atomically(dir / "summary.json", summary.dump(2) + "\n");
  fmt::print("wrote {}\n", (dir / "summary.json").string());
  return 0;
}

}  // namespace bitline::app
