#pragma once
// `bitline sweep` (docs/sweeps.md): runs the points of a sweep locally (in parallel processes) or as
// a Slurm job array, resumes a killed sweep, prices every point without training (--cost-only),
// and gathers sweep.csv / sweep.json as points finish.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/sweep_files.h"

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

}  // namespace bitline::app
