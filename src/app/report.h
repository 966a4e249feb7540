#pragma once
// Results of `bitline run` / `bitline eval`: a console table, results.json and results.csv.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/experiment.h"

namespace bitline::app {

struct RunReport {
  Config config;
  std::string config_source;
  TrainingSummary training;
  std::vector<EvaluationRow> evaluations;
  int threads = 1;
  std::string blas_library;
};

nlohmann::json to_json(const RunReport& report);
std::string results_csv(const RunReport& report);
std::string results_table(const RunReport& report);
// Per-layer CSNR of every simulate-mode evaluation (empty when there is none).
std::string csnr_table(const RunReport& report);
// Writes results.json, results.csv and config.yaml into the run directory, each atomically.
std::vector<std::filesystem::path> write_results(const RunReport& report);

}  // namespace bitline::app
