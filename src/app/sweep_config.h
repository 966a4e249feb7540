#pragma once
// Design-space sweeps (`bitline sweep`, docs/sweeps.md): the `sweep:` section of a config and its
// expansion into points, each the base config with the axes' values set and validated. No LibTorch
// (the fuzz harness of the sweep section links it).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "app/config.h"
#include "app/config_schema.h"

namespace bitline::app {

struct SweepRangeConfig {
  std::optional<double> start, stop, step;
};
template <class V>
void describe(V& v, SweepRangeConfig& c) {
  v.field("start", c.start, Doc("first value"));
  v.field("stop", c.stop, Doc("last value, included when the steps reach it (within 1e-9 of a step)"));
  v.field("step", c.step, Doc("increment; negative for a descending range"));
}

struct SweepAxisConfig {
  std::string key;
  std::string name;
  AnyYaml values;
  SweepRangeConfig range;
};
template <class V>
void describe(V& v, SweepAxisConfig& c) {
  v.field("key", c.key,
          Doc("config key path the axis sets: keys joined by '.', a list entry by index or name, e.g. "
              "macros[asim_sram].analog_sram.adc.bits or quantization.weight_bits"));
  v.field("name", c.name,
          Doc("column name in sweep.csv and the report; empty: the key's last part. Letters, digits and _"));
  v.field("values", c.values, Doc("the axis's values, a list (any YAML values: numbers, strings, maps); or give `range`"));
  v.section("range", c.range, Doc("numeric values from start to stop by step (instead of `values`); integers when start "
                                  "and step are"));
}

// What each Slurm setting accepts (docs/sweeps.md). bitline hands every setting to sbatch as one
// argument of its own, never through a shell or a script line; these rules keep out what no Slurm
// value holds (control characters, spaces, quotes), so that a value cannot become something else.
// Partition names: letters, digits, '_', '.', '-', several joined by ','.
extern const TextRule kSlurmPartition;
// Time limits as sbatch --time takes them: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, UNLIMITED.
extern const TextRule kSlurmTime;
// Memory as sbatch --mem takes it: an integer with an optional unit K, M, G or T.
extern const TextRule kSlurmMemory;
// A further sbatch option: -X or --name, optionally =value (one line); not the options bitline sets.
extern const TextRule kSbatchOption;

// `bitline sweep --executor slurm`: the job array's resources (each can also be given on the command line).
struct SlurmConfig {
  std::string partition;
  std::string time = "01:00:00";
  int64_t cpus_per_task = 2;
  std::string memory;
  int64_t max_parallel = 0;
  std::vector<std::string> sbatch_args;
  std::string bitline;
};
template <class V>
void describe(V& v, SlurmConfig& c) {
  v.field("partition", c.partition, Doc("sbatch --partition; empty: the cluster's default").text(kSlurmPartition));
  v.field("time", c.time,
          Doc("sbatch --time: the time limit of one point, e.g. 01:00:00 or 2-00:00:00; empty: the partition's").text(kSlurmTime));
  v.field("cpus_per_task", c.cpus_per_task, Doc("sbatch --cpus-per-task; each point runs with this many threads").range(1, 1024));
  v.field("memory", c.memory, Doc("sbatch --mem per point, e.g. 8G; empty: the cluster's default").text(kSlurmMemory));
  v.field("max_parallel", c.max_parallel, Doc("points that run at once (sbatch --array=...%N); 0: no limit").range(0, 100000));
  v.field("sbatch_args", c.sbatch_args,
          Doc("further sbatch options, one per entry, e.g. --account=abc or --qos=short").text(kSbatchOption));
  v.field("bitline", c.bitline,
          Doc("path of the bitline binary on the compute nodes; empty: the absolute path of the submitting binary "
              "(the nodes must see the same file system)")
              .text(kOneLineText));
}

struct SweepConfig {
  std::string combine = "grid";
  std::vector<SweepAxisConfig> axes;
  SlurmConfig slurm;
};
template <class V>
void describe(V& v, SweepConfig& c) {
  v.field("combine", c.combine,
          Doc("grid: every combination of the axes' values (the first axis varies slowest); zip: the i-th values of "
              "every axis together (the axes must have the same length)")
              .choices({"grid", "zip"}));
  v.section_list("axes", c.axes, Doc("the swept keys"));
  v.section("slurm", c.slurm, Doc("resources of the Slurm job array (bitline sweep --executor slurm)"));
}

struct SweepAxis {
  std::string name, key;
  std::vector<YAML::Node> values;
  bool numeric = false;  // every value is a number (the report plots the axis on a linear scale)
};

struct SweepPoint {
  int64_t index = 0;
  std::string id;                  // directory and file name: p000, p001, ...
  std::vector<YAML::Node> values;  // one per axis
  std::string label;               // "adc_bits=4, rows=16"
  Config config;                   // validated; run_dir = <sweep dir>/points/<id>
};

struct SweepPlan {
  std::string source;           // the config file (and --set)
  std::filesystem::path dir;    // experiment.run_dir of the base config
  SweepConfig settings;
  std::vector<SweepAxis> axes;
  std::vector<SweepPoint> points;
};

// The most points a sweep may have (a Slurm array's default MaxArraySize is 1001).
constexpr int64_t kMaxSweepPoints = 10000;

// Splits `root` (a resolved config with a `sweep:` section) into the base config and the sweep,
// expands the points and validates each one's config. Throws InputError naming `source`, the point
// and the key.
SweepPlan plan_sweep(const YAML::Node& root, const std::string& source);
// A value as a label or CSV cell: a scalar's text, else flow-style YAML.
std::string yaml_value_text(const YAML::Node& value);

}  // namespace bitline::app
