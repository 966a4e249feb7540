#include "app/config.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "app/experiment.h"
#include "app/macros/registry.h"
#include "core/analog_sram/macro_type.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "nn/quant_layers.h"

namespace bitline::app {
namespace {

using ::testing::HasSubstr;

// The InputError message of parsing `yaml`, or "" when it parses.
std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "test.yaml");
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(ConfigParse, EmptyTextGivesTheDefaults) {
  const Config config = parse_config("", "empty.yaml");
  EXPECT_EQ(config.model.name, "cnn");
  EXPECT_EQ(config.quantization.weight_bits, 8);
  EXPECT_EQ(config.evaluation.runs.size(), 2u);
}

TEST(ConfigParse, ReadsNestedValues) {
  const Config config = parse_config(R"(
model: {name: resnet20, resnet: {depth: 32}}
train: {float: {epochs: 7, learning_rate: 0.1}}
data: {train_samples: 1000, mean: [0.5], augment: {horizontal_flip: true}}
)", "t.yaml");
  EXPECT_EQ(config.model.name, "resnet20");
  EXPECT_EQ(config.model.resnet.depth, 32);
  EXPECT_EQ(config.train.float_stage.epochs, 7);
  EXPECT_DOUBLE_EQ(config.train.float_stage.learning_rate, 0.1);
  EXPECT_EQ(config.data.train_samples, 1000);
  ASSERT_TRUE(config.data.mean.has_value());
  EXPECT_DOUBLE_EQ(config.data.mean->at(0), 0.5);
  EXPECT_TRUE(config.data.augment.horizontal_flip);
  EXPECT_EQ(config.train.qat_stage.epochs, 1);  // untouched keys keep their defaults
}

TEST(ConfigErrors, UnknownKeySuggestsTheClosestKey) {
  const std::string message = error_of("train:\n  batch_sise: 64\n");
  EXPECT_THAT(message, HasSubstr("test.yaml"));
  EXPECT_THAT(message, HasSubstr("unknown key 'train.batch_sise'"));
  EXPECT_THAT(message, HasSubstr("did you mean 'train.batch_size'?"));
}

TEST(ConfigErrors, UnknownTopLevelSection) {
  EXPECT_THAT(error_of("modle: {name: cnn}\n"), HasSubstr("did you mean 'model'?"));
}

TEST(ConfigErrors, WrongTypeNamesKeyExpectedAndFound) {
  const std::string message = error_of("train: {batch_size: many}\n");
  EXPECT_THAT(message, HasSubstr("key 'train.batch_size'"));
  EXPECT_THAT(message, HasSubstr("expected an integer"));
  EXPECT_THAT(message, HasSubstr("found 'many'"));
  EXPECT_THAT(error_of("data: {normalize: maybe}\n"), HasSubstr("expected true or false"));
  EXPECT_THAT(error_of("train: {momentum: [1, 2]}\n"), HasSubstr("expected a number, found a list"));
  EXPECT_THAT(error_of("train: {batch_size: 12.5}\n"), HasSubstr("expected an integer"));
  EXPECT_THAT(error_of("model: 3\n"), HasSubstr("key 'model': expected a map"));
}

TEST(ConfigErrors, OutOfRangeNamesTheRange) {
  const std::string message = error_of("quantization: {weight_bits: 40}\n");
  EXPECT_THAT(message, HasSubstr("key 'quantization.weight_bits'"));
  EXPECT_THAT(message, HasSubstr("in [2, 16]"));
  EXPECT_THAT(message, HasSubstr("found '40'"));
  EXPECT_THAT(error_of("train: {float: {learning_rate: 0}}\n"), HasSubstr("in (0, 100]"));
  EXPECT_THAT(error_of("experiment: {threads: 0}\n"), HasSubstr("key 'experiment.threads'"));
}

TEST(ConfigErrors, BadChoiceListsChoicesAndSuggests) {
  const std::string message = error_of("model: {name: resnet}\n");
  EXPECT_THAT(message, HasSubstr("one of mlp, lenet5, cnn, resnet20"));
  EXPECT_THAT(message, HasSubstr("did you mean 'resnet20'?"));
}

TEST(ConfigErrors, InvalidYamlGivesItsLocation) {
  EXPECT_THAT(error_of("model: {name: cnn\n"), HasSubstr("not valid YAML"));
  EXPECT_THAT(error_of("- 1\n- 2\n"), HasSubstr("expected a YAML map"));
}

TEST(ConfigErrors, RepeatedKeysSecondDocumentsAndAliasLoopsAreRefused) {
  EXPECT_THAT(error_of("experiment: {name: first, name: second}\n"),
              HasSubstr("test.yaml: key 'experiment.name' appears twice in the same map (lines 1 and 1)"));
  EXPECT_THAT(error_of("macros:\n  - {name: a}\n  - {name: b, type: analog_sram, name: c}\n"),
              HasSubstr("key 'macros[1].name' appears twice"));
  EXPECT_THAT(error_of("model: {name: cnn}\n---\nmodel: {nmae: mlp}\n"),
              HasSubstr("expected one YAML document, found another one at line 3"));
  EXPECT_EQ(error_of("model: {name: cnn}\n---\n"), "");  // an empty trailing document says nothing
  EXPECT_THAT(error_of("a: &loop [*loop]\n"), HasSubstr("expected YAML nested at most 64 levels deep"));
  EXPECT_THAT(error_of("? [a, b]\n: 1\n"), HasSubstr("line 1: expected a plain key, found a list as a key"));
  // Ten levels of ten aliases each would expand to 10^10 nodes.
  std::string bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 10; ++level) {
    bomb += fmt::format("l{0}: &l{0} [", level);
    for (int i = 0; i < 10; ++i) bomb += fmt::format("{}*l{}", i ? ", " : "", level - 1);
    bomb += "]\n";
  }
  EXPECT_THAT(error_of(bomb), HasSubstr("expected at most 100000 YAML nodes"));
}

TEST(ConfigErrors, MacroSectionsMustBeOfTheMacrosTypeAndConsistent) {
  EXPECT_THAT(error_of("macros: [{name: m, analog_sram: {noise: {additive_sigma_lsb: 1, additive_sigma_fs_percent: 2}}}]\n"),
              HasSubstr("keys 'macros[0].analog_sram.noise.additive_sigma_lsb' and 'additive_sigma_fs_percent': expected "
                        "at most one of them set"));
  EXPECT_THAT(error_of("macros: [{name: m, type: digital_sram, analog_sram: {adc: {bits: 4}}}]\n"),
              HasSubstr("key 'macros[0].analog_sram': a section of macro type analog_sram, but 'macros[0].type' is "
                        "digital_sram"));
  EXPECT_THAT(error_of("macros: [{name: m, type: digital_sram, layer_overrides: [{layers: [fc], analog_sram: {seed: 2}}]}]\n"),
              HasSubstr("key 'macros[0].layer_overrides[0].analog_sram': keys of macro type analog_sram, but the "
                        "macro's type is digital_sram"));
  EXPECT_THAT(error_of("macros: [{name: m, type: digital_sram, digital_sram: {rows_per_activation: 0}}]\n"),
              HasSubstr("key 'macros[0].digital_sram.rows_per_activation': expected an integer in [1, 65536]"));
  EXPECT_THAT(error_of("quantization: {activation_bits: 2}\nmacros: [{name: m, type: digital_sram, digital_sram: "
                       "{input_bits_per_cycle: 3}}]\n"),
              HasSubstr("key 'macros[0].digital_sram': input_bits_per_cycle must not exceed input_bits (with quantization "
                        "W8A2)"));
  EXPECT_EQ(error_of("macros: [{name: m, type: digital_sram, layer_overrides: [{layers: [fc], digital_sram: "
                     "{input_bits_per_cycle: 2}}]}]\n"),
            "");
}

TEST(ConfigErrors, CrossFieldChecks) {
  EXPECT_THAT(error_of("data: {mean: [0.1, 0.2]}\n"), HasSubstr("expected 1 value(s), one per channel"));
  EXPECT_THAT(error_of("model: {resnet: {depth: 21}}\n"), HasSubstr("expected 6n+2"));
  EXPECT_THAT(error_of("quantization: {layer_overrides: [{weight_bits: 4}]}\n"),
              HasSubstr("layer_overrides[0].layers': expected at least one"));
  EXPECT_THAT(error_of("evaluation: {runs: [{name: a, mode: float}, {name: a, mode: quantized}]}\n"),
              HasSubstr("expected a unique name"));
  EXPECT_THAT(error_of("evaluation: {runs: []}\n"), HasSubstr("at least one evaluation"));
  EXPECT_THAT(error_of("train: {float: {epochs: 0}, qat: {epochs: 0}}\n"), HasSubstr("at least one training epoch"));
  EXPECT_THAT(error_of("quantization: {layer_overrides: [{layers: [a], bogus: 1}]}\n"),
              HasSubstr("unknown key 'quantization.layer_overrides[0].bogus'"));
}

TEST(ConfigErrors, MissingFileIsNamed) {
  try {
    load_config("/nonexistent/bitline.yaml");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("/nonexistent/bitline.yaml"));
  }
}

TEST(ConfigDefaults, EmbeddedDefaultMatchesShippedFile) {
  EXPECT_EQ(embedded_default_config_text(), io::read_text_file(std::string(BITLINE_SOURCE_DIR) + "/configs/default.yaml"));
  EXPECT_NO_THROW(parse_config(embedded_default_config_text(), "embedded"));
}

TEST(ConfigDefaults, DocumentedDefaultsParseBackToTheDefaults) {
  const std::string text = documented_defaults();
  EXPECT_THAT(text, HasSubstr("weight_bits: 8  # weight bit width"));
  EXPECT_THAT(text, HasSubstr("[bits]"));
  EXPECT_THAT(text, HasSubstr("layer_overrides: []"));
  EXPECT_THAT(text, HasSubstr("#  - layers: []"));  // the commented example entry
  EXPECT_THAT(text, HasSubstr("\n# sweep:\n#   combine: grid  # grid: every combination"));  // commented out
  EXPECT_THAT(text, HasSubstr("#   slurm:\n#     partition: \"\"  # sbatch --partition"));
  EXPECT_EQ(to_yaml(parse_config(text, "defaults")), to_yaml(Config{}));
}

TEST(ConfigDefaults, ShippedExampleConfigsAreValid) {
  int checked = 0;
  for (const char* folder : {"/configs", "/configs/experiments", "/configs/hardware"}) {
    for (const auto& entry : std::filesystem::directory_iterator(std::string(BITLINE_SOURCE_DIR) + folder)) {
      if (entry.path().extension() != ".yaml") continue;
      EXPECT_NO_THROW(load_config(entry.path())) << entry.path();
      ++checked;
    }
  }
  EXPECT_GE(checked, 9);
}

// A config with non-default values in every section and every macro type, written by hand.
constexpr const char* kNonDefaultConfig = R"(
experiment: {name: roundtrip, seed: 7, threads: 3, run_dir: runs/rt, checkpoint_dir: ckpt}
data: {dataset: cifar10, path: data/cifar, train_samples: 123, test_samples: 45, normalize: false,
       augment: {random_crop_padding_px: 2, horizontal_flip: true}}
model: {name: vit, width_multiplier: 0.5, vit: {patch_size: 8, depth: 2, heads: 2, embed_dim: 32}}
quantization:
  weight_bits: 6
  weight_granularity: per_tensor
  activation_bits: 5
  activation_sign: signed
  observer_momentum: 0.2
  layer_overrides: [{layers: [conv1, "fc*"], keep_float: true, weight_bits: 4, activation_sign: unsigned}]
macros:
  - {name: a, type: analog_sram, analog_sram: {rows_per_conversion: 63, input_bits_per_cycle: 2, row_mapping: packed,
                                               adc: {bits: 6}, noise: {additive_sigma_lsb: 0.25}, seed: 9}}
  - {name: d, type: digital_sram, digital_sram: {rows_per_activation: 128, input_bits_per_cycle: 4,
                                                 row_mapping: channel_aligned}}
  - {name: m, type: daism, daism: {format: fp16, variant: or, k: 1, rounding: nearest_even}}
  - {name: p, type: ddc_pim, ddc_pim: {rows_per_activation: 64, depthwise_blocks_per_column_group: 4}}
  - {name: s, type: sot_mram_fp, sot_mram_fp: {format: custom, exponent_bits: 5, mantissa_bits: 10, logic: magic_nor}}
train: {batch_size: 32, optimizer: adam, momentum: 0.8, weight_decay: 0.001, schedule: multistep, milestones: [0.5],
        gamma: 0.2, float: {epochs: 3, learning_rate: 0.1}, qat: {epochs: 2, learning_rate: 0.02}}
evaluation:
  batch_size: 100
  runs: [{name: w6a5, mode: quantized}, {name: on_a, mode: simulate, macro: a, compare_to: on_d},
         {name: on_d, mode: simulate, macro: d}]
)";

// Each non-default value of kNonDefaultConfig, read from the parsed struct.
void expect_the_non_default_fields(const Config& c) {
  EXPECT_EQ(c.experiment.name, "roundtrip");
  EXPECT_EQ(c.experiment.seed, 7);
  EXPECT_EQ(c.experiment.threads, 3);
  EXPECT_EQ(c.experiment.run_dir, "runs/rt");
  EXPECT_EQ(c.experiment.checkpoint_dir, "ckpt");
  EXPECT_EQ(c.data.dataset, "cifar10");
  EXPECT_EQ(c.data.path, "data/cifar");
  EXPECT_EQ(c.data.train_samples, 123);
  EXPECT_EQ(c.data.test_samples, 45);
  EXPECT_FALSE(c.data.normalize);
  EXPECT_EQ(c.data.augment.random_crop_padding_px, 2);
  EXPECT_TRUE(c.data.augment.horizontal_flip);
  EXPECT_EQ(c.model.name, "vit");
  EXPECT_EQ(c.model.width_multiplier, 0.5);
  EXPECT_EQ(c.model.vit.patch_size, 8);
  EXPECT_EQ(c.model.vit.depth, 2);
  EXPECT_EQ(c.model.vit.heads, 2);
  EXPECT_EQ(c.model.vit.embed_dim, 32);
  EXPECT_EQ(c.quantization.weight_bits, 6);
  EXPECT_EQ(c.quantization.weight_granularity, "per_tensor");
  EXPECT_EQ(c.quantization.activation_bits, 5);
  EXPECT_EQ(c.quantization.activation_sign, "signed");
  EXPECT_EQ(c.quantization.observer_momentum, 0.2);
  ASSERT_EQ(c.quantization.layer_overrides.size(), 1u);
  const auto& layer_override = c.quantization.layer_overrides[0];
  EXPECT_EQ(layer_override.layers, (std::vector<std::string>{"conv1", "fc*"}));
  EXPECT_EQ(layer_override.keep_float, true);
  EXPECT_EQ(layer_override.on_macro, std::nullopt);
  EXPECT_EQ(layer_override.weight_bits, 4);
  EXPECT_EQ(layer_override.activation_bits, std::nullopt);
  EXPECT_EQ(layer_override.activation_sign, "unsigned");
  ASSERT_EQ(c.macros.size(), 5u);
  std::vector<std::string> names, types;
  for (const auto& macro : c.macros) {
    names.push_back(macro.name);
    types.push_back(macro.type);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "d", "m", "p", "s"}));
  EXPECT_EQ(types, (std::vector<std::string>{"analog_sram", "digital_sram", "daism", "ddc_pim", "sot_mram_fp"}));
  const auto& analog = std::get<AnalogSramConfig>(c.macros[0].configs);
  EXPECT_EQ(analog.rows_per_conversion, 63);
  EXPECT_EQ(analog.input_bits_per_cycle, 2);
  EXPECT_EQ(analog.row_mapping, "packed");
  EXPECT_EQ(analog.adc.bits, 6);
  EXPECT_EQ(analog.noise.additive_sigma_lsb, 0.25);
  EXPECT_EQ(analog.seed, 9);
  const auto& digital = std::get<DigitalSramConfig>(c.macros[1].configs);
  EXPECT_EQ(digital.rows_per_activation, 128);
  EXPECT_EQ(digital.input_bits_per_cycle, 4);
  EXPECT_EQ(digital.row_mapping, "channel_aligned");
  const auto& daism = std::get<DaismConfig>(c.macros[2].configs);
  EXPECT_EQ(daism.format, "fp16");
  EXPECT_EQ(daism.variant, "or");
  EXPECT_EQ(daism.k, 1);
  EXPECT_EQ(daism.rounding, "nearest_even");
  const auto& ddc = std::get<DdcPimConfig>(c.macros[3].configs);
  EXPECT_EQ(ddc.rows_per_activation, 64);
  EXPECT_EQ(ddc.depthwise_blocks_per_column_group, 4);
  const auto& sot = std::get<SotMramFpConfig>(c.macros[4].configs);
  EXPECT_EQ(sot.format, "custom");
  EXPECT_EQ(sot.exponent_bits, 5);
  EXPECT_EQ(sot.mantissa_bits, 10);
  EXPECT_EQ(sot.logic, "magic_nor");
  EXPECT_EQ(c.train.batch_size, 32);
  EXPECT_EQ(c.train.optimizer, "adam");
  EXPECT_EQ(c.train.momentum, 0.8);
  EXPECT_EQ(c.train.weight_decay, 0.001);
  EXPECT_EQ(c.train.schedule, "multistep");
  EXPECT_EQ(c.train.milestones, (std::vector<double>{0.5}));
  EXPECT_EQ(c.train.gamma, 0.2);
  EXPECT_EQ(c.train.float_stage.epochs, 3);
  EXPECT_EQ(c.train.float_stage.learning_rate, 0.1);
  EXPECT_EQ(c.train.qat_stage.epochs, 2);
  EXPECT_EQ(c.train.qat_stage.learning_rate, 0.02);
  EXPECT_EQ(c.evaluation.batch_size, 100);
  ASSERT_EQ(c.evaluation.runs.size(), 3u);
  EXPECT_EQ(c.evaluation.runs[0].name, "w6a5");
  EXPECT_EQ(c.evaluation.runs[0].mode, "quantized");
  EXPECT_EQ(c.evaluation.runs[0].macro, std::nullopt);
  EXPECT_EQ(c.evaluation.runs[1].macro, "a");
  EXPECT_EQ(c.evaluation.runs[1].compare_to, "on_d");
  EXPECT_EQ(c.evaluation.runs[2].mode, "simulate");
}

TEST(ConfigYaml, EveryFieldSurvivesTheRoundTripThroughText) {
  const Config parsed = parse_config(kNonDefaultConfig, "hand-written");
  {
    SCOPED_TRACE("parsed from the hand-written text");
    expect_the_non_default_fields(parsed);
  }
  SCOPED_TRACE("parsed again from to_yaml");
  expect_the_non_default_fields(parse_config(to_yaml(parsed), "to_yaml"));
}

// The top-level section `key` of YAML text written by to_yaml: from its line to the next top-level key.
std::string section_text(const std::string& yaml, const std::string& key) {
  const std::size_t begin = yaml.find("\n" + key + ":\n");
  if (begin == std::string::npos) return "<no section " + key + ">";
  std::size_t end = begin + 1;
  while ((end = yaml.find('\n', end)) != std::string::npos && end + 1 < yaml.size() && yaml[end + 1] == ' ') ++end;
  return yaml.substr(begin + 1, end == std::string::npos ? std::string::npos : end - begin);
}

TEST(ConfigYaml, WritesTheHandWrittenText) {
  const std::string text = "\n" + to_yaml(parse_config(kNonDefaultConfig, "hand-written"));
  EXPECT_EQ(section_text(text, "experiment"),
            "experiment:\n"
            "  name: roundtrip\n"
            "  seed: 7\n"
            "  threads: 3\n"
            "  run_dir: runs/rt\n"
            "  checkpoint_dir: ckpt\n");
  EXPECT_EQ(section_text(text, "quantization"),
            "quantization:\n"
            "  weight_bits: 6\n"
            "  weight_granularity: per_tensor\n"
            "  activation_bits: 5\n"
            "  activation_sign: signed\n"
            "  activation_scaling: static\n"
            "  calibration: observers\n"
            "  calibration_batches: 16\n"
            "  observer_momentum: 0.2\n"
            "  layer_overrides:\n"
            "    - layers: [conv1, fc*]\n"
            "      keep_float: true\n"
            "      on_macro: ~\n"
            "      weight_bits: 4\n"
            "      activation_bits: ~\n"
            "      weight_granularity: ~\n"
            "      activation_sign: unsigned\n");
}

TEST(ConfigHash, FloatStageIgnoresQuantizationButQatDoesNot) {
  Config a, b;
  b.quantization.activation_bits = 4;
  EXPECT_EQ(float_stage_hash(a), float_stage_hash(b));
  EXPECT_NE(qat_stage_hash(a), qat_stage_hash(b));
  Config c;
  c.experiment.threads = 7;
  c.experiment.run_dir = "elsewhere";
  c.experiment.checkpoint_dir = "shared/checkpoints";
  EXPECT_EQ(float_stage_hash(a), float_stage_hash(c));
  EXPECT_EQ(qat_stage_hash(a), qat_stage_hash(c));
  c.data.test_samples = 100;  // evaluation-only
  EXPECT_EQ(float_stage_hash(a), float_stage_hash(c));
  Config d;
  d.experiment.seed = 2;
  EXPECT_NE(float_stage_hash(a), float_stage_hash(d));
  EXPECT_NE(qat_stage_hash(a), qat_stage_hash(d));
}

TEST(ConfigHash, QatOnAMacroDependsOnItsSpecButNotOnItsHardware) {
  // The chip around the macro (cost only) must not invalidate trained checkpoints.
  Config a;
  a.macros.push_back(MacroConfig{});
  a.train.qat_stage.macro = a.macros[0].name;
  Config b = a;
  b.macros[0].hardware.array_rows = 512;
  b.macros[0].hardware.components.adc_fom_fj_per_step = 3;
  EXPECT_EQ(qat_stage_hash(a), qat_stage_hash(b));
  Config c = a;
  std::get<macro_type_index<AnalogSramType>()>(c.macros[0].configs).adc.bits = 5;
  EXPECT_NE(qat_stage_hash(a), qat_stage_hash(c));
}

TEST(ConfigPaths, CheckpointsLiveInTheRunDirUnlessACheckpointDirIsSet) {
  Config config;
  config.experiment.run_dir = "runs/a";
  EXPECT_EQ(checkpoint_path(config, "float", "00ff"), std::filesystem::path("runs/a/checkpoints/float-00ff.ckpt"));
  config.experiment.checkpoint_dir = "runs/shared";
  EXPECT_EQ(checkpoint_path(config, "qat", "00ff"), std::filesystem::path("runs/shared/qat-00ff.ckpt"));
}

TEST(ConfigHash, DefaultValuesWrittenOutOrLeftOutHashTheSame) {
  // Hashes ignore default-valued keys, so a schema that gains a key with a default keeps old caches.
  const Config implicit = parse_config("", "a");
  const Config explicit_defaults = parse_config("model: {name: cnn, vit: {depth: 4}}\ntrain: {qat: {epochs: 1}}\n", "b");
  EXPECT_EQ(float_stage_hash(implicit), float_stage_hash(explicit_defaults));
  EXPECT_EQ(qat_stage_hash(implicit), qat_stage_hash(explicit_defaults));
  EXPECT_NE(float_stage_hash(implicit), float_stage_hash(parse_config("model: {width_multiplier: 2}\n", "c")));
  EXPECT_NE(qat_stage_hash(implicit), qat_stage_hash(parse_config("train: {qat: {nat_sigma_percent: 5}}\n", "d")));
}

TEST(LayerOverrides, GlobsSelectLayersAndLaterEntriesWin) {
  QuantizationConfig q;
  q.layer_overrides.push_back({{"conv1", "fc*"}, std::nullopt, std::nullopt, 8, 8, std::nullopt, std::nullopt});
  q.layer_overrides.push_back({{"fc2"}, true, std::nullopt, std::nullopt, std::nullopt, "per_tensor", std::nullopt});
  q.weight_bits = 4;
  q.activation_bits = 4;
  const auto middle = layer_spec(q, "conv2", nn::LayerMode::Quantized);
  EXPECT_EQ(middle.weight_bits, 4);
  EXPECT_EQ(middle.mode, nn::LayerMode::Quantized);
  const auto first = layer_spec(q, "conv1", nn::LayerMode::Quantized);
  EXPECT_EQ(first.weight_bits, 8);
  EXPECT_EQ(first.activation_bits, 8);
  const auto last = layer_spec(q, "fc2", nn::LayerMode::Quantized);
  EXPECT_EQ(last.weight_bits, 8);
  EXPECT_EQ(last.mode, nn::LayerMode::Float);
  EXPECT_EQ(last.weight_granularity, nn::WeightGranularity::PerTensor);
  EXPECT_EQ(layer_spec(q, "fc2", nn::LayerMode::Float).mode, nn::LayerMode::Float);
}

TEST(LayerOverrides, PatternMatchingNoLayerIsAnError) {
  Config config;
  config.quantization.layer_overrides.push_back({{"conv9"}, true, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  try {
    check_override_patterns(config, {"conv1", "fc"});
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("'conv9', which matches none"));
    EXPECT_THAT(error.what(), HasSubstr("conv1, fc"));
  }
  EXPECT_NO_THROW(check_override_patterns(Config{}, {"conv1"}));
}

}  // namespace
}  // namespace bitline::app

namespace bitline::app {
namespace {

// A small simulate-mode model on a CCO macro with per-column variation, and its training stage.
struct AdcAwareSetup {
  Config config;
  std::shared_ptr<nn::Model> model;
  explicit AdcAwareSetup(const std::string& adc_aware) {
    config = parse_config(R"(
model: {name: mlp, mlp: {hidden_sizes: [8]}}
macros:
  - {name: cco, analog_sram: {adc: {bits: 6, model: cco, cco: {corner: TT, vdd_v: 0.9},
                                    variation: {gain_sigma_percent: 2, chip_seed: 7}}}}
train:
  qat: {mode: simulate, macro: cco, adc_aware: )" + adc_aware + "}\n",
                          "aware.yaml");
    model = nn::build_model(model_spec(config.model, input_shape(config.data)));
    apply_mode(*model, config, nn::LayerMode::Simulate, &config.macros[0]);
  }
  std::vector<core::analog_sram::Spec> macros() const {
    std::vector<core::analog_sram::Spec> specs;
    for (auto& [name, layer] : nn::quant_layers(*model)) {
      if (layer->spec().mode == nn::LayerMode::Simulate) {
        specs.push_back(dynamic_cast<const core::analog_sram::AnalogSramSpec&>(*layer->spec().macro).spec());
      }
    }
    return specs;
  }
};

TEST(AdcAwareTraining, PerBatchSamplingDrawsChipCornerAndSupplyFromEpochAndBatch) {
  AdcAwareSetup setup("{variation_sampling: per_batch, corners: [TT, SS], vdd_v: [0.6, 0.9]}");
  auto hook = adc_aware_sampler(*setup.model, setup.config, setup.config.train.qat_stage, &setup.config.macros[0]);
  ASSERT_TRUE(hook);
  std::set<uint64_t> chips;
  std::set<std::string> points;
  for (int64_t batch = 0; batch < 16; ++batch) {
    hook(1, batch);
    const auto specs = setup.macros();
    ASSERT_FALSE(specs.empty());
    for (const auto& spec : specs) {  // one chip, one corner and supply for all layers of a batch
      EXPECT_EQ(spec.variation.chip_seed, specs[0].variation.chip_seed);
      EXPECT_EQ(spec.converter->description(), specs[0].converter->description());
    }
    chips.insert(specs[0].variation.chip_seed);
    points.insert(specs[0].converter->description());
  }
  EXPECT_EQ(chips.size(), 16u);  // a new chip instance every batch
  EXPECT_EQ(points.size(), 4u);  // every (corner, V_DD) of the lists occurs
  hook(1, 3);
  const auto first = setup.macros()[0];
  hook(2, 9);
  hook(1, 3);  // the same batch draws the same again (resumed runs train identically)
  EXPECT_EQ(setup.macros()[0].variation.chip_seed, first.variation.chip_seed);
  EXPECT_EQ(setup.macros()[0].converter->description(), first.converter->description());
}

TEST(AdcAwareTraining, FixedKeepsTheChipAndNoneRemovesVariation) {
  AdcAwareSetup fixed("{variation_sampling: fixed}");
  EXPECT_FALSE(adc_aware_sampler(*fixed.model, fixed.config, fixed.config.train.qat_stage, &fixed.config.macros[0]));
  EXPECT_EQ(fixed.macros()[0].variation.chip_seed, 7u);
  EXPECT_TRUE(fixed.macros()[0].variation.any());
  AdcAwareSetup none("{variation_sampling: none}");
  EXPECT_FALSE(adc_aware_sampler(*none.model, none.config, none.config.train.qat_stage, &none.config.macros[0]));
  EXPECT_FALSE(none.macros()[0].variation.any());
}

TEST(AdcAwareTraining, CurveSlopeSetsTheSimulatedLayersBackwardPass) {
  AdcAwareSetup setup("{ste: curve_slope}");
  EXPECT_FALSE(adc_aware_sampler(*setup.model, setup.config, setup.config.train.qat_stage, &setup.config.macros[0]));
  for (auto& [name, layer] : nn::quant_layers(*setup.model)) {
    if (layer->spec().mode != nn::LayerMode::Simulate) continue;
    EXPECT_EQ(layer->spec().simulate_gradient, nn::LayerQuantSpec::SimulateGradient::CurveSlope) << name;
  }
  EXPECT_THAT(error_of("train: {qat: {adc_aware: {ste: curve_slope}}}"), HasSubstr("needs train.qat.mode: simulate"));
}

TEST(AdcAwareTraining, InconsistentSettingsAreConfigErrors) {
  EXPECT_THAT(error_of("train: {qat: {adc_aware: {variation_sampling: per_batch}}}"),
              HasSubstr("key 'train.qat.adc_aware': ADC-aware sampling needs train.qat.mode: simulate"));
  EXPECT_THAT(error_of(R"(
macros: [{name: m, analog_sram: {adc: {bits: 6}}}]
train: {qat: {mode: simulate, macro: m, adc_aware: {corners: [SS]}}})"),
              HasSubstr("corners and vdd_v are drawn for a CCO ADC, but macro 'm' has adc.model ideal"));
  EXPECT_THAT(error_of(R"(
macros: [{name: m, analog_sram: {adc: {bits: 6, model: cco}}}]
train: {qat: {mode: simulate, macro: m, adc_aware: {vdd_v: [0.5]}}})"),
              HasSubstr("V_DD 0.5 V is outside corner TT's table range [0.6, 1] V"));
}

TEST(AdcCommandConfig, ShippedAdcConfigsAreValid) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(BITLINE_SOURCE_DIR) + "/configs/adc")) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(load_adc_command_config(entry.path())) << entry.path();
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

}  // namespace
}  // namespace bitline::app
