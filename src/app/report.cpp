#include "app/report.h"

#include "app/cost_report.h"
#include "app/fcc.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "io/atomic_file.h"
#include "io/csv_table.h"

namespace bitline::app {
namespace {

// Bits of the evaluation's layers when no override changes them (marked * otherwise), or the format
// of a floating-point macro.
std::string bits_label(const QuantizationConfig& quantization, const EvaluationRow& row) {
  const std::string& mode = row.run.mode;
  if (mode == "float") return "fp32";
  if (!row.operand_format.empty()) return row.operand_format;
  std::string label = fmt::format("W{}A{}", quantization.weight_bits, quantization.activation_bits);
  return quantization.layer_overrides.empty() ? label : label + "*";
}

nlohmann::json stage_json(const StageSummary& stage) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& epoch : stage.info.history) {
    history.push_back({{"epoch", epoch.epoch},
                       {"train_loss", epoch.train_loss},
                       {"train_accuracy", epoch.train_accuracy},
                       {"seconds", epoch.seconds},
                       {"final_learning_rate", epoch.learning_rate}});
  }
  return {{"stage", stage.stage},
          {"checkpoint", stage.checkpoint.string()},
          {"config_hash", stage.config_hash},
          {"reused_cached_checkpoint", stage.reused},
          {"resumed_after_epoch", stage.resumed_after_epoch},
          {"epochs", stage.info.epochs_done},
          {"weights_digest", stage.weights_digest},
          {"history", history}};
}

// CSNR in dB for JSON: null when the simulation was exact (infinite CSNR).
nlohmann::json csnr_json(double csnr_db) { return std::isfinite(csnr_db) ? nlohmann::json(csnr_db) : nlohmann::json(); }

std::string csnr_text(double csnr_db) { return std::isfinite(csnr_db) ? fmt::format("{:.2f}", csnr_db) : "exact"; }

// The lowest layer CSNR of a simulate-mode evaluation ("-" otherwise).
std::string worst_csnr(const EvaluationRow& row) {
  if (row.layers.empty()) return "-";
  double worst = std::numeric_limits<double>::infinity();
  for (const auto& layer : row.layers) worst = std::min(worst, layer.csnr_db);
  return csnr_text(worst);
}

// The row a row's compare_to names, when both have a cost.
const EvaluationRow* compared_row(const RunReport& report, const EvaluationRow& row) {
  if (!row.run.compare_to || !row.cost) return nullptr;
  for (const auto& other : report.evaluations) {
    // Ratios to a baseline priced at zero (every component figure 0) are undefined: no comparison.
    const bool priced = other.cost && other.cost->inferences_per_s > 0 && other.cost->latency_layer_by_layer_ns > 0 &&
                        other.cost->energy_total_pj > 0;
    if (other.run.name == *row.run.compare_to && priced) return &other;
  }
  return nullptr;
}

struct CostRatios {
  double speedup = 0, latency = 0, energy = 0;
};
CostRatios cost_ratios(const core::cost::NetworkCost& run, const core::cost::NetworkCost& baseline) {
  return {run.inferences_per_s / baseline.inferences_per_s, run.latency_layer_by_layer_ns / baseline.latency_layer_by_layer_ns,
          run.energy_total_pj / baseline.energy_total_pj};
}

}  // namespace

nlohmann::json to_json(const RunReport& report) {
  nlohmann::json training = nlohmann::json::array();
  for (const auto* stage : {&report.training.float_stage, &report.training.qat_stage,
                            &report.training.fcc_penalty_stage, &report.training.fcc_stage}) {
    if (*stage) training.push_back(stage_json(**stage));
  }
  nlohmann::json pairing;  // null without FCC
  if (report.training.pairing) {
    pairing = {{"encoding", core::to_string(report.training.pairing->encoding)}, {"layers", nlohmann::json::array()}};
    for (const auto& layer : report.training.pairing->layers) {
      pairing["layers"].push_back({{"layer", layer.layer},
                                   {"kind", layer.kind},
                                   {"filters", layer.filters},
                                   {"depth", layer.depth},
                                   {"pairs", layer.pairs.size()},
                                   {"unpaired", layer.unpaired},
                                   {"cost", layer.cost},
                                   {"matching_seconds", layer.seconds}});
    }
  }
  nlohmann::json evaluations = nlohmann::json::array();
  for (const auto& row : report.evaluations) {
    evaluations.push_back({{"name", row.run.name},
                           {"mode", row.run.mode},
                           {"precision", bits_label(report.config.quantization, row)},
                           {"model_stage", row.model_stage},
                           {"accuracy", row.result.accuracy},
                           {"loss", row.result.loss},
                           {"images", row.result.images},
                           {"seconds", row.result.seconds},
                           {"images_per_second", row.result.images / std::max(row.result.seconds, 1e-9)}});
    if (row.run.macro) {
      nlohmann::json layers = nlohmann::json::array();
      for (const auto& layer : row.layers) {
        layers.push_back({{"layer", layer.layer},
                          {"csnr_db", csnr_json(layer.csnr_db)},
                          {"events", events_json(layer.events, true)},
                          {"readout", layer.readout},
                          {"adc_energy_per_conversion_pj", layer.adc_energy_per_conversion_pj}});
      }
      auto& entry = evaluations.back();
      entry["macro"] = *row.run.macro;
      entry["events"] = events_json(row.events, true);
      const auto conversions = static_cast<double>(row.events.total(core::EventKind::AdcConversion));
      entry["adc_conversions_per_image"] = conversions / static_cast<double>(std::max<int64_t>(1, row.result.images));
      entry["layers"] = layers;
      // ADC energy from each layer's converter model, over uniform inputs [assumption, docs/adc.md].
      double energy_pj = 0;
      for (const auto& layer : row.layers) {
        energy_pj += static_cast<double>(layer.events.total(core::EventKind::AdcConversion)) * layer.adc_energy_per_conversion_pj;
      }
      entry["adc_energy_per_conversion_pj"] = energy_pj / std::max(1.0, conversions);
      entry["adc_energy_per_image_pj"] = energy_pj / std::max<int64_t>(1, row.result.images);
      if (row.cost) entry["cost"] = cost_json(*row.cost);
      if (row.training_cost) entry["training_iteration"] = training_cost_json(*row.training_cost);
      if (const auto* baseline = compared_row(report, row)) {
        const auto ratios = cost_ratios(*row.cost, *baseline->cost);
        entry["compared_to"] = {{"run", baseline->run.name},
                                {"speedup", ratios.speedup},
                                {"latency_ratio", ratios.latency},
                                {"energy_ratio", ratios.energy}};
      }
    }
  }
  return {{"experiment", report.config.experiment.name},
          {"config_source", report.config_source},
          {"model", report.config.model.name},
          {"dataset", report.config.data.dataset},
          {"seed", report.config.experiment.seed},
          {"threads", report.threads},
          {"blas_library", report.blas_library},
          {"training", training},
          {"fcc_pairing", pairing},
          {"evaluations", evaluations}};
}

std::string results_csv(const RunReport& report) {
  std::string csv =
      "experiment,evaluation,mode,precision,model_stage,accuracy,loss,images,seconds,"
      "energy_per_inference_nj,latency_us,cycles_per_inference,inferences_per_s,tops_per_w,area_mm2\n";
  for (const auto& row : report.evaluations) {
    csv += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{},{:.3f},", io::csv_field(report.config.experiment.name),
                       io::csv_field(row.run.name), row.run.mode, bits_label(report.config.quantization, row),
                       row.model_stage, row.result.accuracy, row.result.loss, row.result.images, row.result.seconds);
    csv += row.cost ? fmt::format("{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", row.cost->energy_total_pj * 1e-3,
                                  row.cost->latency_layer_by_layer_ns * 1e-3, row.cost->cycles_layer_by_layer,
                                  row.cost->inferences_per_s,
                                  row.cost->tops_per_w, row.cost->area_total_mm2)
                    : std::string(",,,,,\n");
  }
  return csv;
}

std::string results_table(const RunReport& report) {
  std::string table = fmt::format("bitline results: {} ({} on {}, seed {})\n", report.config.experiment.name,
                                  report.config.model.name, report.config.data.dataset, report.config.experiment.seed);
  const std::string rule(144, '-');
  table += rule + "\n";
  table += fmt::format("{:<14} {:<10} {:<9} {:<7} {:>10} {:>8} {:>7} {:>9} {:>12} {:>10} {:>10} {:>10} {:>8} {:>8}\n",
                       "evaluation", "mode", "precision", "weights", "accuracy %", "loss", "images", "time s",
                       "min CSNR dB", "nJ/image", "us/image", "cyc/image", "TOPS/W", "mm^2");
  table += rule + "\n";
  for (const auto& row : report.evaluations) {
    table += fmt::format("{:<14} {:<10} {:<9} {:<7} {:>10.2f} {:>8.4f} {:>7} {:>9.2f} {:>12} {:>10} {:>10} {:>10} {:>8} {:>8}\n",
                         row.run.name, row.run.mode, bits_label(report.config.quantization, row),
                         row.model_stage, 100 * row.result.accuracy, row.result.loss, row.result.images,
                         row.result.seconds, worst_csnr(row),
                         row.cost ? fmt::format("{:.4g}", row.cost->energy_total_pj * 1e-3) : "-",
                         row.cost ? fmt::format("{:.4g}", row.cost->latency_layer_by_layer_ns * 1e-3) : "-",
                         row.cost ? fmt::format("{:.4g}", row.cost->cycles_layer_by_layer) : "-",
                         row.cost ? fmt::format("{:.4g}", row.cost->tops_per_w) : "-",
                         row.cost ? fmt::format("{:.4g}", row.cost->area_total_mm2) : "-");
  }
  table += rule + "\n";
  bool any_cost = false;
  for (const auto& row : report.evaluations) any_cost = any_cost || row.cost.has_value();
  if (any_cost) {
    table += "nJ/image, us/image, cyc/image (clock cycles), TOPS/W, mm^2: the model on the macro's chip, layers one after the "
             "other (docs/cost.md); `bitline cost` breaks them down\n";
  }
  for (const auto& row : report.evaluations) {
    const auto* baseline = compared_row(report, row);
    if (baseline == nullptr) continue;
    const auto ratios = cost_ratios(*row.cost, *baseline->cost);
    table += fmt::format("{} vs {}: {:.3f}x the inferences/s, {:.3f}x the latency and {:.3f}x the energy per image; "
                         "accuracy {:.2f} % vs {:.2f} %\n",
                         row.run.name, baseline->run.name, ratios.speedup, ratios.latency, ratios.energy,
                         100 * row.result.accuracy, 100 * baseline->result.accuracy);
  }
  for (const auto& row : report.evaluations) {
    if (row.training_cost) table += training_cost_table(*row.training_cost, fmt::format("evaluation '{}'", row.run.name));
  }
  if (!report.config.quantization.layer_overrides.empty()) table += "* per-layer overrides apply\n";
  return table;
}

std::string csnr_table(const RunReport& report) {
  std::string table;
  for (const auto& row : report.evaluations) {
    if (row.layers.empty()) continue;
    table += fmt::format("CSNR per layer, evaluation '{}' (macro {}):\n", row.run.name, *row.run.macro);
    table += fmt::format("  {:<34} {:>10} {:>16}\n", "layer", "CSNR dB", "ADC conversions");
    for (const auto& layer : row.layers) {
      table += fmt::format("  {:<34} {:>10} {:>16}\n", layer.layer, csnr_text(layer.csnr_db),
                           layer.events.total(core::EventKind::AdcConversion));
    }
  }
  return table;
}

std::vector<std::filesystem::path> write_results(const RunReport& report) {
  const std::filesystem::path dir = report.config.experiment.run_dir;
  const std::vector<std::pair<std::filesystem::path, std::string>> files = {
      {dir / "results.json", to_json(report).dump(2) + "\n"},
      {dir / "results.csv", results_csv(report)},
      {dir / "config.yaml", to_yaml(report.config)},
  };
  std::vector<std::filesystem::path> written;
  for (const auto& [path, contents] : files) {
    io::write_file_atomically(path, contents);
    written.push_back(path);
  }
  return written;
}

}  // namespace bitline::app
