#include "app/chip_comparison_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <stdexcept>

#include "app/config.h"
#include "app/experiment.h"
#include "core/daism/chip_comparison.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {
namespace {

using core::cost::kPartCount;
using core::cost::Part;
using core::cost::part_name;

core::daism::GemmShape parse_gemm(const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    std::size_t used = 0;
    int64_t value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 1) {
      throw InputError(fmt::format("--gemm: expected three positive integers m,n,k, found '{}'", text));
    }
    values.push_back(value);
  }
  if (values.size() != 3) throw InputError(fmt::format("--gemm: expected three positive integers m,n,k, found '{}'", text));
  const core::daism::GemmShape gemm{values[0], values[1], values[2]};
  try {
    core::daism::check_gemm(gemm);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("--gemm '{}': {}", text, error.what()));
  }
  return gemm;
}

nlohmann::json per_part(const core::cost::PerPart& values) {
  nlohmann::json out = nlohmann::json::object();
  for (int p = 0; p < kPartCount; ++p) {
    if (values[static_cast<std::size_t>(p)] != 0) out[part_name(static_cast<Part>(p))] = values[static_cast<std::size_t>(p)];
  }
  return out;
}

}  // namespace

int run_chip_comparison_command(const ChipComparisonOptions& options) {
  const auto gemm = parse_gemm(options.gemm);
  const Config config = load_config(options.config_path);
  const MacroConfig* chosen = nullptr;
  std::size_t index = 0;
  for (std::size_t i = 0; i < config.macros.size() && chosen == nullptr; ++i) {
    const auto& macro = config.macros[i];
    if (options.macro.empty() ? macro.type == "daism" : macro.name == options.macro) {
      chosen = &macro;
      index = i;
    }
  }
  if (chosen == nullptr) {
    throw InputError(options.macro.empty()
                         ? fmt::format("{}: key 'macros': expected a macro of type daism, found none", options.config_path)
                         : fmt::format("{}: key 'macros': --macro '{}' names no macro", options.config_path, options.macro));
  }
  const std::string key = fmt::format("macros[{}]", index);
  if (chosen->type != "daism") {
    throw InputError(fmt::format("{}: key '{}.type': expected daism, found '{}'", options.config_path, key, chosen->type));
  }
  const auto spec = macro_spec(*chosen, options.config_path, key);
  const auto& daism_spec = dynamic_cast<const core::daism::DaismSpec&>(*spec);
  std::vector<core::daism::DesignCost> designs;
  try {
    const auto macro = daism_spec.for_format(core::NumberFormat{});
    designs = core::daism::compare_designs(dynamic_cast<const core::daism::DaismMacro&>(*macro), chosen->hardware, gemm);
  } catch (const std::invalid_argument& error) {
    throw InputError(fmt::format("{}: key '{}' (macro '{}'): {}", options.config_path, key, chosen->name, error.what()));
  }

  const auto& hardware = chosen->hardware;
  const int64_t arrays = hardware.tiles * hardware.macros_per_tile;
  fmt::print("GEMM {} x {} x {} ({} products) on {} arrays of {} x {} bit cells, {} nm, {} V, {} MHz ({})\n", gemm.m,
             gemm.n, gemm.k, gemm.products(), arrays, hardware.array_rows, hardware.array_columns,
             hardware.technology.node_nm, hardware.technology.vdd_v, hardware.clock_mhz, options.config_path);
  fmt::print("{:<11} {:>9} {:>7} {:>8} {:>13} {:>11} {:>10} {:>9} {:>7} {:>8} {:>10}\n", "design", "products", "cycles",
             "stored", "cycles", "energy", "pJ per", "area", "TOPS", "TOPS/W", "TOPS/mm2");
  fmt::print("{:<11} {:>9} {:>7} {:>8} {:>13} {:>11} {:>10} {:>9} {:>7} {:>8} {:>10}\n", "", "per op", "per op",
             "per arr", "(GEMM)", "(µJ)", "product", "(mm2)", "", "", "");
  nlohmann::json out = {{"config", options.config_path},
                        {"macro", chosen->name},
                        {"gemm", {{"m", gemm.m}, {"n", gemm.n}, {"k", gemm.k}, {"products", gemm.products()}}},
                        {"arrays", arrays},
                        {"assumptions",
                         "ideal utilisation; shared normalise-accumulate periphery; buffers, interconnect and leakage left "
                         "out (docs/daism_validation.md)"},
                        {"designs", nlohmann::json::array()}};
  std::string csv =
      "design,products_per_operation,cycles_per_operation,stored_elements_per_array,cycles,energy_pj,energy_pj_per_product,"
      "store_energy_pj,area_mm2,tops,tops_per_w,tops_per_mm2\n";
  for (const auto& d : designs) {
    fmt::print("{:<11} {:>9} {:>7} {:>8} {:>13.0f} {:>11.3f} {:>10.3f} {:>9.3f} {:>7.3f} {:>8.3f} {:>10.4f}\n", d.design,
               d.products_per_operation, d.cycles_per_operation, d.stored_elements_per_array, d.cycles,
               d.energy_pj_total * 1e-6, d.energy_pj_per_product(), d.area_mm2, d.tops, d.tops_per_w, d.tops_per_mm2);
    out["designs"].push_back({{"design", d.design},
                              {"description", d.description},
                              {"products_per_operation", d.products_per_operation},
                              {"cycles_per_operation", d.cycles_per_operation},
                              {"stored_elements_per_array", d.stored_elements_per_array},
                              {"stored_operand_fits", d.stored_operand_fits},
                              {"operations", d.operations},
                              {"cycles", d.cycles},
                              {"energy_pj", d.energy_pj_total},
                              {"energy_pj_by_part", per_part(d.energy_pj)},
                              {"energy_pj_per_product", d.energy_pj_per_product()},
                              {"store_energy_pj", d.store_energy_pj},
                              {"area_mm2", d.area_mm2},
                              {"area_um2_by_part", per_part(d.area_um2)},
                              {"tops", d.tops},
                              {"tops_per_w", d.tops_per_w},
                              {"tops_per_mm2", d.tops_per_mm2}});
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", d.design, d.products_per_operation, d.cycles_per_operation,
                       d.stored_elements_per_array, d.cycles, d.energy_pj_total, d.energy_pj_per_product(),
                       d.store_energy_pj, d.area_mm2, d.tops, d.tops_per_w, d.tops_per_mm2);
  }
  for (const auto& d : designs) fmt::print("  {}: {}\n", d.design, d.description);
  const auto& daism = designs.front();
  for (std::size_t i = 1; i < designs.size(); ++i) {
    const auto& base = designs[i];
    // A ratio to a zero (a chip priced at zero energy or area) is undefined: "-".
    const auto change = [](double value, double baseline) {
      return baseline > 0 ? fmt::format("{:+.1f} %", 100 * (value / baseline - 1)) : std::string("-");
    };
    const auto ratio = [](double value, double baseline) {
      return baseline > 0 ? fmt::format("x{:.2f}", value / baseline) : std::string("-");
    };
    fmt::print("daism vs {}: energy {}, cycles {}, TOPS/W {}, TOPS/mm2 {}\n", base.design,
               change(daism.energy_pj_total, base.energy_pj_total), change(daism.cycles, base.cycles),
               ratio(daism.tops_per_w, base.tops_per_w), ratio(daism.tops_per_mm2, base.tops_per_mm2));
  }
  const std::filesystem::path dir = config.experiment.run_dir;
  io::prepare_output_directory(dir, kRunDirectoryEntries, "experiment.run_dir");
  const auto json_path = dir / fmt::format("chip_comparison_{}.json", chosen->name);
  const auto csv_path = dir / fmt::format("chip_comparison_{}.csv", chosen->name);
  io::write_file_atomically(json_path, out.dump(2) + "\n");
  io::write_file_atomically(csv_path, csv);
  fmt::print("wrote {} and {}\n", json_path.string(), csv_path.string());
  return 0;
}

}  // namespace bitline::app
