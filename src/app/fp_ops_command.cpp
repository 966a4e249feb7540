#include "app/fp_ops_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <regex>
#include <stdexcept>

#include "core/error.h"
#include "core/sot_mram/fp_format.h"
#include "core/sot_mram/macro.h"

namespace bitline::app {
namespace {

using namespace core::sot_mram;

core::NumberFormat parse_format(const std::string& name) {
  std::smatch match;
  static const std::regex custom("e([0-9]+)m([0-9]+)");
  core::NumberFormat format;
  if (std::regex_match(name, match, custom)) {
    // Bits past int's range are out of validate_format's range too.
    const auto bits = [](const std::string& digits) { return digits.size() > 4 ? 9999 : std::stoi(digits); };
    format = {bits(match[1]), bits(match[2])};
  } else {
    try {
      format = preset_format(name);
    } catch (const std::invalid_argument& error) {
      throw InputError(fmt::format("option --format: {} or eXmY (e.g. e5m2)", error.what()));
    }
  }
  try {
    validate_format(format);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("option --format '{}': {}", name, error.what()));
  }
  return format;
}

// Bit-serial NOT/NOR floating-point latencies published by AritPIM (Leitersdorf et al., IEEE TETC
// 2023; github.com/oleitersdorf/AritPIM, results/floating/latency.csv, "Serial" rows: one element per
// row, one gate or one initialisation per cycle, round to nearest even).
struct Published {
  const char* format;
  int multiply_cycles, add_cycles;
};
constexpr Published kAritPim[] = {{"bf16", 1742, 1849}, {"fp16", 2780, 1978}, {"fp32", 11586, 3997}};

}  // namespace

int run_fp_ops_command(const FpOpsOptions& options) {
  const auto format = parse_format(options.format);
  core::Rounding rounding;
  try {
    rounding = core::parse_rounding(options.rounding);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("option --rounding: {}", error.what()));
  }
  if (options.samples < 1 || options.samples > kMaxFpOpsSamples) {
    throw InputError(fmt::format("option --samples: expected an integer in [1, {}], found {}", kMaxFpOpsSamples, options.samples));
  }
  fmt::print("in-memory FP operations, {} ({}), {}; expected primitive counts over {} sampled operand pairs "
             "(nonzero, |x| log-uniform over 2^-4..2^4)\n",
             format_name(format), fmt::format("e{}m{}", format.exponent_bits, format.mantissa_bits), to_string(rounding),
             options.samples);
  fmt::print("{:<10} {:<9} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>10}\n", "logic", "op", "full_add",
             "copy", "shift", "search", "write", "read", "invert", "cycles", "ns", "energy pJ");
  for (const Logic logic : {Logic::SotMram, Logic::MagicNor}) {
    Spec spec;
    spec.engine = {format, rounding,
                   logic == Logic::SotMram ? ExponentDifference::Search : ExponentDifference::Subtract};
    spec.logic = logic;
    const auto counts = std::make_shared<const ExpectedCounts>(expected_counts(spec.engine, static_cast<int>(options.samples)));
    const SotMramFpMacro macro(std::make_shared<const Spec>(spec), counts);
    const auto row = [&](const char* op, const ProgramCounts& c, double cycles, double energy_pj) {
      fmt::print("{:<10} {:<9} {:>8.1f} {:>7.1f} {:>7.1f} {:>7.2f} {:>7.1f} {:>7.1f} {:>7.1f} {:>9.1f} {:>9.1f} {:>10.3f}\n",
                 to_string(logic), op, c[0], c[1], c[2], c[3], c[4], c[5], c[6], cycles, cycles * macro.costs().cycle_ns,
                 energy_pj);
    };
    row("multiply", counts->multiply, macro.multiply_cycles(), macro.multiply_energy_pj());
    row("add", counts->add, macro.add_cycles(), macro.add_energy_pj());
  }
  for (const auto& published : kAritPim) {
    if (preset_format(published.format) == format) {
      fmt::print("published, AritPIM bit-serial NOT/NOR ({}, nearest even): multiply {} cycles, add {} cycles\n",
                 published.format, published.multiply_cycles, published.add_cycles);
    }
  }
  fmt::print("cycles: sot_mram full add 3 (a multi-row read, sum and carry written), copy/shift 2, search/read/write 1, "
             "invert 0; magic_nor full add 18 (9 NOR + 9 INIT), copy/shift 4, invert 2, write/read 1 "
             "(docs/macros/sot_mram_fp.md)\n");
  return 0;
}

}  // namespace bitline::app
