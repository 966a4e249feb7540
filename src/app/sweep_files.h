#pragma once
// What a run or sweep directory holds and how bitline reads it back (docs/sweeps.md): results.json,
// cost_<macro>.json, sweep.json, slurm/jobs.json and the points' status files. These are data: each
// is read through its shape (app/json_shape.h) or a strict parser, and refused with exit 2 naming the
// file, the key and what was expected when it is not what bitline writes. Reading them never runs
// anything (docs/reliability.md, "What a sweep folder can make bitline do"). Without LibTorch (the
// fuzz harnesses link it).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/json_shape.h"

namespace bitline::app {

// The files of a sweep directory.
struct SweepFiles {
  std::filesystem::path dir;
  std::filesystem::path manifest() const { return dir / "sweep.json"; }
  std::filesystem::path table() const { return dir / "sweep.csv"; }
  std::filesystem::path config(const std::string& id) const { return dir / "configs" / (id + ".yaml"); }
  std::filesystem::path point(const std::string& id) const { return dir / "points" / id; }
  std::filesystem::path log(const std::string& id) const { return dir / "logs" / (id + ".log"); }
  std::filesystem::path status(const std::string& id) const { return dir / "logs" / (id + ".status"); }
  // Held by the process that runs or submits the sweep.
  std::filesystem::path driver_lock() const { return dir / "sweep.lock"; }
  // Held while sweep.json and sweep.csv are rewritten.
  std::filesystem::path table_lock() const { return dir / "table.lock"; }
  std::filesystem::path slurm_jobs() const { return dir / "slurm" / "jobs.json"; }
  std::filesystem::path slurm_script() const { return dir / "slurm" / "array.sh"; }
};

// What bitline writes into a sweep directory (io::prepare_output_directory).
inline const std::vector<std::string> kSweepDirectoryEntries = {
    "sweep.json", "sweep.csv", "configs", "points", "logs", "checkpoints", "slurm", "report.html", "*.lock", "*.tmp-*"};

// A point's id, which names its files: p and 3 to 5 digits (p000, p0123).
extern const TextRule kPointId;
// A Slurm job id as sbatch --parsable prints it: digits (an array's tasks add _<index>).
extern const TextRule kSlurmJobId;

// The shapes of the JSON files bitline reads back.
const JsonShape& run_results_shape();     // results.json of `bitline run` / `eval`
const JsonShape& network_cost_shape();    // cost_<macro>.json of `bitline cost` and --cost-only sweeps
const JsonShape& sweep_manifest_shape();  // sweep.json

// slurm/jobs.json: the job arrays submitted for a sweep, oldest first.
struct SlurmJob {
  std::string job_id;  // kSlurmJobId
  std::string submitted_utc;
  std::string array;                                    // sbatch --array
  std::vector<std::pair<int64_t, std::string>> points;  // (array task index = point index, point id)
};
std::vector<SlurmJob> parse_slurm_jobs(std::string_view text, const std::string& source);
std::vector<SlurmJob> read_slurm_jobs(const std::filesystem::path& path);  // none when the file does not exist
std::string slurm_jobs_json(const std::vector<SlurmJob>& jobs);

// A point's status file (logs/<id>.status), written by whoever runs the point: "running <utc>" (a
// local driver), "running <utc> slurm <job>_<task> <host>" (a Slurm task), "finished <exit code> <utc>".
struct PointStatus {
  enum class State { None, Running, Finished } state = State::None;
  int exit_code = 0;       // Finished
  std::string slurm_task;  // Running under Slurm: "<job>_<task>"
};
// None for text that is not one of these (a missing, empty or garbled file: the point is not done).
PointStatus parse_point_status(std::string_view text);

// The rows of a point's results.json (or of a cost-only point's costs, in that shape): one per
// evaluation, with accuracy_percent, loss, min_csnr_db, energy_nj_per_image, latency_us_per_image,
// tops_per_w and area_mm2 (null where the evaluation has none). `results` has run_results_shape().
nlohmann::json result_rows(const nlohmann::json& results);
// The table's rows of one point (of sweep_manifest_shape()'s points), its axis values first.
nlohmann::json point_rows(const nlohmann::json& point, const nlohmann::json& rows);
// sweep.csv of a manifest of sweep_manifest_shape().
std::string table_csv(const nlohmann::json& manifest);

// The current time, e.g. 2026-12-01T07:05:00Z.
std::string utc_timestamp();

}  // namespace bitline::app
