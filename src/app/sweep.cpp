#include "app/sweep.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "app/config.h"
#include "app/cost_report.h"
#include "app/experiment.h"
#include "app/fcc.h"
#include "app/progress.h"
#include "app/report.h"
#include "app/sweep_config.h"
#include "app/sweep_files.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/file_lock.h"
#include "io/process.h"
#include "nn/data.h"
#include "nn/runtime.h"

namespace bitline::app {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path own_binary() { return fs::read_symlink("/proc/self/exe"); }

json yaml_to_json(const YAML::Node& value) {
  if (value.IsScalar()) {
    try {
      const double number = value.as<double>();
      if (number == static_cast<double>(static_cast<int64_t>(number)) && value.Scalar().find_first_of(".eE") == std::string::npos) {
        return static_cast<int64_t>(number);
      }
      return number;
    } catch (const YAML::Exception&) {
      if (value.Scalar() == "true" || value.Scalar() == "false") return value.Scalar() == "true";
      return value.Scalar();
    }
  }
  return yaml_value_text(value);  // lists and maps as flow YAML text
}

// A point's config text, with experiment.threads set to one value so that points that ran with
// different --threads still compare equal (threads do not change results).
std::string comparable_config(const std::string& yaml_text, const std::string& source) {
  Config config = parse_config(yaml_text, source);
  config.experiment.threads = 1;
  return to_yaml(config);
}

// ---- The manifest (sweep.json) and the table -----------------------------------------------------

json manifest_of(const SweepPlan& plan) {
  json axes = json::array(), points = json::array();
  for (const auto& axis : plan.axes) {
    json values = json::array();
    for (const auto& value : axis.values) values.push_back(yaml_to_json(value));
    axes.push_back({{"name", axis.name}, {"key", axis.key}, {"numeric", axis.numeric}, {"values", values}});
  }
  for (const auto& point : plan.points) {
    json values = json::object();
    for (std::size_t a = 0; a < plan.axes.size(); ++a) values[plan.axes[a].name] = yaml_to_json(point.values[a]);
    points.push_back({{"point", point.index},
                      {"id", point.id},
                      {"label", point.label},
                      {"values", values},
                      {"config", fs::path("configs") / (point.id + ".yaml")},
                      {"dir", fs::path("points") / point.id}});
  }
  return {{"name", plan.points.front().config.experiment.name},
          {"source", plan.source},
          {"combine", plan.settings.combine},
          {"axes", axes},
          {"points", points},
          {"rows", json::array()}};
}

enum class PointState { Done, Failed, Running, Interrupted, Queued, Pending };
const char* state_name(PointState state) {
  switch (state) {
    case PointState::Done: return "done";
    case PointState::Failed: return "failed";
    case PointState::Running: return "running";
    case PointState::Interrupted: return "interrupted";
    case PointState::Queued: return "queued";
    case PointState::Pending: return "pending";
  }
  return "?";
}

// What a gather learnt of one point: whether it is done, and its rows. The local driver keeps them
// between its gathers (one after each point), so a point's two configs are parsed and its results
// read again only when one of its files changed, not once per finished point.
struct GatheredPoint {
  std::array<fs::file_time_type, 3> written{};  // configs/<id>.yaml, points/<id>/config.yaml, results.json
  bool done = false;
  json rows;  // result_rows of its results.json, when done
};
using GatherCache = std::map<std::string, GatheredPoint>;

fs::file_time_type written_time(const fs::path& path) {
  std::error_code error;
  const auto time = fs::last_write_time(path, error);
  return error ? fs::file_time_type::min() : time;
}

// A point is done when its run wrote results.json and config.yaml (the last file it writes) for
// the config the point has now: a point whose config changed since runs again.
const GatheredPoint& gathered_point(const SweepFiles& files, const std::string& id, GatherCache& cache) {
  const fs::path dir = files.point(id);
  const std::array<fs::file_time_type, 3> written = {written_time(files.config(id)), written_time(dir / "config.yaml"),
                                                     written_time(dir / "results.json")};
  const auto cached = cache.find(id);
  if (cached != cache.end() && cached->second.written == written) return cached->second;
  GatheredPoint& point = cache[id];
  point = GatheredPoint{written, false, json()};
  if (std::count(written.begin(), written.end(), fs::file_time_type::min()) > 0) return point;
  try {
    point.done = comparable_config(io::read_text_file(dir / "config.yaml"), (dir / "config.yaml").string()) ==
                 comparable_config(io::read_text_file(files.config(id)), files.config(id).string());
  } catch (const InputError&) {
    return point;  // an unreadable or outdated result: run the point again
  }
  if (point.done) point.rows = result_rows(read_json_document(dir / "results.json", run_results_shape()));
  return point;
}

void write_status(const SweepFiles& files, const std::string& id, const std::string& text) {
  io::write_file_atomically(files.status(id), text + "\n");
}

PointStatus read_status(const SweepFiles& files, const std::string& id) {
  std::error_code error;
  if (!fs::exists(files.status(id), error)) return {};
  return parse_point_status(io::read_text_file(files.status(id)));
}

// The array tasks of `jobs` that the Slurm queue still holds ("123_4" -> its state, e.g. PENDING or
// RUNNING); std::nullopt when squeue cannot tell (not on PATH, or it failed). squeue is started
// without a shell, and the job ids were checked when jobs.json was read.
std::optional<std::map<std::string, std::string>> slurm_queue(const std::vector<SlurmJob>& jobs) {
  std::map<std::string, std::string> states;
  if (jobs.empty()) return states;
  std::vector<std::string> ids;
  for (const auto& job : jobs) ids.push_back(job.job_id);
  const auto result =
      io::run_program({"squeue", "--noheader", "--array", "--format=%i %T", fmt::format("--jobs={}", fmt::join(ids, ","))});
  if (!result) return std::nullopt;
  if (result->exit_code != 0) {
    // squeue refuses a list of job ids none of which it still holds: the jobs have all left the queue.
    if (result->errors.find("Invalid job id") != std::string::npos) return states;
    return std::nullopt;
  }
  std::istringstream lines(result->output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string task, state;
    if (words >> task >> state) states[task] = state;
  }
  return states;
}

// The last error line a point's run wrote into its log ("error: ..."), for the table's detail.
std::string failure_reason(const fs::path& log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 65536);
  in.seekg(size - tail);
  std::string text(static_cast<std::size_t>(tail), '\0');
  in.read(text.data(), tail);
  std::string reason;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    for (const char* prefix : {"error: ", "internal error: "}) {
      if (line.rfind(prefix, 0) == 0) reason = line;
    }
  }
  if (reason.size() > 300) reason = reason.substr(0, 300) + "...";
  return printable_text(reason);
}

struct PointStates {
  std::vector<PointState> states;
  std::vector<std::string> details;  // exit code and reason, Slurm task and state
};

// Each point's state. A point is done when its results match its config; else a point whose latest
// Slurm task the queue holds is queued or running; a point a Slurm task started whose task the queue
// no longer holds was interrupted (cancelled, timed out, its node lost) and is run again; a point
// started locally runs while its driver does. `running_here`: the points this process runs itself
// (the local driver's, or none for a Slurm submission), or null when another process may be the
// driver (--status, --gather).
PointStates point_states(const SweepFiles& files, const json& manifest, GatherCache& cache,
                         const std::set<std::string>* running_here) {
  const bool other_driver_alive = running_here == nullptr && !io::FileLock::try_acquire(files.driver_lock()).has_value();
  const auto jobs = read_slurm_jobs(files.slurm_jobs());
  std::map<std::string, std::string> latest_task;  // point id -> "<job>_<task>" of the latest array that ran it
  for (const auto& job : jobs) {
    for (const auto& [index, id] : job.points) latest_task[id] = fmt::format("{}_{}", job.job_id, index);
  }
  const auto queue = slurm_queue(jobs);
  PointStates result;
  for (const auto& point : manifest.at("points")) {
    const std::string id = point.at("id");
    const PointStatus status = read_status(files, id);
    PointState state = PointState::Pending;
    std::string detail;
    const auto task = latest_task.find(id);
    const bool queued = queue && task != latest_task.end() && queue->count(task->second);
    if (gathered_point(files, id, cache).done) {
      state = PointState::Done;
    } else if (queued) {
      const std::string& slurm_state = queue->at(task->second);
      state = slurm_state == "RUNNING" || slurm_state == "COMPLETING" ? PointState::Running : PointState::Queued;
      detail = fmt::format("Slurm {} {}", task->second, slurm_state);
    } else if (status.state == PointStatus::State::Running && !status.slurm_task.empty()) {
      if (!queue) {
        state = PointState::Running;
        detail = fmt::format("Slurm {}; squeue cannot tell whether it still runs", status.slurm_task);
      } else if (queue->count(status.slurm_task)) {
        state = PointState::Running;
        detail = fmt::format("Slurm {} {}", status.slurm_task, queue->at(status.slurm_task));
      } else {
        state = PointState::Interrupted;
        detail = fmt::format("Slurm {} is no longer queued or running (cancelled, timed out or its node lost)",
                             status.slurm_task);
      }
    } else if (status.state == PointStatus::State::Finished && status.exit_code != 0) {
      state = PointState::Failed;
      const std::string reason = failure_reason(files.log(id));
      detail = fmt::format("exit {}{}; see {}", status.exit_code, reason.empty() ? "" : ": " + reason, files.log(id).string());
    } else if (status.state == PointStatus::State::Running) {
      const bool alive = running_here != nullptr ? running_here->count(id) > 0 : other_driver_alive;
      state = alive ? PointState::Running : PointState::Interrupted;
    } else if (!queue && task != latest_task.end() && status.state == PointStatus::State::None) {
      state = PointState::Queued;  // submitted, not started, and squeue cannot tell
      detail = fmt::format("Slurm {}; squeue cannot tell whether it is still queued", task->second);
    }
    result.states.push_back(state);
    result.details.push_back(detail);
  }
  return result;
}

struct TableCounts {
  int64_t done = 0, failed = 0, rows = 0;
};

// Rewrites sweep.json (the points, their states and the rows of the finished ones) and sweep.csv.
// Safe to run from many processes at once (the Slurm tasks): they take turns. `running_here`: as
// for point_states.
TableCounts gather_table(const SweepFiles& files, GatherCache& cache, const std::set<std::string>* running_here) {
  const auto lock = io::FileLock::acquire(files.table_lock());
  json manifest = read_json_document(files.manifest(), sweep_manifest_shape());
  TableCounts counts;
  if (manifest.value("cost_only", false)) {  // priced by --cost-only: its rows stand until a sweep runs here
    counts.rows = static_cast<int64_t>(manifest.at("rows").size());
    return counts;
  }
  const auto states = point_states(files, manifest, cache, running_here);
  json rows = json::array();
  for (std::size_t p = 0; p < manifest.at("points").size(); ++p) {
    auto& point = manifest["points"][p];
    point["state"] = state_name(states.states[p]);
    point.erase("detail");
    if (!states.details[p].empty()) point["detail"] = states.details[p];
    if (states.states[p] == PointState::Failed) ++counts.failed;
    if (states.states[p] != PointState::Done) continue;
    ++counts.done;
    for (auto& row : point_rows(point, cache.at(point.at("id").get<std::string>()).rows)) rows.push_back(std::move(row));
  }
  counts.rows = static_cast<int64_t>(rows.size());
  manifest["rows"] = rows;
  manifest["gathered_utc"] = utc_timestamp();
  io::write_file_atomically(files.manifest(), manifest.dump(2) + "\n");
  io::write_file_atomically(files.table(), table_csv(manifest));
  return counts;
}

// A gather from a one-off command (--status, --gather, a Slurm submission).
TableCounts gather_table(const SweepFiles& files, const std::set<std::string>* running_here) {
  GatherCache cache;
  return gather_table(files, cache, running_here);
}

// ---- Planning and validation ---------------------------------------------------------------------

SweepPlan load_plan(const SweepCommandOptions& options) {
  if (options.config_path.empty()) throw InputError("bitline sweep: expected --config FILE (a config with a `sweep:` section)");
  YAML::Node root = resolve_config_file(options.config_path);
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw InputError(fmt::format("{}: expected a YAML map of sections", options.config_path));
  for (const auto& setting : options.settings) apply_config_setting(root, setting);
  return plan_sweep(root, options.settings.empty() ? options.config_path : options.config_path + " with --set");
}

// The sections a probed model depends on (cost_report.h): points that agree on them share one.
std::string probe_key(const Config& config) {
  const YAML::Node node = NodeEmitter::emit(config);
  return dump_yaml(node["data"]) + dump_yaml(node["model"]) + dump_yaml(node["quantization"]) +
         dump_yaml(node["train"]["fcc"]) + (pairs_filters(config) ? "paired" : "");
}

// Each point's cost on each of its macros, as `bitline run` checks before it trains: a chip that
// cannot hold the model, or a layer override that matches no layer, fails the sweep before anything
// runs. The costs are what --cost-only reports.
std::vector<std::vector<core::cost::NetworkCost>> price_points(const SweepPlan& plan) {
  std::map<std::string, std::shared_ptr<nn::Model>> probes;
  std::vector<std::vector<core::cost::NetworkCost>> costs;
  for (const auto& point : plan.points) {
    const std::string where = fmt::format("{}: sweep point {} ({})", plan.source, point.id, point.label);
    auto& model = probes[probe_key(point.config)];
    try {
      if (!model) model = point.config.macros.empty() ? build_configured_model(point.config) : probed_model(point.config);
    } catch (const InputError& error) {
      throw InputError(fmt::format("{}: {}", where, error.what()));
    }
    costs.emplace_back();
    for (const auto& macro : point.config.macros) costs.back().push_back(probed_cost(*model, point.config, macro, where));
  }
  return costs;
}

// Each distinct data section of the points, loaded as `bitline run` loads it: a missing or bad data
// set refuses the sweep before its directory is made, not in every point.
void check_datasets(const SweepPlan& plan) {
  std::set<std::string> checked;
  for (const auto& point : plan.points) {
    const YAML::Node node = NodeEmitter::emit(point.config.data);
    if (!checked.insert(dump_yaml(node)).second) continue;
    try {
      nn::load_datasets(data_options(point.config.data));
    } catch (const InputError& error) {
      throw InputError(fmt::format("{}: sweep point {} ({}): {}", plan.source, point.id, point.label, error.what()));
    }
  }
}

void prepare_sweep_directory(const SweepPlan& plan, const SweepFiles& files) {
  std::vector<io::OutputDirectory> dirs = {{files.dir, kSweepDirectoryEntries, "experiment.run_dir (the sweep directory)"}};
  const fs::path checkpoints = checkpoint_dir(plan.points.front().config);
  if (checkpoints.lexically_normal() != (files.dir / "checkpoints").lexically_normal()) {
    dirs.push_back({checkpoints, kCheckpointDirectoryEntries, "experiment.checkpoint_dir"});
  }
  io::prepare_output_directories(dirs);
  for (const char* sub : {"configs", "points", "logs"}) io::create_output_directory(files.dir / sub, "the sweep directory");
}

// Writes each point's config and the manifest (keeping the rows gathered so far).
void write_point_configs(const SweepPlan& plan, const SweepFiles& files) {
  for (const auto& point : plan.points) {
    const std::string text = fmt::format("# {}: sweep point {} ({})\n{}", plan.source, point.id, point.label, to_yaml(point.config));
    const fs::path path = files.config(point.id);
    if (!fs::exists(path) || io::read_text_file(path) != text) io::write_file_atomically(path, text);
  }
  const auto lock = io::FileLock::acquire(files.table_lock());
  io::write_file_atomically(files.manifest(), manifest_of(plan).dump(2) + "\n");
}

io::FileLock hold_driver_lock(const SweepFiles& files) {
  auto lock = io::FileLock::try_acquire(files.driver_lock());
  if (!lock) {
    throw InputError(fmt::format("{}: another `bitline sweep` is running or submitting this sweep ({} is held); wait "
                                 "for it, or stop it first",
                                 files.dir.string(), files.driver_lock().string()));
  }
  return std::move(*lock);
}

// ---- --cost-only ---------------------------------------------------------------------------------

json cost_rows(const Config& config, const std::vector<core::cost::NetworkCost>& costs) {
  json results = {{"evaluations", json::array()}};
  auto macro_index = [&](const std::string& name) {
    for (std::size_t m = 0; m < config.macros.size(); ++m) if (config.macros[m].name == name) return m;
    return config.macros.size();
  };
  for (const auto& run : config.evaluation.runs) {
    if (!run.macro) continue;
    const std::size_t m = macro_index(*run.macro);
    if (m == config.macros.size()) continue;
    results["evaluations"].push_back({{"name", run.name}, {"mode", run.mode}, {"macro", *run.macro}, {"cost", cost_json(costs[m])}});
  }
  if (results["evaluations"].empty()) {  // no simulate evaluation: one row per macro
    for (std::size_t m = 0; m < config.macros.size(); ++m) {
      results["evaluations"].push_back({{"name", config.macros[m].name}, {"mode", "cost"}, {"macro", config.macros[m].name},
                                        {"cost", cost_json(costs[m])}});
    }
  }
  return result_rows(results);
}

int run_cost_only(const SweepPlan& plan, const SweepFiles& files, const std::vector<std::vector<core::cost::NetworkCost>>& costs) {
  json manifest = manifest_of(plan);
  json rows = json::array();
  for (std::size_t p = 0; p < plan.points.size(); ++p) {
    const auto& point = plan.points[p];
    const auto& config = point.config;
    for (std::size_t m = 0; m < config.macros.size(); ++m) {
      io::write_file_atomically(files.point(point.id) / fmt::format("cost_{}.json", config.macros[m].name),
                                cost_json(costs[p][m]).dump(2) + "\n");
    }
    manifest["points"][p]["state"] = "priced";
    for (auto& row : point_rows(manifest["points"][p], cost_rows(config, costs[p]))) rows.push_back(std::move(row));
  }
  manifest["rows"] = rows;
  manifest["cost_only"] = true;
  manifest["gathered_utc"] = utc_timestamp();
  const auto lock = io::FileLock::acquire(files.table_lock());
  io::write_file_atomically(files.manifest(), manifest.dump(2) + "\n");
  io::write_file_atomically(files.table(), table_csv(manifest));
  fmt::print("priced {} points ({} rows, no training or evaluation)\nwrote {}\nwrote {}\n", plan.points.size(), rows.size(),
             files.manifest().string(), files.table().string());
  return 0;
}

// ---- Local executor ------------------------------------------------------------------------------

// The points to run, each training group's first point before the others: with --jobs N, N groups
// train at once instead of N points waiting on one group's training lock.
std::vector<std::size_t> run_order(const SweepPlan& plan, const std::vector<std::size_t>& pending) {
  std::set<std::string> seen;
  std::vector<std::size_t> first, rest;
  for (const auto p : pending) {
    const Config& config = plan.points[p].config;
    std::string key = config.experiment.checkpoint_dir + "|";
    if (config.train.float_stage.epochs > 0) key += float_stage_hash(config);
    if (config.train.qat_stage.epochs > 0) key += "|" + qat_stage_hash(config);
    if (config.train.fcc_stage.epochs > 0) key += "|" + fcc_stage_hash(config);
    (seen.insert(key).second ? first : rest).push_back(p);
  }
  first.insert(first.end(), rest.begin(), rest.end());
  return first;
}

// Starts `bitline run` on one point, its output in the point's log. The child is killed when the
// driver dies, so a killed sweep leaves no point running behind it.
pid_t spawn_point(const SweepFiles& files, const SweepPoint& point, int threads) {
  const std::string binary = own_binary().string(), config = files.config(point.id).string(),
                    log = files.log(point.id).string(), thread_text = std::to_string(threads);
  std::vector<const char*> argv = {binary.c_str(), "run",       "--config", config.c_str(), "--no-progress",
                                   "--threads",    thread_text.c_str(), nullptr};
  const pid_t parent = getpid();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("bitline sweep: fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the driver died before prctl
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    execv(binary.c_str(), const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  return pid;
}

int run_locally(const SweepPlan& plan, const SweepFiles& files, const SweepCommandOptions& options) {
  GatherCache cache;
  std::vector<std::size_t> pending;
  for (std::size_t p = 0; p < plan.points.size(); ++p) {
    if (!gathered_point(files, plan.points[p].id, cache).done) pending.push_back(p);
  }
  const int jobs = std::max(1, options.jobs);
  const int threads = options.threads > 0 ? options.threads
                                          : std::max<int>(1, static_cast<int>(plan.points.front().config.experiment.threads) / jobs);
  const std::size_t total = plan.points.size(), already = total - pending.size();
  fmt::print("bitline sweep: {} points in {} ({} already done), {} at a time with {} thread{} each\n", total,
             files.dir.string(), already, jobs, threads, threads == 1 ? "" : "s");
  std::fflush(stdout);
  std::set<std::string> running_ids;  // the points this driver runs now
  gather_table(files, cache, &running_ids);

  const auto order = run_order(plan, pending);
  std::map<pid_t, std::pair<std::size_t, Clock::time_point>> running;
  std::size_t next = 0, finished = 0, failed = 0;
  const auto start = Clock::now();
  while (next < order.size() || !running.empty()) {
    while (next < order.size() && static_cast<int>(running.size()) < jobs) {
      const auto& point = plan.points[order[next]];
      write_status(files, point.id, "running " + utc_timestamp());
      running[spawn_point(files, point, threads)] = {order[next], Clock::now()};
      running_ids.insert(point.id);
      ++next;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("bitline sweep: waitpid failed");
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto [index, started] = it->second;
    running.erase(it);
    const auto& point = plan.points[index];
    running_ids.erase(point.id);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    write_status(files, point.id, fmt::format("finished {} {}", code, utc_timestamp()));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    ++finished;
    if (code != 0) ++failed;
    const auto counts = gather_table(files, cache, &running_ids);
    const std::size_t left = order.size() - finished;
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    // The time per point so far, spread over the jobs (wall / finished already reflects the parallelism).
    const double eta = left == 0 ? 0.0 : wall / static_cast<double>(finished) * static_cast<double>(left);
    const std::string reason = code == 0 ? "" : failure_reason(files.log(point.id));
    fmt::print("sweep: {} {} in {:.1f} s ({}); {}/{} points done, {} failed{}\n", point.id,
               code == 0 ? "done"
                         : fmt::format("FAILED (exit {}{}, see {})", code, reason.empty() ? "" : ": " + reason,
                                       files.log(point.id).string()),
               seconds,
               point.label, counts.done, total, failed, left ? ", ETA " + format_duration(eta) : "");
    std::fflush(stdout);
  }
  const auto counts = gather_table(files, cache, &running_ids);
  fmt::print("wrote {} ({} rows) and {}\nthe report: bitline report {}\n", files.table().string(), counts.rows,
             files.manifest().string(), files.dir.string());
  if (counts.done != static_cast<int64_t>(total)) {
    fmt::print(stderr, "error: {} of {} points did not finish; their logs are in {}; run the same command again to retry them\n",
               total - counts.done, total, (files.dir / "logs").string());
    return 1;
  }
  return 0;
}

// ---- Slurm executor ------------------------------------------------------------------------------

// "0-3,5,7-9" for sbatch --array.
std::string array_spec(const std::vector<int64_t>& indices) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    parts.push_back(j == i ? std::to_string(indices[i]) : fmt::format("{}-{}", indices[i], indices[j]));
    i = j + 1;
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

// A Slurm setting given on the command line, checked by the rule its sweep.slurm key has.
void check_option(const std::string& option, const std::string& value, const TextRule& rule) {
  if (!rule.accepts(value)) {
    throw InputError(fmt::format("{}: expected {}, found '{}'", option, rule.description, printable_text(value)));
  }
}

SlurmConfig slurm_settings(const SweepPlan& plan, const SweepCommandOptions& options) {
  SlurmConfig slurm = plan.settings.slurm;  // checked when the config was read
  check_option("--partition", options.partition, kSlurmPartition);
  check_option("--time", options.time, kSlurmTime);
  check_option("--mem", options.memory, kSlurmMemory);
  for (const auto& argument : options.sbatch_args) check_option("--sbatch-arg", argument, kSbatchOption);
  if (!options.partition.empty()) slurm.partition = options.partition;
  if (!options.time.empty()) slurm.time = options.time;
  if (!options.memory.empty()) slurm.memory = options.memory;
  if (options.cpus_per_task > 0) slurm.cpus_per_task = options.cpus_per_task;
  if (options.max_parallel > 0) slurm.max_parallel = options.max_parallel;
  slurm.sbatch_args.insert(slurm.sbatch_args.end(), options.sbatch_args.begin(), options.sbatch_args.end());
  if (slurm.bitline.empty()) slurm.bitline = own_binary().string();
  return slurm;
}

// A job array submission: sbatch's arguments (every setting one argument of its own: sbatch is
// started without a shell) and the script each task runs.
struct SlurmSubmission {
  std::vector<std::string> options;  // after `sbatch`, before the script
  std::string script;
};

// A path or name that goes into the script or a comment line of it must be one line.
void check_one_line(const std::string& what, const std::string& value) {
  if (!kOneLineText.accepts(value)) {
    throw InputError(fmt::format("{}: expected {}, found '{}'", what, kOneLineText.description, printable_text(value)));
  }
}

SlurmSubmission slurm_submission(const SweepPlan& plan, const SweepFiles& files, const SlurmConfig& slurm,
                                 const std::vector<int64_t>& indices) {
  const fs::path dir = fs::absolute(files.dir), working_dir = fs::current_path();
  check_one_line("experiment.run_dir (the sweep directory)", dir.string());
  check_one_line("the working directory", working_dir.string());
  check_one_line("sweep.slurm.bitline", slurm.bitline);
  SlurmSubmission submission;
  std::string array = array_spec(indices);
  if (slurm.max_parallel > 0) array += fmt::format("%{}", slurm.max_parallel);
  auto& o = submission.options;
  o = {"--array=" + array,
       "--job-name=bitline-" + plan.points.front().config.experiment.name,
       "--output=" + (dir / "logs" / "slurm-%A_%a.out").string(),
       "--chdir=" + working_dir.string(),
       fmt::format("--cpus-per-task={}", slurm.cpus_per_task),
       "--ntasks=1"};
  if (!slurm.time.empty()) o.push_back("--time=" + slurm.time);
  if (!slurm.partition.empty()) o.push_back("--partition=" + slurm.partition);
  if (!slurm.memory.empty()) o.push_back("--mem=" + slurm.memory);
  o.insert(o.end(), slurm.sbatch_args.begin(), slurm.sbatch_args.end());

  std::string command = "sbatch";
  for (const auto& option : o) command += " " + io::shell_quote(option);
  const int digits = static_cast<int>(plan.points.front().id.size()) - 1;
  // The task: runs its point with `bitline run`, records the exit code, gathers the table. The only
  // values substituted into its lines are the two paths, quoted by io::shell_quote.
  submission.script = fmt::format(
      "#!/bin/bash\n"
      "# Written by `bitline sweep --executor slurm` (docs/sweeps.md): one array task per point, submitted as\n"
      "#   {command} {script}\n"
      "set -u\n"
      "bitline={bitline}\n"
      "sweep={dir}\n"
      "point=$(printf 'p%0{digits}d' \"$SLURM_ARRAY_TASK_ID\")\n"
      "status=\"$sweep/logs/$point.status\"\n"
      "echo \"running $(date -u +%Y-%m-%dT%H:%M:%SZ) slurm ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}} $(hostname -s)\" "
      "> \"$status.tmp\" && mv -f \"$status.tmp\" \"$status\"\n"
      "\"$bitline\" run --config \"$sweep/configs/$point.yaml\" --no-progress --threads \"${{SLURM_CPUS_PER_TASK:-1}}\" "
      "> \"$sweep/logs/$point.log\" 2>&1\n"
      "code=$?\n"
      "echo \"finished $code $(date -u +%Y-%m-%dT%H:%M:%SZ)\" > \"$status.tmp\" && mv -f \"$status.tmp\" \"$status\"\n"
      "\"$bitline\" sweep --gather \"$sweep\" >> \"$sweep/logs/$point.log\" 2>&1\n"
      "exit $code\n",
      fmt::arg("command", command), fmt::arg("script", io::shell_quote(files.slurm_script().string())),
      fmt::arg("bitline", io::shell_quote(slurm.bitline)), fmt::arg("dir", io::shell_quote(dir.string())),
      fmt::arg("digits", digits));
  return submission;
}

// Runs sbatch (never through a shell); `script`: a file, or none to hand it the script on stdin.
io::ProcessResult run_sbatch(const std::vector<std::string>& arguments, const std::string& script_path,
                             const std::string& script_text) {
  std::vector<std::string> argv = {"sbatch"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  if (!script_path.empty()) argv.push_back(script_path);
  const auto result = io::run_program(argv, script_path.empty() ? script_text : "");
  if (!result) throw InputError("bitline sweep --executor slurm: sbatch not found on PATH; run it on a Slurm login node");
  return *result;
}

void require_sbatch() {
  if (!io::find_program("sbatch")) {
    throw InputError("bitline sweep --executor slurm: sbatch not found on PATH; run it on a Slurm login node");
  }
}

// sbatch --test-only: would Slurm take this array? Nothing is submitted; a refusal exits 2.
void test_submission(const SlurmSubmission& submission) {
  std::vector<std::string> arguments = {"--test-only"};
  arguments.insert(arguments.end(), submission.options.begin(), submission.options.end());
  const auto result = run_sbatch(arguments, "", submission.script);
  if (result.exit_code != 0) {
    throw InputError(fmt::format("sbatch refused the job array (exit {}), nothing was written: {}", result.exit_code,
                                 printable_text(result.errors + result.output)));
  }
}

std::vector<int64_t> all_point_indices(const SweepPlan& plan) {
  std::vector<int64_t> indices;
  for (const auto& point : plan.points) indices.push_back(point.index);
  return indices;
}

int submit_to_slurm(const SweepPlan& plan, const SweepFiles& files, const SlurmConfig& slurm) {
  const std::set<std::string> nothing_runs_here;
  gather_table(files, &nothing_runs_here);
  // Points neither done nor still in the queue from an earlier submission: new, failed, interrupted.
  const json manifest = read_json_document(files.manifest(), sweep_manifest_shape());
  std::vector<int64_t> indices;
  std::vector<std::pair<int64_t, std::string>> submitted;
  for (const auto& point : manifest.at("points")) {
    const std::string state = point.value("state", "");
    if (state == "done" || state == "queued" || state == "running") continue;
    indices.push_back(point.at("point").get<int64_t>());
    submitted.emplace_back(indices.back(), point.at("id"));
  }
  if (indices.empty()) {
    fmt::print("every point of {} is done, queued or running; nothing to submit (bitline sweep --status {})\n",
               files.dir.string(), files.dir.string());
    return 0;
  }
  const auto submission = slurm_submission(plan, files, slurm, indices);
  io::write_file_atomically(files.slurm_script(), submission.script);
  std::vector<std::string> arguments = {"--parsable"};
  arguments.insert(arguments.end(), submission.options.begin(), submission.options.end());
  const auto result = run_sbatch(arguments, files.slurm_script().string(), "");
  if (result.exit_code != 0) {
    throw InputError(fmt::format("sbatch refused the job array (exit {}): {}", result.exit_code,
                                 printable_text(result.errors + result.output)));
  }
  const std::string job_id = result.output.substr(0, result.output.find_first_of(";\n"));
  if (!kSlurmJobId.accepts(job_id)) {
    throw std::runtime_error(fmt::format("sbatch --parsable printed '{}', not a job id; the array may have been submitted: "
                                         "check squeue",
                                         printable_text(result.output)));
  }
  auto jobs = read_slurm_jobs(files.slurm_jobs());
  jobs.push_back({job_id, utc_timestamp(), submission.options.front().substr(std::string("--array=").size()), submitted});
  io::write_file_atomically(files.slurm_jobs(), slurm_jobs_json(jobs));
  fmt::print("submitted Slurm job array {} ({} points, {}); follow it with: bitline sweep --status {}\n", job_id,
             indices.size(), submission.options.front(), files.dir.string());
  return 0;
}

// ---- --status ------------------------------------------------------------------------------------

int print_status(const SweepFiles& files) {
  if (!fs::exists(files.manifest())) {
    throw InputError(fmt::format("{}: expected a sweep directory (with sweep.json), found none", files.dir.string()));
  }
  gather_table(files, nullptr);  // records each point's state and detail in sweep.json (a --cost-only table: "priced")
  const json manifest = read_json_document(files.manifest(), sweep_manifest_shape());
  std::map<std::string, int> counts;
  fmt::print("{:<8} {:<12} {:<48} {}\n", "point", "state", "values", "detail");
  for (const auto& point : manifest.at("points")) {
    const std::string state = point.at("state");
    ++counts[state];
    fmt::print("{:<8} {:<12} {:<48} {}\n", point.at("id").get<std::string>(), state, point.at("label").get<std::string>(),
               point.value("detail", std::string()));
  }
  std::vector<std::string> parts;
  for (const auto& [state, count] : counts) parts.push_back(fmt::format("{} {}", count, state));
  fmt::print("{} points: {}; table: {}\n", manifest.at("points").size(), fmt::join(parts, ", "), files.table().string());
  return 0;
}


}  // namespace

int run_sweep_command(const SweepCommandOptions& options) {
  if (!options.status_dir.empty()) return print_status(SweepFiles{options.status_dir});
  if (!options.gather_dir.empty()) {
    const SweepFiles files{options.gather_dir};
    if (!fs::exists(files.manifest())) {
      throw InputError(fmt::format("{}: expected a sweep directory (with sweep.json), found none", files.dir.string()));
    }
    const auto counts = gather_table(files, nullptr);
    fmt::print("gathered {} rows of {} finished points into {}\n", counts.rows, counts.done, files.table().string());
    return 0;
  }
  if (options.executor != "local" && options.executor != "slurm") {
    throw InputError(fmt::format("--executor: expected local or slurm, found '{}'", options.executor));
  }
  const auto plan_start = Clock::now();
  const SweepPlan plan = load_plan(options);
  nn::set_threads(static_cast<int>(plan.points.front().config.experiment.threads));
  if (options.dry_run) {
    for (const auto& point : plan.points) fmt::print("{}  {}\n", point.id, point.label);
    fmt::print("{} points ({}), sweep directory {}\n", plan.points.size(), plan.settings.combine, plan.dir.string());
    return 0;
  }
  // Everything that can refuse the sweep runs before anything is written, as for `bitline run`.
  const auto costs = price_points(plan);
  if (!options.cost_only) check_datasets(plan);
  const SweepFiles files{plan.dir};
  const bool slurm = options.executor == "slurm" && !options.cost_only;
  SlurmConfig slurm_config;
  const bool new_sweep = !fs::exists(files.manifest());
  if (slurm) {
    slurm_config = slurm_settings(plan, options);
    require_sbatch();
    // A new sweep: would Slurm take the array? (A sweep run before is asked when its points are known.)
    if (new_sweep) test_submission(slurm_submission(plan, files, slurm_config, all_point_indices(plan)));
  }
  fmt::print("{} points validated in {:.2f} s\n", plan.points.size(),
             std::chrono::duration<double>(Clock::now() - plan_start).count());
  const bool new_directory = !fs::exists(files.dir);
  prepare_sweep_directory(plan, files);
  try {
    const auto driver_lock = hold_driver_lock(files);
    write_point_configs(plan, files);
    if (options.cost_only) return run_cost_only(plan, files, costs);
    if (slurm) return submit_to_slurm(plan, files, slurm_config);
    return run_locally(plan, files, options);
  } catch (const InputError&) {
    // Refused after all (sbatch changed its mind between the test and the submission): a sweep
    // directory this command created holds nothing of value yet.
    if (new_directory && slurm) {
      std::error_code ignored;
      fs::remove_all(files.dir, ignored);
    }
    throw;
  }
}

}  // namespace bitline::app
