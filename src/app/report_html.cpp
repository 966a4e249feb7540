#include "app/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "app/adc_model.h"
#include "app/cli.h"
#include "app/config.h"
#include "app/macros/analog_sram.h"
#include "app/report_assets.h"
#include "app/sweep.h"
#include "core/adc/characterize.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::app {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// ADC curves drawn at most (distinct converters of a sweep), and ramp inputs per LSB they are drawn at.
constexpr std::size_t kMaxAdcCurves = 8;
constexpr int kAdcRampStepsPerLsb = 4;

// The per-layer, per-component and training records of one finished point (or of the run).
void add_details(json& data, int64_t point, const std::string& label, const json& results,
                 std::set<std::string>& trained_checkpoints) {
  for (const auto& evaluation : results.value("evaluations", json::array())) {
    const std::string name = evaluation.at("name");
    std::map<std::string, json> csnr;
    for (const auto& layer : evaluation.value("layers", json::array())) csnr[layer.at("layer")] = layer.at("csnr_db");
    if (evaluation.contains("cost")) {
      const json& cost = evaluation.at("cost");
      for (const auto& layer : cost.value("layers", json::array())) {
        const std::string layer_name = layer.at("layer");
        data["layers"].push_back({{"point", point}, {"label", label}, {"evaluation", name}, {"layer", layer_name},
                                  {"csnr_db", csnr.count(layer_name) ? csnr[layer_name] : json()},
                                  {"energy_nj_per_image", layer.at("energy_pj").get<double>() / 1e3},
                                  {"latency_us_per_image", layer.at("latency_ns").get<double>() / 1e3}});
        csnr.erase(layer_name);
      }
      const json& energy = cost.at("energy_pj_by_part");
      const json& area = cost.at("area_um2_by_part");
      for (const auto& [part, energy_pj] : energy.items()) {
        data["components"].push_back({{"point", point}, {"label", label}, {"evaluation", name}, {"component", part},
                                      {"energy_nj_per_image", energy_pj.get<double>() / 1e3},
                                      {"area_mm2", area.contains(part) ? area.at(part).get<double>() / 1e6 : 0.0}});
      }
    }
    for (const auto& [layer_name, value] : csnr) {  // simulated layers without a cost entry
      data["layers"].push_back({{"point", point}, {"label", label}, {"evaluation", name}, {"layer", layer_name},
                                {"csnr_db", value}, {"energy_nj_per_image", json()}, {"latency_us_per_image", json()}});
    }
  }
  for (const auto& stage : results.value("training", json::array())) {
    // A checkpoint that several points share is one training run: its curve is drawn once.
    if (!trained_checkpoints.insert(stage.value("checkpoint", std::string())).second) continue;
    for (const auto& epoch : stage.value("history", json::array())) {
      data["training"].push_back({{"point", point}, {"label", label}, {"stage", stage.at("stage")}, {"epoch", epoch.at("epoch")},
                                  {"train_loss", epoch.at("train_loss")},
                                  {"train_accuracy_percent", 100.0 * epoch.at("train_accuracy").get<double>()}});
    }
  }
}

// The transfer and INL/DNL curves of each analog macro's ADC (the converter alone, noise-free),
// one per distinct converter.
void add_adc_curves(json& data, int64_t point, const std::string& label, const Config& config,
                    std::set<std::string>& drawn) {
  bool has_adc = false;
  for (const auto& macro : config.macros) {
    if (macro.type != AnalogSramType::kName) continue;
    if (!has_adc) data["adc_points"] = data.value("adc_points", 0) + 1;
    has_adc = true;
    const auto section = macro_section<AnalogSramType>(macro, "");
    NodeEmitter emitter;
    describe(emitter, const_cast<AdcConfig&>(section.adc));
    const std::string key = dump_yaml(emitter.node);
    if (drawn.count(key) || drawn.size() >= kMaxAdcCurves) continue;
    drawn.insert(key);
    const auto converter = converter_or_ideal(section.adc, fmt::format("macro '{}' adc", macro.name));
    core::adc::CharacterizeOptions options;
    options.ramp_steps_per_lsb = kAdcRampStepsPerLsb;
    options.sine_samples = 16;  // the sine test is not drawn
    options.sine_cycles = 1;
    const auto result = core::adc::characterize(*converter, options);
    const std::string name = macro.name;
    const double levels = std::pow(2.0, static_cast<double>(section.adc.bits)) - 1;
    for (const auto& ramp : result.ramp) {
      data["adc"].push_back({{"point", point}, {"label", label}, {"macro", name}, {"input_lsb", ramp.input_lsb},
                             {"code", ramp.mean_code},
                             {"ideal_code", std::clamp(std::round(ramp.input_lsb), 0.0, levels)}});
    }
    for (std::size_t k = 0; k < result.linearity.inl_lsb.size(); ++k) {
      // Rounding residue (1e-16 LSB for an ideal converter) as 0, so the axes stay readable.
      const auto cleaned = [](double lsb) { return std::abs(lsb) < 1e-9 ? 0.0 : lsb; };
      const double inl = cleaned(result.linearity.inl_lsb[k]);
      const double dnl = cleaned(k < result.linearity.dnl_lsb.size() ? result.linearity.dnl_lsb[k] : NAN);
      data["adc_linearity"].push_back({{"point", point}, {"label", label}, {"macro", name}, {"code", k + 1},
                                       {"inl_lsb", std::isfinite(inl) ? json(inl) : json()},
                                       {"dnl_lsb", std::isfinite(dnl) ? json(dnl) : json()}});
    }
  }
}

// The config a run saved, for its ADC curves; none (with a warning) when it does not load, e.g. one
// written by an older bitline.
std::optional<Config> saved_config(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  try {
    return load_config(path);
  } catch (const InputError& error) {
    fmt::print(stderr, "warning: no ADC curves from {}: {}\n", path.string(), error.what());
    return std::nullopt;
  }
}

// A cost-only sweep point's results: its evaluations' costs from the cost_<macro>.json files.
json cost_only_results(const fs::path& point_dir, const json& rows, int64_t point) {
  json results = {{"evaluations", json::array()}};
  for (const auto& row : rows) {
    if (row.at("point").get<int64_t>() != point || !row.contains("macro") || !row.at("macro").is_string()) continue;
    const std::string macro = row.at("macro");
    if (macro.find('/') != std::string::npos || macro == ".." || macro == ".") continue;  // not a file of this point
    const fs::path cost = point_dir / fmt::format("cost_{}.json", macro);
    if (fs::exists(cost)) {
      results["evaluations"].push_back({{"name", row.at("evaluation")}, {"cost", read_json_document(cost, network_cost_shape())}});
    }
  }
  return results;
}

json empty_report(const std::string& dir, const std::string& kind, const std::string& title) {
  return {{"title", title},           {"kind", kind},         {"source_dir", dir},
          {"generated_utc", utc_timestamp()}, {"bitline_version", kBitlineVersion}, {"axes", json::array()},
          {"rows", json::array()},     {"layers", json::array()}, {"components", json::array()},
          {"training", json::array()}, {"adc", json::array()},  {"adc_linearity", json::array()}};
}

// The template with each placeholder (each appearing once in it) replaced by its value, in one pass
// over the template: inserted text is never searched for placeholders.
std::string fill_template(const std::string& page, const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::pair<std::size_t, std::size_t>> at;  // (position in page, index in values)
  for (std::size_t v = 0; v < values.size(); ++v) {
    const auto position = page.find(values[v].first);
    if (position == std::string::npos || page.find(values[v].first, position + 1) != std::string::npos) {
      throw std::runtime_error("report template: expected the placeholder " + values[v].first + " exactly once");
    }
    at.emplace_back(position, v);
  }
  std::sort(at.begin(), at.end());
  std::string out;
  std::size_t from = 0;
  for (const auto& [position, v] : at) {
    out.append(page, from, position - from);
    out += values[v].second;
    from = position + values[v].first.size();
  }
  out.append(page, from, std::string::npos);
  return out;
}

// JSON inside a <script> element: every '<' (it occurs only inside JSON strings) as \u003c, so that
// no "</script" or "<!--" in the data can end or change the element; JSON.parse reads it back unchanged.
std::string script_safe(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (const char c : json_text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

}  // namespace

void mark_pareto_fronts(json& rows) {
  struct Front {
    const char* flag;
    const char* metric;
    bool lower_is_better;
  };
  for (const Front front : {Front{"pareto_energy", "energy_nj_per_image", true}, Front{"pareto_tops_per_w", "tops_per_w", false},
                            Front{"pareto_area", "area_mm2", true}}) {
    auto usable = [&](const json& row) {
      return row.value("accuracy_percent", json()).is_number() && row.value(front.metric, json()).is_number();
    };
    for (auto& row : rows) {
      bool dominated = !usable(row);
      for (const auto& other : rows) {
        if (dominated) break;
        if (&other == &row || !usable(other)) continue;
        const double accuracy = row.at("accuracy_percent"), other_accuracy = other.at("accuracy_percent");
        double metric = row.at(front.metric), other_metric = other.at(front.metric);
        if (!front.lower_is_better) metric = -metric, other_metric = -other_metric;
        dominated = other_accuracy >= accuracy && other_metric <= metric && (other_accuracy > accuracy || other_metric < metric);
      }
      row[front.flag] = !dominated;
    }
  }
}

json report_data(const std::string& dir_text) {
  const fs::path dir = dir_text;
  std::set<std::string> adc_drawn, trained_checkpoints;
  if (fs::exists(dir / "sweep.json")) {
    const SweepFiles files{dir};
    const json manifest = read_json_document(files.manifest(), sweep_manifest_shape());
    json data = empty_report(dir_text, "sweep", fmt::format("sweep '{}'", manifest.value("name", std::string("?"))));
    data["axes"] = json::array();
    for (const auto& axis : manifest.at("axes")) {
      data["axes"].push_back({{"name", axis.at("name")}, {"key", axis.at("key")}, {"numeric", axis.at("numeric")}});
    }
    data["rows"] = manifest.at("rows");
    const bool cost_only = manifest.value("cost_only", false);
    for (const auto& point : manifest.at("points")) {
      const std::string state = point.value("state", std::string());
      if (state != "done" && state != "priced") continue;
      const int64_t index = point.at("point");
      const std::string label = point.at("label"), id = point.at("id");
      const fs::path point_dir = files.point(id);
      add_details(data, index, label,
                  cost_only ? cost_only_results(point_dir, manifest.at("rows"), index)
                            : read_json_document(point_dir / "results.json", run_results_shape()),
                  trained_checkpoints);
      if (const auto config = saved_config(cost_only ? files.config(id) : point_dir / "config.yaml")) {
        add_adc_curves(data, index, label, *config, adc_drawn);
      }
    }
    mark_pareto_fronts(data["rows"]);
    return data;
  }
  if (!fs::exists(dir / "results.json")) {
    throw InputError(fmt::format("{}: expected a run directory (with results.json) or a sweep directory (with sweep.json), "
                                 "found neither",
                                 dir_text));
  }
  const json results = read_json_document(dir / "results.json", run_results_shape());
  json data = empty_report(dir_text, "run", fmt::format("run '{}'", results.value("experiment", std::string("?"))));
  for (auto row : result_rows(results)) {
    row["point"] = 0;
    row["label"] = row.at("evaluation");
    data["rows"].push_back(row);
  }
  add_details(data, 0, "", results, trained_checkpoints);
  for (auto& layer : data["layers"]) layer["label"] = layer.at("evaluation");
  for (auto& component : data["components"]) component["label"] = component.at("evaluation");
  if (const auto config = saved_config(dir / "config.yaml")) add_adc_curves(data, 0, "", *config, adc_drawn);
  mark_pareto_fronts(data["rows"]);
  return data;
}

int run_report_command(const ReportCommandOptions& options) {
  const fs::path output = options.output ? fs::path(*options.output) : fs::path(options.dir) / "report.html";
  io::prepare_output_file(output, options.output ? "-o/--output" : "the report (DIR/report.html)");
  const json data = report_data(options.dir);
  const auto& assets = report_assets();
  const std::string page = fill_template(
      std::string(assets.template_html),
      {{"{{style}}", std::string(assets.style)},
       {"{{libraries}}", fmt::format("<script>{}</script>\n<script>{}</script>\n<script>{}</script>", assets.vega,
                                     assets.vega_lite, assets.vega_embed)},
       {"{{data}}", script_safe(data.dump())},
       {"{{report_script}}", std::string(assets.report_script)}});
  io::write_file_atomically(output, page);
  fmt::print("wrote {} ({} rows, {} layer records, {:.1f} MB, works offline)\n", output.string(), data.at("rows").size(),
             data.at("layers").size(), static_cast<double>(page.size()) / 1e6);
  return 0;
}

}  // namespace bitline::app
