#include "app/report.h"

#include <fmt/format.h>

#include "io/atomic_file.h"

namespace bitline::app {
namespace {

// Bits of the evaluation's layers when no override changes them; "mixed" otherwise.
std::string bits_label(const QuantizationConfig& quantization, const std::string& mode) {
  if (mode == "float") return "fp32";
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

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

nlohmann::json to_json(const RunReport& report) {
  nlohmann::json training = nlohmann::json::array();
  for (const auto* stage : {&report.training.float_stage, &report.training.qat_stage}) {
    if (*stage) training.push_back(stage_json(**stage));
  }
  nlohmann::json evaluations = nlohmann::json::array();
  for (const auto& row : report.evaluations) {
    evaluations.push_back({{"name", row.run.name},
                           {"mode", row.run.mode},
                           {"precision", bits_label(report.config.quantization, row.run.mode)},
                           {"model_stage", row.model_stage},
                           {"accuracy", row.result.accuracy},
                           {"loss", row.result.loss},
                           {"images", row.result.images},
                           {"seconds", row.result.seconds},
                           {"images_per_second", row.result.images / std::max(row.result.seconds, 1e-9)}});
  }
  return {{"experiment", report.config.experiment.name},
          {"config_source", report.config_source},
          {"model", report.config.model.name},
          {"dataset", report.config.data.dataset},
          {"seed", report.config.experiment.seed},
          {"threads", report.threads},
          {"blas_library", report.blas_library},
          {"training", training},
          {"evaluations", evaluations}};
}

std::string results_csv(const RunReport& report) {
  std::string csv = "experiment,evaluation,mode,precision,model_stage,accuracy,loss,images,seconds\n";
  for (const auto& row : report.evaluations) {
    csv += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{},{:.3f}\n", csv_field(report.config.experiment.name),
                       csv_field(row.run.name), row.run.mode, bits_label(report.config.quantization, row.run.mode),
                       row.model_stage, row.result.accuracy, row.result.loss, row.result.images, row.result.seconds);
  }
  return csv;
}

std::string results_table(const RunReport& report) {
  std::string table = fmt::format("bitline results: {} ({} on {}, seed {})\n", report.config.experiment.name,
                                  report.config.model.name, report.config.data.dataset, report.config.experiment.seed);
  const std::string rule(76, '-');
  table += rule + "\n";
  table += fmt::format("{:<14} {:<10} {:<9} {:<7} {:>10} {:>8} {:>7} {:>9}\n", "evaluation", "mode", "precision",
                       "weights", "accuracy %", "loss", "images", "time s");
  table += rule + "\n";
  for (const auto& row : report.evaluations) {
    table += fmt::format("{:<14} {:<10} {:<9} {:<7} {:>10.2f} {:>8.4f} {:>7} {:>9.2f}\n", row.run.name, row.run.mode,
                         bits_label(report.config.quantization, row.run.mode), row.model_stage,
                         100 * row.result.accuracy, row.result.loss, row.result.images, row.result.seconds);
  }
  table += rule + "\n";
  if (!report.config.quantization.layer_overrides.empty()) table += "* per-layer overrides apply\n";
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
