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
#include <set>

#include "app/config.h"
#include "app/cost_report.h"
#include "app/experiment.h"
#include "app/fcc.h"
#include "app/progress.h"
#include "app/report.h"
#include "app/sweep_config.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/file_lock.h"
#include "nn/runtime.h"

namespace bitline::app {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The sweep directory's files (docs/sweeps.md).
struct SweepFiles {
  fs::path dir;
  fs::path manifest() const { return dir / "sweep.json"; }
  fs::path table() const { return dir / "sweep.csv"; }
  fs::path config(const std::string& id) const { return dir / "configs" / (id + ".yaml"); }
  fs::path point(const std::string& id) const { return dir / "points" / id; }
  fs::path log(const std::string& id) const { return dir / "logs" / (id + ".log"); }
  fs::path status(const std::string& id) const { return dir / "logs" / (id + ".status"); }
  fs::path driver_lock() const { return dir / "sweep.lock"; }  // held by the process that runs or submits the sweep
  fs::path table_lock() const { return dir / "table.lock"; }   // held while sweep.json / sweep.csv are rewritten
  fs::path slurm_jobs() const { return dir / "slurm" / "jobs.json"; }
  fs::path slurm_script() const { return dir / "slurm" / "array.sh"; }
};

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
  if (point.done) point.rows = result_rows(read_json_file(dir / "results.json"));
  return point;
}

// The status file: "running <utc> [slurm <job>]" while a point runs, "finished <exit code> <utc>" after.
std::pair<std::string, int> read_status(const SweepFiles& files, const std::string& id) {
  std::ifstream in(files.status(id));
  std::string word;
  int code = 0;
  if (!(in >> word)) return {"", 0};
  if (word == "finished") in >> code;
  return {word, code};
}

void write_status(const SweepFiles& files, const std::string& id, const std::string& text) {
  io::write_file_atomically(files.status(id), text + "\n");
}

// Array task id ("123_4") -> Slurm state, for the job arrays this sweep submitted that the queue still holds.
std::map<std::string, std::string> slurm_queue(const SweepFiles& files) {
  std::map<std::string, std::string> states;
  if (!fs::exists(files.slurm_jobs())) return states;
  std::vector<std::string> ids;
  for (const auto& job : read_json_file(files.slurm_jobs())) ids.push_back(job.at("job_id").get<std::string>());
  if (ids.empty()) return states;
  const std::string command = fmt::format("squeue -h -r -o '%i %T' -j {} 2>/dev/null", fmt::join(ids, ","));
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return states;
  std::array<char, 512> line{};
  while (std::fgets(line.data(), line.size(), pipe.get())) {
    std::string text(line.data());
    const auto space = text.find(' ');
    if (space == std::string::npos) continue;
    std::string state = text.substr(space + 1);
    while (!state.empty() && std::isspace(static_cast<unsigned char>(state.back()))) state.pop_back();
    states[text.substr(0, space)] = state;
  }
  return states;
}

// Point id -> its array task ("123_4") in the latest array that ran it.
std::map<std::string, std::string> slurm_tasks(const SweepFiles& files) {
  std::map<std::string, std::string> tasks;
  if (!fs::exists(files.slurm_jobs())) return tasks;
  for (const auto& job : read_json_file(files.slurm_jobs())) {
    for (const auto& point : job.at("points")) {
      tasks[point.at("id").get<std::string>()] = fmt::format("{}_{}", job.at("job_id").get<std::string>(), point.at("point").get<int64_t>());
    }
  }
  return tasks;
}

struct PointStates {
  std::vector<PointState> states;
  std::vector<std::string> details;  // exit code, Slurm state
};

PointStates point_states(const SweepFiles& files, const json& manifest, GatherCache& cache) {
  const bool driver_alive = !io::FileLock::try_acquire(files.driver_lock()).has_value();
  const auto queue = slurm_queue(files);
  const auto tasks = slurm_tasks(files);
  PointStates result;
  for (const auto& point : manifest.at("points")) {
    const std::string id = point.at("id");
    const auto [word, code] = read_status(files, id);
    PointState state = PointState::Pending;
    std::string detail;
    const auto task = tasks.find(id);
    const auto queued = task == tasks.end() ? queue.end() : queue.find(task->second);
    if (gathered_point(files, id, cache).done) {
      state = PointState::Done;
    } else if (queued != queue.end()) {
      state = queued->second == "RUNNING" ? PointState::Running : PointState::Queued;
      detail = fmt::format("Slurm {} {}", task->second, queued->second);
    } else if (word == "finished" && code != 0) {
      state = PointState::Failed;
      detail = fmt::format("exit {}, see {}", code, files.log(id).string());
    } else if (word == "running") {
      // A local driver that died, or a Slurm task the queue no longer holds (cancelled, timed out, node lost).
      state = driver_alive ? PointState::Running : PointState::Interrupted;
    }
    result.states.push_back(state);
    result.details.push_back(detail);
  }
  return result;
}

std::string csv_cell(const json& value) {
  if (value.is_null()) return "";
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) return shortest_decimal(value.get<double>());
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return csv_field(value.is_string() ? value.get<std::string>() : value.dump());
}

const std::vector<std::string> kRowColumns = {"evaluation", "mode", "macro", "precision", "accuracy_percent", "loss",
                                              "min_csnr_db", "energy_nj_per_image", "latency_us_per_image",
                                              "tops_per_w", "area_mm2"};

std::string table_csv(const json& manifest) {
  std::vector<std::string> header = {"point", "label"};
  for (const auto& axis : manifest.at("axes")) header.push_back(axis.at("name"));
  header.insert(header.end(), kRowColumns.begin(), kRowColumns.end());
  std::string text = fmt::format("{}\n", fmt::join(header, ","));
  for (const auto& row : manifest.at("rows")) {
    std::vector<std::string> cells;
    for (const auto& column : header) cells.push_back(csv_cell(row.contains(column) ? row.at(column) : json()));
    text += fmt::format("{}\n", fmt::join(cells, ","));
  }
  return text;
}

// The table's rows of one point, its axis values first.
json point_rows(const json& point, const json& rows) {
  json out = json::array();
  for (const auto& row : rows) {
    json full = {{"point", point.at("point")}, {"label", point.at("label")}};
    for (const auto& [name, value] : point.at("values").items()) full[name] = value;
    for (const auto& [key, value] : row.items()) full[key] = value;
    out.push_back(full);
  }
  return out;
}

struct TableCounts {
  int64_t done = 0, failed = 0, rows = 0;
};

// Rewrites sweep.json (the points, their states and the rows of the finished ones) and sweep.csv.
// Safe to run from many processes at once (the Slurm tasks): they take turns.
TableCounts gather_table(const SweepFiles& files, GatherCache& cache) {
  const auto lock = io::FileLock::acquire(files.table_lock());
  json manifest = read_json_file(files.manifest());
  TableCounts counts;
  if (manifest.value("cost_only", false)) {  // priced by --cost-only: its rows stand until a sweep runs here
    counts.rows = static_cast<int64_t>(manifest.at("rows").size());
    return counts;
  }
  const auto states = point_states(files, manifest, cache);
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
TableCounts gather_table(const SweepFiles& files) {
  GatherCache cache;
  return gather_table(files, cache);
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

void prepare_sweep_directory(const SweepPlan& plan, const SweepFiles& files) {
  io::prepare_output_directory(files.dir, kSweepDirectoryEntries, "experiment.run_dir (the sweep directory)");
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
  gather_table(files, cache);

  const auto order = run_order(plan, pending);
  std::map<pid_t, std::pair<std::size_t, Clock::time_point>> running;
  std::size_t next = 0, finished = 0, failed = 0;
  const auto start = Clock::now();
  while (next < order.size() || !running.empty()) {
    while (next < order.size() && static_cast<int>(running.size()) < jobs) {
      const auto& point = plan.points[order[next]];
      write_status(files, point.id, "running " + utc_timestamp());
      running[spawn_point(files, point, threads)] = {order[next], Clock::now()};
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
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    write_status(files, point.id, fmt::format("finished {} {}", code, utc_timestamp()));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    ++finished;
    if (code != 0) ++failed;
    const auto counts = gather_table(files, cache);
    const std::size_t left = order.size() - finished;
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    // The time per point so far, spread over the jobs (wall / finished already reflects the parallelism).
    const double eta = left == 0 ? 0.0 : wall / static_cast<double>(finished) * static_cast<double>(left);
    fmt::print("sweep: {} {} in {:.1f} s ({}); {}/{} points done, {} failed{}\n", point.id,
               code == 0 ? "done" : fmt::format("FAILED (exit {}, see {})", code, files.log(point.id).string()), seconds,
               point.label, counts.done, total, failed, left ? ", ETA " + format_duration(eta) : "");
    std::fflush(stdout);
  }
  const auto counts = gather_table(files, cache);
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

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

SlurmConfig slurm_settings(const SweepPlan& plan, const SweepCommandOptions& options) {
  SlurmConfig slurm = plan.settings.slurm;
  if (!options.partition.empty()) slurm.partition = options.partition;
  if (!options.time.empty()) slurm.time = options.time;
  if (!options.memory.empty()) slurm.memory = options.memory;
  if (options.cpus_per_task > 0) slurm.cpus_per_task = options.cpus_per_task;
  if (options.max_parallel > 0) slurm.max_parallel = options.max_parallel;
  slurm.sbatch_args.insert(slurm.sbatch_args.end(), options.sbatch_args.begin(), options.sbatch_args.end());
  if (slurm.bitline.empty()) slurm.bitline = own_binary().string();
  return slurm;
}

// The array task: runs its point with `bitline run`, records the exit code, gathers the table.
std::string slurm_script(const SweepPlan& plan, const SweepFiles& files, const SlurmConfig& slurm) {
  const fs::path dir = fs::absolute(files.dir);
  const int digits = static_cast<int>(plan.points.front().id.size()) - 1;
  std::string text = "#!/bin/bash\n# Written by `bitline sweep --executor slurm` (docs/sweeps.md): one array task per point.\n";
  text += fmt::format("#SBATCH --job-name={}\n", shell_quote("bitline-" + plan.points.front().config.experiment.name));
  text += fmt::format("#SBATCH --output={}\n", shell_quote((dir / "logs" / "slurm-%A_%a.out").string()));
  text += fmt::format("#SBATCH --chdir={}\n", shell_quote(fs::current_path().string()));
  text += fmt::format("#SBATCH --cpus-per-task={}\n#SBATCH --ntasks=1\n", slurm.cpus_per_task);
  if (!slurm.time.empty()) text += fmt::format("#SBATCH --time={}\n", slurm.time);
  if (!slurm.partition.empty()) text += fmt::format("#SBATCH --partition={}\n", slurm.partition);
  if (!slurm.memory.empty()) text += fmt::format("#SBATCH --mem={}\n", slurm.memory);
  for (const auto& argument : slurm.sbatch_args) text += fmt::format("#SBATCH {}\n", argument);
  text += fmt::format(
      "set -u\n"
      "bitline={bitline}\n"
      "sweep={dir}\n"
      "point=$(printf 'p%0{digits}d' \"$SLURM_ARRAY_TASK_ID\")\n"
      "echo \"running $(date -u +%Y-%m-%dT%H:%M:%SZ) slurm ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}} $(hostname -s)\" "
      "> \"$sweep/logs/$point.status\"\n"
      "\"$bitline\" run --config \"$sweep/configs/$point.yaml\" --no-progress --threads \"${{SLURM_CPUS_PER_TASK:-1}}\" "
      "> \"$sweep/logs/$point.log\" 2>&1\n"
      "code=$?\n"
      "echo \"finished $code $(date -u +%Y-%m-%dT%H:%M:%SZ)\" > \"$sweep/logs/$point.status\"\n"
      "\"$bitline\" sweep --gather \"$sweep\" >> \"$sweep/logs/$point.log\" 2>&1\n"
      "exit $code\n",
      fmt::arg("bitline", shell_quote(slurm.bitline)), fmt::arg("dir", shell_quote(dir.string())), fmt::arg("digits", digits));
  return text;
}

std::string command_output(const std::string& command, int& exit_code) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("bitline sweep: cannot run " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get())) output += buffer.data();
  const int status = pclose(pipe.release());
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return output;
}

int submit_to_slurm(const SweepPlan& plan, const SweepFiles& files, const SweepCommandOptions& options) {
  const SlurmConfig slurm = slurm_settings(plan, options);
  int code = 0;
  command_output("command -v sbatch >/dev/null 2>&1", code);
  if (code != 0) throw InputError("bitline sweep --executor slurm: sbatch not found on PATH; run it on a Slurm login node");
  gather_table(files);
  // Points neither done nor still in the queue from an earlier submission.
  const json manifest = read_json_file(files.manifest());
  std::vector<int64_t> indices;
  json submitted = json::array();
  for (const auto& point : manifest.at("points")) {
    const std::string state = point.at("state");
    if (state == "done" || state == "queued" || state == "running") continue;
    indices.push_back(point.at("point").get<int64_t>());
    submitted.push_back({{"point", point.at("point")}, {"id", point.at("id")}});
  }
  if (indices.empty()) {
    fmt::print("every point of {} is done or queued; nothing to submit (bitline sweep --status {})\n", files.dir.string(),
               files.dir.string());
    return 0;
  }
  io::write_file_atomically(files.slurm_script(), slurm_script(plan, files, slurm));
  std::string array = array_spec(indices);
  if (slurm.max_parallel > 0) array += fmt::format("%{}", slurm.max_parallel);
  const std::string command = fmt::format("sbatch --parsable --array={} {} 2>&1", array, shell_quote(files.slurm_script().string()));
  const std::string output = command_output(command, code);
  if (code != 0) throw InputError(fmt::format("sbatch refused the job array (exit {}): {}", code, output));
  std::string job_id = output.substr(0, output.find_first_of(";\n"));
  json jobs = fs::exists(files.slurm_jobs()) ? read_json_file(files.slurm_jobs()) : json::array();
  jobs.push_back({{"job_id", job_id}, {"submitted_utc", utc_timestamp()}, {"array", array}, {"points", submitted}});
  io::write_file_atomically(files.slurm_jobs(), jobs.dump(2) + "\n");
  fmt::print("submitted Slurm job array {} ({} points, --array={}); follow it with: bitline sweep --status {}\n", job_id,
             indices.size(), array, files.dir.string());
  return 0;
}

// ---- --status ------------------------------------------------------------------------------------

int print_status(const SweepFiles& files) {
  if (!fs::exists(files.manifest())) {
    throw InputError(fmt::format("{}: expected a sweep directory (with sweep.json), found none", files.dir.string()));
  }
  gather_table(files);  // records each point's state and detail in sweep.json (a --cost-only table: "priced")
  const json manifest = read_json_file(files.manifest());
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

json read_json_file(const fs::path& path) {
  try {
    return json::parse(io::read_text_file(path));
  } catch (const json::exception& error) {
    throw InputError(fmt::format("{}: expected JSON written by bitline, found a parse error: {}", path.string(), error.what()));
  }
}

double json_number_or(const json& object, const char* key, double fallback) {
  return object.contains(key) && object.at(key).is_number() ? object.at(key).get<double>() : fallback;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text.data();
}

json result_rows(const json& results) {
  json rows = json::array();
  for (const auto& evaluation : results.at("evaluations")) {
    json row = {{"evaluation", evaluation.at("name")}, {"mode", evaluation.value("mode", "")},
                {"macro", evaluation.value("macro", json())}, {"precision", evaluation.value("precision", "")}};
    // Percent to 10 decimals: an accuracy counts images, so 89.65, not 89.64999999999999.
    row["accuracy_percent"] =
        evaluation.contains("accuracy") ? json(std::round(1e12 * evaluation.at("accuracy").get<double>()) / 1e10) : json();
    row["loss"] = evaluation.value("loss", json());
    json worst;  // the lowest finite layer CSNR; null when every layer is exact or there is no simulation
    for (const auto& layer : evaluation.value("layers", json::array())) {
      const json& csnr = layer.at("csnr_db");
      if (csnr.is_number() && (worst.is_null() || csnr.get<double>() < worst.get<double>())) worst = csnr;
    }
    row["min_csnr_db"] = worst;
    if (evaluation.contains("cost")) {
      const json& cost = evaluation.at("cost");
      row["energy_nj_per_image"] = json_number_or(cost, "energy_per_inference_pj", 0) / 1e3;
      row["latency_us_per_image"] = json_number_or(cost, "latency_layer_by_layer_ns", 0) / 1e3;
      row["tops_per_w"] = cost.value("tops_per_w", json());
      row["area_mm2"] = cost.value("area_mm2", json());
    } else {
      for (const char* key : {"energy_nj_per_image", "latency_us_per_image", "tops_per_w", "area_mm2"}) row[key] = json();
    }
    rows.push_back(row);
  }
  return rows;
}

int run_sweep_command(const SweepCommandOptions& options) {
  if (!options.status_dir.empty()) return print_status(SweepFiles{options.status_dir});
  if (!options.gather_dir.empty()) {
    const SweepFiles files{options.gather_dir};
    if (!fs::exists(files.manifest())) {
      throw InputError(fmt::format("{}: expected a sweep directory (with sweep.json), found none", files.dir.string()));
    }
    const auto counts = gather_table(files);
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
  const auto costs = price_points(plan);  // validates every point before anything runs
  fmt::print("{} points validated in {:.2f} s\n", plan.points.size(),
             std::chrono::duration<double>(Clock::now() - plan_start).count());
  const SweepFiles files{plan.dir};
  prepare_sweep_directory(plan, files);
  const auto driver_lock = hold_driver_lock(files);
  write_point_configs(plan, files);
  if (options.cost_only) return run_cost_only(plan, files, costs);
  if (options.executor == "slurm") return submit_to_slurm(plan, files, options);
  return run_locally(plan, files, options);
}

}  // namespace bitline::app
