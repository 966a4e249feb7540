// The sweep section (app/sweep_config.h), config key paths, the sweep table's rows and the report's
// Pareto fronts.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "app/config.h"
#include "app/macros/registry.h"
#include "app/report_html.h"
#include "app/sweep.h"
#include "app/sweep_config.h"
#include "core/error.h"

namespace bitline::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr const char* kBase = R"(
experiment: {name: s, run_dir: sweeps/s}
macros:
  - {name: asim, type: analog_sram, analog_sram: {adc: {bits: 8}}}
  - {name: digital, type: digital_sram}
)";

SweepPlan plan_of(const std::string& sweep_yaml) {
  return plan_sweep(YAML::Load(std::string(kBase) + sweep_yaml), "sweep.yaml");
}

std::string plan_error(const std::string& sweep_yaml) {
  try {
    plan_of(sweep_yaml);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(ConfigKeyPath, SetsMapKeysAndListEntriesByIndexOrName) {
  YAML::Node root = YAML::Load(kBase);
  set_config_value(root, "macros[asim].analog_sram.adc.bits", YAML::Node(5), "test");
  set_config_value(root, "macros[1].digital_sram", YAML::Load("{}"), "test");
  set_config_value(root, "train.float.epochs", YAML::Node(3), "test");
  const Config config = parse_config(dump_yaml(root), "test");
  EXPECT_EQ(config.train.float_stage.epochs, 3);
  EXPECT_EQ(macro_section<AnalogSramType>(config.macros[0], "x").adc.bits, 5);
}

TEST(ConfigKeyPath, NamesTheBadStep) {
  const auto error_of = [](const std::string& path) {
    YAML::Node root = YAML::Load(kBase);
    try {
      set_config_value(root, path, YAML::Node(1), "point p007");
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_THAT(error_of("macros[2].type"), AllOf(HasSubstr("point p007"), HasSubstr("macros[2]"), HasSubstr("below 2")));
  EXPECT_THAT(error_of("macros[nope].type"), AllOf(HasSubstr("no entry named 'nope'"), HasSubstr("asim, digital")));
  EXPECT_THAT(error_of("experiment.name.first"), HasSubstr("key 'experiment.name'"));
  EXPECT_THAT(error_of("quantization.layer_overrides[0].weight_bits"), HasSubstr("expected a list"));
  for (const char* bad : {"", "a..b", "macros[0", "macros[]", "a]b", "macros[0]x"}) {
    EXPECT_THAT(error_of(bad), HasSubstr("key path")) << bad;
  }
}

TEST(ConfigText, EveryMacroTypeLoadsBackFromToYaml) {
  // Each type's entry is written with its own section and no other type's (which would not load), and
  // loads back as the same macro. The fields themselves: ConfigYaml.EveryFieldSurvivesTheRoundTripThroughText.
  for (const auto& type : macro_types()) {
    const Config config = parse_config(fmt::format("macros: [{{name: m, type: {}}}]", type.name), "test");
    const std::string text = to_yaml(config);
    const YAML::Node entry = YAML::Load(text)["macros"][0];
    EXPECT_EQ(entry["name"].as<std::string>(), "m");
    EXPECT_EQ(entry["type"].as<std::string>(), type.name);
    for (const auto& other : macro_types()) {
      EXPECT_EQ(entry[other.name].IsDefined(), other.name == type.name) << type.name << " has a section " << other.name;
    }
    const Config loaded = parse_config(text, "saved");
    ASSERT_EQ(loaded.macros.size(), 1u);
    EXPECT_EQ(loaded.macros[0].name, "m");
    EXPECT_EQ(loaded.macros[0].type, type.name);
  }
}

TEST(SweepPlan, GridVariesTheLastAxisFastest) {
  const auto plan = plan_of(R"(
sweep:
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [4, 6]}
    - {key: 'macros[asim].analog_sram.rows_per_conversion', range: {start: 32, stop: 128, step: 48}}
)");
  ASSERT_EQ(plan.points.size(), 6u);
  EXPECT_EQ(plan.dir, "sweeps/s");
  EXPECT_EQ(plan.axes[1].name, "rows_per_conversion");
  EXPECT_TRUE(plan.axes[1].numeric);
  EXPECT_EQ(plan.points[0].id, "p000");
  EXPECT_EQ(plan.points[1].label, "adc_bits=4, rows_per_conversion=80");
  EXPECT_EQ(plan.points[5].label, "adc_bits=6, rows_per_conversion=128");
  const auto& last = plan.points[5].config;
  EXPECT_EQ(macro_section<AnalogSramType>(last.macros[0], "x").adc.bits, 6);
  EXPECT_EQ(macro_section<AnalogSramType>(last.macros[0], "x").rows_per_conversion, 128);
  EXPECT_EQ(last.experiment.run_dir, "sweeps/s/points/p005");
  EXPECT_EQ(last.experiment.checkpoint_dir, "sweeps/s/checkpoints");
}

TEST(SweepPlan, ZipPairsValuesAndRangesMayBeFractional) {
  const auto plan = plan_of(R"(
sweep:
  combine: zip
  axes:
    - {key: 'macros[asim].analog_sram.noise.additive_sigma_lsb', name: sigma, range: {start: 1.0, stop: 0.0, step: -0.5}}
    - {key: quantization.weight_bits, values: [8, 6, 4]}
)");
  ASSERT_EQ(plan.points.size(), 3u);
  EXPECT_EQ(plan.points[1].label, "sigma=0.5, weight_bits=6");
  EXPECT_EQ(plan.points[2].config.quantization.weight_bits, 4);
}

TEST(SweepPlan, ABadValueNamesThePointAndTheKey) {
  EXPECT_THAT(plan_error(R"(
sweep: {axes: [{key: 'macros[asim].analog_sram.adc.bits', name: bits, values: [6, 40]}]})"),
              AllOf(HasSubstr("sweep point p001 (bits=40)"), HasSubstr("macros[0].analog_sram.adc.bits")));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: model.nmae, values: [cnn]}]}"),
              AllOf(HasSubstr("sweep point p000"), HasSubstr("nmae")));
}

TEST(SweepPlan, RejectsMalformedSections) {
  EXPECT_THAT(plan_error(""), HasSubstr("key 'sweep'"));
  EXPECT_THAT(plan_error("sweep: {axes: []}"), HasSubstr("at least one axis"));
  EXPECT_THAT(plan_error("sweep: {combine: cross, axes: [{key: a.b, values: [1]}]}"), HasSubstr("sweep.combine"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: seed}], extra: 1}"), HasSubstr("extra"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed}]}"), HasSubstr("either `values` (a list) or `range`"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: 3}]}"), HasSubstr("non-empty list"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: [1], range: {start: 1, stop: 2, step: 1}}]}"),
              HasSubstr("found both"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, range: {start: 1, stop: 5, step: -1}}]}"),
              HasSubstr("towards stop"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, range: {start: 1, stop: 5}}]}"),
              HasSubstr("start, stop and step"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.run_dir, values: [a]}]}"), HasSubstr("set by the sweep itself"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, name: mode, values: [1]}]}"), HasSubstr("column of sweep.csv"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, name: 'a b', values: [1]}]}"), HasSubstr("column name"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: [1]}, {key: data.seed, values: [2]}]}"),
              HasSubstr("twice"));
  EXPECT_THAT(plan_error(R"(
sweep:
  combine: zip
  axes: [{key: experiment.seed, values: [1, 2]}, {key: quantization.weight_bits, values: [8]}])"),
              AllOf(HasSubstr("one length"), HasSubstr("'weight_bits'")));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, range: {start: 0, stop: 1000000, step: 1}}]}"),
              HasSubstr("at most 10000"));
}

TEST(SweepPlan, AxisErrorsQuoteTheWholeKey) {
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: 3}]}"),
              HasSubstr("sweep.yaml: key 'sweep.axes[0].values': expected a non-empty list, found '3'"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: [1]}, {key: data.seed, range: {start: 1}}]}"),
              HasSubstr("key 'sweep.axes[1].range': expected start, stop and step, found 1 of them"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: '', values: [1]}]}"), HasSubstr("key 'sweep.axes[0].key': expected a config key path"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, name: \"a\\nb\", values: [1]}]}"),
              HasSubstr("key 'sweep.axes[0].name': expected a column name of letters, digits and _ (at most 64), found 'a\\nb'"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed}]}"),
              HasSubstr("key 'sweep.axes[0]': expected either `values` (a list) or `range`, found neither"));
}

TEST(SweepPlan, SlurmSettingsAcceptOnlyWhatSlurmTakes) {
  for (const char* good : {"", "30", "05:00", "01:00:00", "2-00", "2-12:30", "2-00:00:00", "UNLIMITED"}) {
    EXPECT_TRUE(kSlurmTime.accepts(good)) << good;
  }
  for (const char* bad : {"1:00:00:00", "1-", "-1", "1h", "01:00:00\ntouch X", "1 2", "$(date)", "2-1-3"}) {
    EXPECT_FALSE(kSlurmTime.accepts(bad)) << bad;
  }
  for (const char* good : {"", "debug", "gpu_a100,cpu-long", "p.1"}) EXPECT_TRUE(kSlurmPartition.accepts(good)) << good;
  for (const char* bad : {"debug\n", "a b", "a;b", "a'b", "$(x)", "#x"}) EXPECT_FALSE(kSlurmPartition.accepts(bad)) << bad;
  for (const char* good : {"", "8G", "500", "16T"}) EXPECT_TRUE(kSlurmMemory.accepts(good)) << good;
  for (const char* bad : {"8GB", "G", "-1", "8 G", "8G;x", "1e3"}) EXPECT_FALSE(kSlurmMemory.accepts(bad)) << bad;
  for (const char* good : {"--account=abc", "-A", "--qos=short", "--comment=a b $(c)", "--exclusive"}) {
    EXPECT_TRUE(kSbatchOption.accepts(good)) << good;
  }
  for (const char* bad : {"account=abc", "--account abc", "--wrap=touch X", "--array=0-3", "-o", "--output=x", "--chdir=/",
                          "--qos=a\nb", "--", "-", "--a\tb", "--parsable"}) {
    EXPECT_FALSE(kSbatchOption.accepts(bad)) << bad;
  }
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: [1]}], slurm: {partition: \"a\\nb\"}}"),
              HasSubstr("key 'sweep.slurm.partition': expected a partition name or a comma-separated list of them: letters, "
                        "digits, _ . - ,, found 'a\\nb'"));
  EXPECT_THAT(plan_error("sweep: {axes: [{key: experiment.seed, values: [1]}], slurm: {sbatch_args: [--wrap=x]}}"),
              HasSubstr("key 'sweep.slurm.sbatch_args[0]': expected one sbatch option"));
}

TEST(SweepPlan, ShippedSweepsAreValid) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(BITLINE_SOURCE_DIR) + "/configs/sweeps")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const auto plan = plan_sweep(resolve_config_file(entry.path()), entry.path().string());
    EXPECT_GT(plan.points.size(), 1u);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(SweepRows, OneRowPerEvaluationWithTheWorstFiniteCsnr) {
  const json results = json::parse(R"({"evaluations": [
    {"name": "fp32", "mode": "float", "precision": "fp32", "accuracy": 0.9, "loss": 0.3},
    {"name": "sim", "mode": "simulate", "macro": "asim", "precision": "W8A8", "accuracy": 0.8, "loss": 0.5,
     "layers": [{"csnr_db": 12.5}, {"csnr_db": null}, {"csnr_db": 7.25}],
     "cost": {"energy_per_inference_pj": 2000.0, "latency_layer_by_layer_ns": 3000.0, "tops_per_w": 1.5, "area_mm2": 2.0}}]})");
  const json rows = result_rows(results);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0]["accuracy_percent"].get<double>(), 90.0);
  EXPECT_TRUE(rows[0]["min_csnr_db"].is_null());
  EXPECT_TRUE(rows[0]["energy_nj_per_image"].is_null());
  EXPECT_DOUBLE_EQ(rows[1]["min_csnr_db"].get<double>(), 7.25);
  EXPECT_DOUBLE_EQ(rows[1]["energy_nj_per_image"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(rows[1]["latency_us_per_image"].get<double>(), 3.0);
  EXPECT_EQ(rows[1]["macro"], "asim");
}

TEST(ParetoFronts, KeepsTheRowsNoOtherRowBeats) {
  json rows = json::parse(R"([
    {"accuracy_percent": 90, "energy_nj_per_image": 10, "tops_per_w": 1, "area_mm2": 5},
    {"accuracy_percent": 85, "energy_nj_per_image": 5, "tops_per_w": 2, "area_mm2": 5},
    {"accuracy_percent": 80, "energy_nj_per_image": 8, "tops_per_w": 3, "area_mm2": 5},
    {"accuracy_percent": 90, "energy_nj_per_image": 12, "tops_per_w": 0.5, "area_mm2": 6},
    {"accuracy_percent": null, "energy_nj_per_image": 1, "tops_per_w": 9, "area_mm2": 1}])");
  mark_pareto_fronts(rows);
  const std::vector<bool> energy = {true, true, false, false, false}, tops = {true, true, true, false, false},
                          area = {true, false, false, false, false};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["pareto_energy"], energy[i]) << i;
    EXPECT_EQ(rows[i]["pareto_tops_per_w"], tops[i]) << i;
    EXPECT_EQ(rows[i]["pareto_area"], area[i]) << i;
  }
}

}  // namespace
}  // namespace bitline::app
