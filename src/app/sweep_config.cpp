#include "app/sweep_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>

#include "core/error.h"

namespace bitline::app {
namespace {

// Row fields of sweep.csv and the report that an axis name must not shadow.
const std::set<std::string> kReservedColumns = {
    "point", "label", "state", "evaluation", "mode", "macro", "precision", "accuracy_percent", "loss", "min_csnr_db",
    "energy_nj_per_image", "latency_us_per_image", "tops_per_w", "area_mm2", "pareto_energy", "pareto_tops_per_w",
    "pareto_area"};

std::string default_axis_name(const std::string& key) {
  std::string last = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
  return last.substr(0, last.find('['));
}

// "<source>: key 'sweep.axes[<a>].<field>'", naming one key of an axis in messages.
struct AxisKey {
  std::string source;
  std::size_t axis = 0;
  std::string operator()(const std::string& field) const {
    return fmt::format("{}: key 'sweep.axes[{}]{}{}'", source, axis, field.empty() ? "" : ".", field);
  }
};

std::vector<YAML::Node> range_values(const SweepRangeConfig& range, const AxisKey& key) {
  if (!range.start || !range.stop || !range.step) {
    throw InputError(fmt::format("{}: expected start, stop and step, found {} of them", key("range"),
                                 int(range.start.has_value()) + int(range.stop.has_value()) + int(range.step.has_value())));
  }
  const double start = *range.start, stop = *range.stop, step = *range.step;
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step) || step == 0 || (stop - start) / step < 0) {
    throw InputError(fmt::format("{}: expected a finite step, nonzero and towards stop, found start {}, stop {}, "
                                 "step {}",
                                 key("range"), shortest_decimal(start), shortest_decimal(stop), shortest_decimal(step)));
  }
  const double count = std::floor((stop - start) / step + 1e-9) + 1;
  if (count > kMaxSweepPoints) {
    throw InputError(fmt::format("{}: expected at most {} values, found {}", key("range"), kMaxSweepPoints, count));
  }
  const bool integers = start == std::trunc(start) && step == std::trunc(step) && std::abs(start) < 1e15 &&
                        std::abs(stop) < 1e15;
  std::vector<YAML::Node> values;
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
    const double value = start + static_cast<double>(i) * step;
    values.push_back(integers ? YAML::Node(static_cast<int64_t>(value)) : value_node(value));
  }
  return values;
}

bool is_number(const YAML::Node& value) {
  if (!value.IsScalar()) return false;
  try {
    return std::isfinite(value.as<double>());
  } catch (const YAML::Exception&) {
    return false;
  }
}

SweepAxis expand_axis(const SweepAxisConfig& config, const AxisKey& key) {
  SweepAxis axis;
  axis.key = config.key;
  if (axis.key.empty()) throw InputError(fmt::format("{}: expected a config key path, found none", key("key")));
  for (const char* owned : {"experiment.run_dir", "experiment.checkpoint_dir", "sweep"}) {
    if (axis.key.rfind(owned, 0) == 0) {
      throw InputError(fmt::format("{}: '{}' is set by the sweep itself (each point runs in <run_dir>/points/<id> "
                                   "and shares <run_dir>/checkpoints or experiment.checkpoint_dir); sweep another key",
                                   key("key"), printable_text(axis.key)));
    }
  }
  axis.name = config.name.empty() ? default_axis_name(axis.key) : config.name;
  static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  if (axis.name.size() > 64 || !std::regex_match(axis.name, identifier)) {
    throw InputError(fmt::format("{}: expected a column name of letters, digits and _ (at most 64), found '{}'",
                                 key("name"), printable_text(axis.name)));
  }
  if (kReservedColumns.count(axis.name)) {
    throw InputError(fmt::format("{}: '{}' is a column of sweep.csv; give the axis another name", key("name"), axis.name));
  }
  const bool has_values = config.values.node.IsDefined() && !config.values.node.IsNull();
  const bool has_range = config.range.start || config.range.stop || config.range.step;
  if (has_values == has_range) {
    throw InputError(fmt::format("{}: expected either `values` (a list) or `range`, found {}", key(""),
                                 has_values ? "both" : "neither"));
  }
  if (has_range) {
    axis.values = range_values(config.range, key);
  } else {
    if (!config.values.node.IsSequence() || config.values.node.size() == 0) {
      throw InputError(fmt::format("{}: expected a non-empty list, found {}", key("values"),
                                   config.values.node.IsSequence() ? "an empty list"
                                                                   : "'" + printable_text(yaml_value_text(config.values.node)) + "'"));
    }
    if (config.values.node.size() > static_cast<std::size_t>(kMaxSweepPoints)) {
      throw InputError(fmt::format("{}: expected at most {} values, found {}", key("values"), kMaxSweepPoints,
                                   config.values.node.size()));
    }
    for (const auto& value : config.values.node) axis.values.push_back(YAML::Clone(value));
  }
  axis.numeric = std::all_of(axis.values.begin(), axis.values.end(), is_number);
  return axis;
}

// The axes' value indices of every point, in order.
std::vector<std::vector<std::size_t>> combinations(const std::vector<SweepAxis>& axes, const std::string& combine,
                                                   const std::string& source) {
  std::vector<std::vector<std::size_t>> points;
  if (combine == "zip") {
    for (const auto& axis : axes) {
      if (axis.values.size() != axes.front().values.size()) {
        throw InputError(fmt::format("{}: key 'sweep.axes': combine zip expects axes of one length, found {} values for "
                                     "'{}' and {} for '{}'",
                                     source, axes.front().values.size(), axes.front().name, axis.values.size(), axis.name));
      }
    }
    for (std::size_t i = 0; i < axes.front().values.size(); ++i) points.emplace_back(axes.size(), i);
    return points;
  }
  double total = 1;
  for (const auto& axis : axes) total *= static_cast<double>(axis.values.size());
  if (total > kMaxSweepPoints) {
    throw InputError(fmt::format("{}: key 'sweep.axes': expected at most {} points, found a grid of {}", source,
                                 kMaxSweepPoints, total));
  }
  std::vector<std::size_t> index(axes.size(), 0);
  for (int64_t n = 0; n < static_cast<int64_t>(total); ++n) {
    points.push_back(index);
    for (std::size_t a = axes.size(); a-- > 0;) {  // the last axis varies fastest
      if (++index[a] < axes[a].values.size()) break;
      index[a] = 0;
    }
  }
  return points;
}

bool digits(const std::string& text) {
  return !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits `text` at `separator`: "a:b" -> {"a", "b"}.
std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts(1);
  for (const char c : text) {
    if (c == separator) parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

bool slurm_partition(const std::string& text) {
  return text.size() <= 256 && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == ',';
         });
}

bool slurm_time(const std::string& text) {
  if (text.empty() || text == "UNLIMITED" || text == "unlimited" || text == "INFINITE" || text == "infinite") return true;
  const auto days = split(text, '-');
  if (days.size() > 2 || (days.size() == 2 && !digits(days[0]))) return false;
  const auto clock = split(days.back(), ':');
  // minutes | MM:SS | HH:MM:SS, and after a day count: HH | HH:MM | HH:MM:SS
  return clock.size() <= 3 && std::all_of(clock.begin(), clock.end(), digits);
}

bool slurm_memory(const std::string& text) {
  if (text.empty()) return true;
  const bool unit = std::string("KMGT").find(text.back()) != std::string::npos;
  return digits(unit ? text.substr(0, text.size() - 1) : text);
}

bool sbatch_option(const std::string& text) {
  const std::size_t equals = text.find('=');
  const std::string name = text.substr(0, equals);
  const bool short_option = name.size() == 2 && name[0] == '-' && std::isalpha(static_cast<unsigned char>(name[1]));
  const bool long_option = name.size() > 2 && name.size() <= 64 && name.compare(0, 2, "--") == 0 &&
                           std::isalpha(static_cast<unsigned char>(name[2])) &&
                           std::all_of(name.begin() + 2, name.end(),
                                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
  // bitline's own: the array, the script and its output (a --wrap would replace the script).
  const bool owned = name == "--array" || name == "-a" || name == "--wrap" || name == "--parsable" ||
                     name == "--output" || name == "-o" || name == "--chdir" || name == "-D";
  return (short_option || long_option) && !owned && text.size() <= 1024 && kOneLineText.accepts(text);
}

}  // namespace

const TextRule kSlurmPartition{slurm_partition, "a partition name or a comma-separated list of them: letters, digits, _ . - ,"};
const TextRule kSlurmTime{slurm_time,
                          "a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED"};
const TextRule kSlurmMemory{slurm_memory, "an integer with an optional unit K, M, G or T, e.g. 8G"};
const TextRule kSbatchOption{sbatch_option,
                             "one sbatch option, -X or --name (letters, digits, -), optionally =value without control "
                             "characters; not --array, --wrap, --parsable, --output or --chdir, which bitline sets"};

std::string yaml_value_text(const YAML::Node& value) {
  if (value.IsScalar()) return value.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << value;
  return out.c_str();
}

SweepPlan plan_sweep(const YAML::Node& root, const std::string& source) {
  if (!root.IsMap() || !root["sweep"] || !root["sweep"].IsMap()) {
    throw InputError(fmt::format("{}: key 'sweep': expected a map with the sweep's axes (docs/sweeps.md), found {}", source,
                                 !root.IsMap() || !root["sweep"] ? "none" : "'" + yaml_value_text(root["sweep"]) + "'"));
  }
  SweepPlan plan;
  plan.source = source;
  {
    ConfigLoader loader(source, root["sweep"], "sweep");
    describe(loader, plan.settings);
    loader.reject_unknown_keys();
  }
  if (plan.settings.axes.empty()) throw InputError(fmt::format("{}: key 'sweep.axes': expected at least one axis, found none", source));
  std::set<std::string> names;
  for (std::size_t a = 0; a < plan.settings.axes.size(); ++a) {
    plan.axes.push_back(expand_axis(plan.settings.axes[a], AxisKey{source, a}));
    if (!names.insert(plan.axes.back().name).second) {
      throw InputError(fmt::format("{}: key 'sweep.axes[{}].name': expected a name no other axis has, found '{}' twice "
                                   "(give the axes distinct `name`s)",
                                   source, a, plan.axes.back().name));
    }
  }

  YAML::Node base = YAML::Clone(root);
  base.remove("sweep");
  const Config base_config = parse_config(dump_yaml(base), source + " (the sweep's base config)");
  plan.dir = base_config.experiment.run_dir;
  const std::string checkpoints =
      base_config.experiment.checkpoint_dir.empty() ? (plan.dir / "checkpoints").string() : base_config.experiment.checkpoint_dir;

  const auto indices = combinations(plan.axes, plan.settings.combine, source);
  const int digits = std::max<int>(3, static_cast<int>(std::to_string(indices.size() - 1).size()));
  for (std::size_t p = 0; p < indices.size(); ++p) {
    SweepPoint point;
    point.index = static_cast<int64_t>(p);
    point.id = fmt::format("p{:0{}d}", p, digits);
    std::vector<std::string> parts;
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      point.values.push_back(plan.axes[a].values[indices[p][a]]);
      parts.push_back(plan.axes[a].name + "=" + yaml_value_text(point.values.back()));
    }
    point.label = fmt::format("{}", fmt::join(parts, ", "));
    const std::string where = fmt::format("{}: sweep point {} ({})", source, point.id, point.label);
    YAML::Node tree = YAML::Clone(base);
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      set_config_value(tree, plan.axes[a].key, YAML::Clone(point.values[a]), where);
    }
    set_config_value(tree, "experiment.run_dir", YAML::Node((plan.dir / "points" / point.id).string()), where);
    set_config_value(tree, "experiment.checkpoint_dir", YAML::Node(checkpoints), where);
    point.config = parse_config(dump_yaml(tree), where);
    plan.points.push_back(std::move(point));
  }
  return plan;
}

}  // namespace bitline::app
