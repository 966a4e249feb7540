#include "app/sweep_files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <sstream>

#include "app/sweep_config.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/csv_table.h"

namespace bitline::app {
namespace {

using json = nlohmann::json;

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool point_id(const std::string& text) {
  return text.size() >= 4 && text.size() <= 6 && text[0] == 'p' && all_digits(std::string_view(text).substr(1));
}

// Slurm job ids are 32-bit.
bool slurm_job_id(std::string_view text) { return all_digits(text) && text.size() <= 10; }
bool slurm_job_id_text(const std::string& text) { return slurm_job_id(text); }

// An array task: <job>_<index>.
bool slurm_task_id(std::string_view text) {
  const std::size_t underscore = text.find('_');
  return underscore != std::string_view::npos && slurm_job_id(text.substr(0, underscore)) &&
         all_digits(text.substr(underscore + 1)) && text.size() - underscore - 1 <= 7;
}

JsonShape events_shape() { return JsonShape::map(JsonShape::any()); }

std::string csv_cell(const json& value) {
  if (value.is_null()) return "";
  if (value.is_number_integer()) return value.dump();
  if (value.is_number()) return shortest_decimal(value.get<double>());
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return io::csv_field(value.is_string() ? value.get<std::string>() : value.dump());
}

const std::vector<std::string> kRowColumns = {
    "evaluation",           "mode",       "macro",       "precision",
    "accuracy_percent",     "loss",       "min_csnr_db", "energy_nj_per_image",
    "latency_us_per_image", "tops_per_w", "area_mm2"};

}  // namespace

const TextRule kPointId{point_id, "a point id: p and 3 to 5 digits, e.g. p007"};
const TextRule kSlurmJobId{slurm_job_id_text, "a Slurm job id: at most 10 digits"};

// What the readers use of each file; the files hold more (docs/sweeps.md lists them).
const JsonShape& network_cost_shape() {
  static const JsonShape shape = [] {
    const JsonShape figure = JsonShape::number(0);
    return JsonShape::object({
        required_key("energy_per_inference_pj", figure),
        required_key("latency_layer_by_layer_ns", figure),
        required_key("tops_per_w", figure),
        required_key("area_mm2", figure),
        required_key("energy_pj_by_part", JsonShape::map(figure)),
        required_key("area_um2_by_part", JsonShape::map(figure)),
        required_key("layers", JsonShape::array(JsonShape::object({
                                   required_key("layer", JsonShape::string()),
                                   required_key("energy_pj", figure),
                                   required_key("latency_ns", figure),
                                   optional_key("events", events_shape()),
                               }))),
    });
  }();
  return shape;
}

const JsonShape& run_results_shape() {
  static const JsonShape shape = [] {
    const JsonShape layer = JsonShape::object({
        required_key("layer", JsonShape::string()),
        required_key("csnr_db", JsonShape::number().or_null()),  // null: exact
    });
    const JsonShape evaluation = JsonShape::object({
        required_key("name", JsonShape::string()),
        optional_key("mode", JsonShape::string()),
        optional_key("macro", JsonShape::string().or_null()),
        optional_key("precision", JsonShape::string()),
        optional_key("accuracy", JsonShape::number(0, 1)),
        optional_key("loss", JsonShape::number().or_null()),  // null: not finite
        optional_key("layers", JsonShape::array(layer)),
        optional_key("cost", network_cost_shape()),
    });
    const JsonShape epoch = JsonShape::object({
        required_key("epoch", JsonShape::integer(0)),
        required_key("train_loss", JsonShape::number().or_null()),
        required_key("train_accuracy", JsonShape::number(0, 1)),
    });
    const JsonShape stage = JsonShape::object({
        required_key("stage", JsonShape::string()),
        optional_key("checkpoint", JsonShape::string()),
        optional_key("history", JsonShape::array(epoch)),
    });
    return JsonShape::object({
        optional_key("experiment", JsonShape::string()),
        optional_key("training", JsonShape::array(stage)),
        required_key("evaluations", JsonShape::array(evaluation)),
    });
  }();
  return shape;
}

const JsonShape& sweep_manifest_shape() {
  static const JsonShape shape = [] {
    const JsonShape axis = JsonShape::object({
        required_key("name", JsonShape::string()),
        required_key("key", JsonShape::string()),
        required_key("numeric", JsonShape::boolean()),
        required_key("values", JsonShape::array(JsonShape::any())),
    });
    const JsonShape point = JsonShape::object({
        required_key("point", JsonShape::integer(0, kMaxSweepPoints - 1)),
        required_key("id", JsonShape::string(&kPointId)),
        required_key("label", JsonShape::string()),
        required_key("values", JsonShape::map(JsonShape::any())),
        optional_key("state", JsonShape::string()),
        optional_key("detail", JsonShape::string()),
    });
    const JsonShape row = JsonShape::object({
        required_key("point", JsonShape::integer(0, kMaxSweepPoints - 1)),
        required_key("label", JsonShape::string()),
        required_key("evaluation", JsonShape::string()),
        optional_key("macro", JsonShape::string().or_null()),
        optional_key("accuracy_percent", JsonShape::number(0, 100).or_null()),
        optional_key("energy_nj_per_image", JsonShape::number(0).or_null()),
        optional_key("latency_us_per_image", JsonShape::number(0).or_null()),
        optional_key("tops_per_w", JsonShape::number(0).or_null()),
        optional_key("area_mm2", JsonShape::number(0).or_null()),
        optional_key("min_csnr_db", JsonShape::number().or_null()),
    });
    return JsonShape::object({
        required_key("name", JsonShape::string()),
        required_key("axes", JsonShape::array(axis)),
        required_key("points", JsonShape::array(point)),
        required_key("rows", JsonShape::array(row)),
        optional_key("cost_only", JsonShape::boolean()),
    });
  }();
  return shape;
}

std::vector<SlurmJob> parse_slurm_jobs(std::string_view text, const std::string& source) {
  static const JsonShape shape = JsonShape::array(JsonShape::object({
      required_key("job_id", JsonShape::string(&kSlurmJobId)),
      optional_key("submitted_utc", JsonShape::string(&kOneLineText)),
      optional_key("array", JsonShape::string(&kOneLineText)),
      required_key("points", JsonShape::array(JsonShape::object({
                                 required_key("point", JsonShape::integer(0, kMaxSweepPoints - 1)),
                                 required_key("id", JsonShape::string(&kPointId)),
                             }))),
  }));
  const json document = parse_json_document(text, source, shape);
  std::vector<SlurmJob> jobs;
  for (const auto& entry : document) {
    SlurmJob job{entry.at("job_id"), entry.value("submitted_utc", ""), entry.value("array", ""), {}};
    for (const auto& point : entry.at("points"))
      job.points.emplace_back(point.at("point").get<int64_t>(), point.at("id"));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<SlurmJob> read_slurm_jobs(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return {};
  return parse_slurm_jobs(io::read_text_file(path), path.string());
}

std::string slurm_jobs_json(const std::vector<SlurmJob>& jobs) {
  json out = json::array();
  for (const auto& job : jobs) {
    json points = json::array();
    for (const auto& [index, id] : job.points) points.push_back({{"point", index}, {"id", id}});
    out.push_back(
        {{"job_id", job.job_id}, {"submitted_utc", job.submitted_utc}, {"array", job.array}, {"points", points}});
  }
  return out.dump(2) + "\n";
}

PointStatus parse_point_status(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> words;
  for (std::string word; in >> word && words.size() < 8;) words.push_back(word);
  PointStatus status;
  if (words.size() >= 2 && words[0] == "finished" && (all_digits(words[1]) && words[1].size() <= 3)) {
    status.state = PointStatus::State::Finished;
    status.exit_code = std::stoi(words[1]);
  } else if (!words.empty() && words[0] == "running") {
    status.state = PointStatus::State::Running;
    if (words.size() >= 4 && words[2] == "slurm" && slurm_task_id(words[3])) {
      status.slurm_task = words[3];
    }
  }
  return status;
}

json result_rows(const json& results) {
  json rows = json::array();
  for (const auto& evaluation : results.at("evaluations")) {
    json row = {{"evaluation", evaluation.at("name")},
                {"mode", evaluation.value("mode", "")},
                {"macro", evaluation.value("macro", json())},
                {"precision", evaluation.value("precision", "")}};
    // Percent to 10 decimals: an accuracy counts images, so 89.65, not 89.64999999999999.
    row["accuracy_percent"] = evaluation.contains("accuracy")
                                  ? json(std::round(1e12 * evaluation.at("accuracy").get<double>()) / 1e10)
                                  : json();
    row["loss"] = evaluation.value("loss", json());
    json worst;  // the lowest finite layer CSNR; null when every layer is exact or there is no simulation
    for (const auto& layer : evaluation.value("layers", json::array())) {
      const json& csnr = layer.at("csnr_db");
      if (csnr.is_number() && (worst.is_null() || csnr.get<double>() < worst.get<double>())) worst = csnr;
    }
    row["min_csnr_db"] = worst;
    if (evaluation.contains("cost")) {
      const json& cost = evaluation.at("cost");
      row["energy_nj_per_image"] = cost.at("energy_per_inference_pj").get<double>() / 1e3;
      row["latency_us_per_image"] = cost.at("latency_layer_by_layer_ns").get<double>() / 1e3;
      row["tops_per_w"] = cost.at("tops_per_w");
      row["area_mm2"] = cost.at("area_mm2");
    } else {
      for (const char* key : {"energy_nj_per_image", "latency_us_per_image", "tops_per_w", "area_mm2"})
        row[key] = json();
    }
    rows.push_back(row);
  }
  return rows;
}

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

std::string table_csv(const json& manifest) {
  std::vector<std::string> header = {"point", "label"};
  for (const auto& axis : manifest.at("axes")) header.push_back(axis.at("name"));
  header.insert(header.end(), kRowColumns.begin(), kRowColumns.end());
  std::vector<std::string> quoted;
  for (const auto& column : header) quoted.push_back(io::csv_field(column));
  std::string text = fmt::format("{}\n", fmt::join(quoted, ","));
  for (const auto& row : manifest.at("rows")) {
    std::vector<std::string> cells;
    for (const auto& column : header) cells.push_back(csv_cell(row.contains(column) ? row.at(column) : json()));
    text += fmt::format("{}\n", fmt::join(cells, ","));
  }
  return text;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text.data();
}

}  // namespace bitline::app
