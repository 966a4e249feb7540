#pragma once
// `bitline sweep` (docs/sweeps.md): runs the points of a sweep locally (in parallel processes) or as
// a Slurm job array, resumes a killed sweep, prices every point without training (--cost-only),
// and gathers sweep.csv / sweep.json as points finish.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bitline::app {

struct SweepCommandOptions {
  std::string config_path;
  std::vector<std::string> settings;  // --set key.path=value, applied before the sweep is expanded
  int jobs = 1;                       // local processes
  int threads = 0;                    // per point; 0: experiment.threads / jobs (at least 1)
  bool cost_only = false;
  bool dry_run = false;  // list the points and stop
  bool no_progress = false;
  std::string executor = "local";
  // Slurm options; empty / 0: the config's sweep.slurm
  std::string partition, time, memory;
  int cpus_per_task = 0, max_parallel = 0;
  std::vector<std::string> sbatch_args;
  std::string status_dir;  // --status DIR
  std::string gather_dir;  // --gather DIR
};

int run_sweep_command(const SweepCommandOptions& options);

// A JSON file that bitline wrote (results.json, sweep.json, cost_*.json); InputError naming it when it
// is missing or does not parse.
nlohmann::json read_json_file(const std::filesystem::path& path);
// object[key] when it is a number, else `fallback`.
double json_number_or(const nlohmann::json& object, const char* key, double fallback);
// The current time, e.g. 2026-12-01T07:05:00Z.
std::string utc_timestamp();

// What bitline writes into a sweep directory (io::prepare_output_directory).
inline const std::vector<std::string> kSweepDirectoryEntries = {
    "sweep.json", "sweep.csv", "configs", "points", "logs", "checkpoints", "slurm", "report.html", "*.lock", "*.tmp-*"};

// The rows of a point's results.json (or of a cost-only point's costs): one per evaluation, with
// accuracy_percent, loss, min_csnr_db, energy_nj_per_image, latency_us_per_image, tops_per_w and
// area_mm2 (null where the evaluation has none).
nlohmann::json result_rows(const nlohmann::json& results);

}  // namespace bitline::app
