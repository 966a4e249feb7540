#pragma once
// The experiment config: typed structs with defaults, and their single field list (describe()),
// from which loading, validation, `bitline config --defaults` and hashing all follow.
#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "app/adc_config.h"
#include "app/config_schema.h"
#include "app/hardware_config.h"
#include "app/macros/registry.h"
#include "core/cost/cost_model.h"
#include "nn/quant_spec.h"

namespace bitline::app {

struct ExperimentConfig {
  std::string name = "default";
  int64_t seed = 1;
  int64_t threads = 2;
  std::string run_dir = "runs/default";
  std::string checkpoint_dir;  // empty: <run_dir>/checkpoints
};
template <class V>
void describe(V& v, ExperimentConfig& c) {
  v.field("name", c.name, Doc("experiment name, shown in reports (and the Slurm job name of a sweep)").text(kOneLineText));
  v.field("seed", c.seed, Doc("seed of weight initialisation, data order and augmentation").range(0, 9.0e15));
  v.field("threads", c.threads, Doc("CPU threads for LibTorch and bitline kernels; set to your core count").range(1, 1024));
  v.field("run_dir", c.run_dir,
          Doc("directory for results.json, results.csv and config.yaml (relative to the working directory)").text(kOneLineText));
  v.field("checkpoint_dir", c.checkpoint_dir,
          Doc("directory for the trained checkpoints; empty: <run_dir>/checkpoints. Experiments that share a "
              "training run point here and keep their own run_dir")
              .text(kOneLineText));
}

struct AugmentConfig {
  int64_t random_crop_padding_px = 0;
  bool horizontal_flip = false;
};
template <class V>
void describe(V& v, AugmentConfig& c) {
  v.field("random_crop_padding_px", c.random_crop_padding_px,
          Doc("random crop after zero-padding each side by this much; 0 turns cropping off").unit("pixels").range(0, 16));
  v.field("horizontal_flip", c.horizontal_flip, Doc("flip training images left-right with probability 0.5"));
}

struct DataConfig {
  std::string dataset = "fashion_mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  std::optional<int64_t> train_samples;
  std::optional<int64_t> test_samples;
  bool normalize = true;
  std::optional<std::vector<double>> mean;
  std::optional<std::vector<double>> std;
  AugmentConfig augment;
};
template <class V>
void describe(V& v, DataConfig& c) {
  v.field("dataset", c.dataset, Doc("dataset format").choices({"fashion_mnist", "cifar10"}));
  v.field("path", c.path,
          Doc("dataset folder: the IDX .gz files of Fashion-MNIST (Debian package dataset-fashion-mnist) or "
              "the CIFAR-10 binary version (data_batch_1.bin ... test_batch.bin)"));
  v.field("train_samples", c.train_samples, Doc("use only the first N training images; null = all").unit("images").range(1, 1e9));
  v.field("test_samples", c.test_samples, Doc("use only the first N test images; null = all").unit("images").range(1, 1e9));
  v.field("normalize", c.normalize, Doc("subtract the per-channel mean and divide by the standard deviation"));
  v.field("mean", c.mean, Doc("per-channel mean of pixels scaled to [0, 1]; null = the dataset's standard values").range(0, 1));
  v.field("std", c.std, Doc("per-channel standard deviation; null = the dataset's standard values").above(0, 1));
  v.section("augment", c.augment, Doc("training-set augmentation, keyed by (seed, epoch, image) so it is reproducible"));
}

struct MlpConfig {
  std::vector<int64_t> hidden_sizes = {256, 128};
};
template <class V>
void describe(V& v, MlpConfig& c) {
  v.field("hidden_sizes", c.hidden_sizes, Doc("hidden layer widths").unit("neurons").range(1, 1e6));
}

struct ResnetConfig {
  int64_t depth = 20;
};
template <class V>
void describe(V& v, ResnetConfig& c) {
  v.field("depth", c.depth, Doc("number of layers, 6n+2 (8, 14, 20, 32, 44, 56, 110)").range(8, 1202));
}

struct VitConfig {
  int64_t patch_size = 4;
  int64_t depth = 4;
  int64_t heads = 4;
  int64_t embed_dim = 64;
  int64_t mlp_ratio = 2;
  std::string attention_scale = "head_dim";
};
template <class V>
void describe(V& v, VitConfig& c) {
  v.field("patch_size", c.patch_size, Doc("patch side; must divide the image size").unit("pixels").range(1, 32));
  v.field("depth", c.depth, Doc("transformer blocks").range(1, 64));
  v.field("heads", c.heads, Doc("attention heads; must divide embed_dim").range(1, 64));
  v.field("embed_dim", c.embed_dim, Doc("token embedding width").range(1, 4096));
  v.field("mlp_ratio", c.mlp_ratio, Doc("MLP hidden width / embed_dim").range(1, 16));
  v.field("attention_scale", c.attention_scale,
          Doc("scores scaled by head_dim^-0.5 (standard) or embed_dim^-0.5 (ASiM's implementation, for parity)")
              .choices({"head_dim", "embed_dim"}));
}

struct ModelConfig {
  std::string name = "cnn";
  double width_multiplier = 1.0;
  MlpConfig mlp;
  ResnetConfig resnet;
  VitConfig vit;
};
template <class V>
void describe(V& v, ModelConfig& c) {
  v.field("name", c.name,
          Doc("model from the zoo").choices({"mlp", "lenet5", "cnn", "resnet20", "mobilenetv2", "efficientnet_b0", "vit"}));
  v.field("width_multiplier", c.width_multiplier,
          Doc("channel-width multiplier of cnn, lenet5, resnet20, mobilenetv2 and efficientnet_b0").above(0, 16));
  v.section("mlp", c.mlp, Doc("options of model mlp"));
  v.section("resnet", c.resnet, Doc("options of model resnet20"));
  v.section("vit", c.vit, Doc("options of model vit"));
}

// Values that override the quantization defaults for the layers whose names match.
struct LayerOverride {
  std::vector<std::string> layers;
  std::optional<bool> keep_float;
  std::optional<bool> on_macro;
  std::optional<int64_t> weight_bits;
  std::optional<int64_t> activation_bits;
  std::optional<std::string> weight_granularity;
  std::optional<std::string> activation_sign;
};
template <class V>
void describe(V& v, LayerOverride& c) {
  v.field("layers", c.layers, Doc("layer names or shell globs (e.g. conv1, 'layer3.*', '*.attn.qk'); see `bitline layers`"));
  v.field("keep_float", c.keep_float, Doc("keep these layers in fp32 even in quantized evaluations and QAT; null = inherit"));
  v.field("on_macro", c.on_macro,
          Doc("false: in simulate mode these layers compute digitally (the integer reference) instead of on the "
              "macro, as ASiM keeps the first conv digital; null = inherit"));
  v.field("weight_bits", c.weight_bits, Doc("weight bit width; null = inherit").unit("bits").range(2, 16));
  v.field("activation_bits", c.activation_bits, Doc("input activation bit width; null = inherit").unit("bits").range(2, 16));
  v.field("weight_granularity", c.weight_granularity, Doc("null = inherit").choices({"per_tensor", "per_channel"}));
  v.field("activation_sign", c.activation_sign, Doc("null = inherit").choices({"auto", "unsigned", "signed"}));
}

// How one layer quantizes: the defaults of `quantization` and the whole `quantization` section of a
// `bitline layer` config.
struct LayerQuantizationConfig {
  int64_t weight_bits = 8;
  std::string weight_granularity = "per_channel";
  int64_t activation_bits = 8;
  std::string activation_sign = "auto";
  std::string activation_scaling = "static";
};
template <class V>
void describe(V& v, LayerQuantizationConfig& c) {
  v.field("weight_bits", c.weight_bits, Doc("weight bit width, symmetric two's complement").unit("bits").range(2, 16));
  v.field("weight_granularity", c.weight_granularity,
          Doc("one weight range per tensor or per output channel").choices({"per_tensor", "per_channel"}));
  v.field("activation_bits", c.activation_bits, Doc("input activation bit width").unit("bits").range(2, 16));
  v.field("activation_sign", c.activation_sign,
          Doc("auto: signed when the calibrated minimum is negative").choices({"auto", "unsigned", "signed"}));
  v.field("activation_scaling", c.activation_scaling,
          Doc("static: calibrated ranges; asim_dynamic: ASiM's per-tensor max over the whole batch, every call")
              .choices({"static", "asim_dynamic"}));
}

struct QuantizationConfig : LayerQuantizationConfig {
  std::string calibration = "observers";
  int64_t calibration_batches = 16;
  double observer_momentum = 0.1;
  std::vector<LayerOverride> layer_overrides;
};
template <class V>
void describe(V& v, QuantizationConfig& c) {
  describe(v, static_cast<LayerQuantizationConfig&>(c));
  v.field("calibration", c.calibration,
          Doc("source of static activation ranges: observers (tracked during training) or batches (a min/max pass "
              "over calibration_batches training batches before evaluation)")
              .choices({"observers", "batches"}));
  v.field("calibration_batches", c.calibration_batches, Doc("batches of the calibration pass").unit("batches").range(1, 100000));
  v.field("observer_momentum", c.observer_momentum,
          Doc("weight of each new batch in the observers' moving average of min/max").above(0, 1));
  v.section_list("layer_overrides", c.layer_overrides,
                 Doc("per-layer overrides, applied in order (later entries win), e.g. keep the first and last layers at 8 bits"));
}

// ADC-aware training (docs/adc.md): what of the macro's converter each training batch sees.
struct AdcAwareConfig {
  std::string variation_sampling = "fixed";
  std::vector<std::string> corners;
  std::vector<double> vdd_v;
  std::string ste = "identity";
};
template <class V>
void describe(V& v, AdcAwareConfig& c) {
  v.field("variation_sampling", c.variation_sampling,
          Doc("per-column variation while training: fixed = the macro's chip instance throughout, per_batch = a new "
              "chip instance (chip_seed) every batch, none = no variation")
              .choices({"fixed", "per_batch", "none"}));
  v.field("corners", c.corners, Doc("CCO macros: a corner drawn per batch from this list; empty = the macro's corner"));
  v.field("vdd_v", c.vdd_v, Doc("CCO macros: a supply drawn per batch from this list; empty = the macro's V_DD").unit("V").above(0, 5));
  v.field("ste", c.ste,
          Doc("backward pass: identity (straight-through) or curve_slope (times the least-squares slope of the macro's "
              "realized transfer over the batch, per layer)")
              .choices({"identity", "curve_slope"}));
}

struct StageConfig {
  int64_t epochs = 0;
  double learning_rate = 0.05;
  std::string mode = "quantized";
  std::optional<std::string> macro;
  double nat_sigma_percent = 0;
  std::optional<int64_t> samples_per_epoch;
  AdcAwareConfig adc_aware;
  static StageConfig with(int64_t epochs, double learning_rate) {
    StageConfig stage;
    stage.epochs = epochs;
    stage.learning_rate = learning_rate;
    return stage;
  }
};
template <class V>
void describe(V& v, StageConfig& c) {
  v.field("epochs", c.epochs, Doc("epochs of this stage; 0 skips it").unit("epochs").range(0, 100000));
  v.field("learning_rate", c.learning_rate, Doc("peak learning rate").above(0, 100));
  v.field("mode", c.mode,
          Doc("qat stage: quantized (QAT) or simulate (the forward pass runs on `macro`, the backward pass is the "
              "straight-through estimator of the quantized product); ignored by the float stage")
              .choices({"quantized", "simulate"}));
  v.field("macro", c.macro, Doc("qat stage with mode simulate: name of an entry of `macros`"));
  v.field("nat_sigma_percent", c.nat_sigma_percent,
          Doc("noise-aware training (ASiM's trim_noise): multiply each layer output by (1 + eps * sigma), eps ~ N(0,1), "
              "while training")
              .unit("%").range(0, 1000));
  v.field("samples_per_epoch", c.samples_per_epoch,
          Doc("train each epoch of this stage on only the first N images of its shuffled order (e.g. to keep "
              "simulate-in-the-loop fine-tuning short); null = all")
              .unit("images").range(1, 1e9));
  v.section("adc_aware", c.adc_aware, Doc("mode simulate: how the macro's ADC varies from batch to batch (ADC-aware training)"));
}

// DDC-PIM's FCC stage (docs/ddc_pim.md): pair the filters of the chosen layers, tie each pair as
// complements after quantization, and fine-tune (QAT with the straight-through estimator).
struct FccStageConfig {
  int64_t epochs = 0;
  double learning_rate = 0.005;
  std::optional<int64_t> samples_per_epoch;
  std::vector<std::string> layers = {"pointwise", "depthwise"};
  bool pair_first_conv = false;
  std::vector<std::string> keep_unpaired;
  std::string encoding = "twos_complement";
  std::string matching = "exact";
  std::string cost = "complement";
  int64_t penalty_epochs = 0;
  double penalty_weight = 1.0;
};
template <class V>
void describe(V& v, FccStageConfig& c) {
  v.field("epochs", c.epochs,
          Doc("epochs of FCC fine-tuning with the pairs tied; 0 skips the stage (evaluations may still run the paired "
              "network before fine-tuning: weights paired) [assumed; the paper's are unknown]")
              .unit("epochs")
              .range(0, 100000));
  v.field("learning_rate", c.learning_rate, Doc("peak learning rate of the FCC stage").above(0, 100));
  v.field("samples_per_epoch", c.samples_per_epoch,
          Doc("train each FCC epoch on only the first N images of its shuffled order; null = all").unit("images").range(1, 1e9));
  v.field("layers", c.layers,
          Doc("kinds of layer whose filters are paired: pointwise (1x1 convs), depthwise (pairs of channels, dual "
              "broadcast), conv (other ungrouped convs), linear")
              .choices({"pointwise", "depthwise", "conv", "linear"}));
  v.field("pair_first_conv", c.pair_first_conv, Doc("pair the model's first conv too (it stays unpaired by default)"));
  v.field("keep_unpaired", c.keep_unpaired, Doc("layer names or shell globs that stay unpaired whatever their kind"));
  v.field("encoding", c.encoding,
          Doc("weight encoding of paired layers: twos_complement (the pair's codes are w and -w - 1) or offset_binary "
              "(a mid-rise grid of 2^n levels stored as u and 2^n - 1 - u: the pair's values are exact negatives; its "
              "codes take weight_bits + 1 bits)")
              .choices({"twos_complement", "offset_binary"}));
  v.field("matching", c.matching,
          Doc("pairing per layer: exact (a minimum-cost perfect matching, LEMON) or greedy (cheapest pair first)")
              .choices({"exact", "greedy"}));
  v.field("cost", c.cost,
          Doc("pair cost: complement (Σ (a + b - s)² in code units, s the complement sum) or cosine (1 + cos of the "
              "codes centred on -s/2: 0 for exact complements)")
              .choices({"complement", "cosine"}));
  v.field("penalty_epochs", c.penalty_epochs,
          Doc("epochs of a first phase, before the hard tie, that pulls each pair toward complements with a penalty "
              "added to the loss (the pairs untied); 0 skips it [assumed: whether the paper has one is unknown]")
              .unit("epochs")
              .range(0, 100000));
  v.field("penalty_weight", c.penalty_weight,
          Doc("weight of that penalty: the mean over the paired weights of ((w_free + w_tied + Δ) / r)², r the free "
              "filter's weight range, Δ one quantization step (0 in offset binary) [assumed default]")
              .range(0, 1e6));
}

struct TrainConfig {
  int64_t batch_size = 128;
  std::string optimizer = "sgd";
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";
  std::vector<double> milestones = {0.6, 0.9};
  double gamma = 0.1;
  StageConfig float_stage = StageConfig::with(4, 0.05);
  StageConfig qat_stage = StageConfig::with(1, 0.005);
  FccStageConfig fcc_stage;
};
template <class V>
void describe(V& v, TrainConfig& c) {
  v.field("batch_size", c.batch_size, Doc("training batch size").unit("images").range(1, 65536));
  v.field("optimizer", c.optimizer, Doc("sgd (with momentum) or adam").choices({"sgd", "adam"}));
  v.field("momentum", c.momentum, Doc("SGD momentum").range(0, 0.999));
  v.field("weight_decay", c.weight_decay, Doc("L2 weight decay").range(0, 1));
  v.field("schedule", c.schedule,
          Doc("learning-rate schedule within each stage").choices({"constant", "cosine", "multistep"}));
  v.field("milestones", c.milestones, Doc("multistep: fractions of the stage at which the rate is multiplied by gamma").range(0, 1));
  v.field("gamma", c.gamma, Doc("multistep decay factor").above(0, 1));
  v.section("float", c.float_stage, Doc("stage 1: fp32 training from scratch"));
  v.section("qat", c.qat_stage, Doc("stage 2: quantization-aware fine-tuning of the stage-1 model"));
  v.section("fcc", c.fcc_stage,
            Doc("stage 3 (DDC-PIM): filter pairing and tied fine-tuning of the stage-2 model (stage 1 when stage 2 is "
                "not trained)"));
}

// Macro settings that differ for some layers, e.g. an 8-bit ADC for the first layer: any keys of
// the macro type's section.
struct MacroOverride {
  std::vector<std::string> layers;
  std::array<YAML::Node, kMacroTypeCount> sections = empty_sections();
  static std::array<YAML::Node, kMacroTypeCount> empty_sections() {
    std::array<YAML::Node, kMacroTypeCount> nodes;
    for (auto& node : nodes) node = YAML::Node(YAML::NodeType::Map);
    return nodes;
  }
};
template <class V>
void describe(V& v, MacroOverride& c) {
  v.field("layers", c.layers, Doc("layer names or shell globs"));
  for_each_macro_type([&](auto type, auto index) {
    using Type = decltype(type);
    v.field(Type::kName, c.sections[index], Doc(std::string("any ") + Type::kName + " keys, for a macro of that type"));
  });
}

// A macro type and its knobs: the section of the chosen type; the others stay at their defaults.
struct MacroChoice {
  std::string type = "analog_sram";
  MacroTypeConfigs configs;
  std::vector<std::string> given_sections;  // the type sections the config gave (set while loading)
};
template <class V>
void describe(V& v, MacroChoice& c) {
  v.field("type", c.type, Doc("macro type (`bitline macros` lists them)").choices(macro_type_names()));
  for_each_macro_type([&](auto type, auto index) {
    using Type = decltype(type);
    v.section(Type::kName, std::get<index>(c.configs),
              Doc(std::string("type ") + Type::kName + ": " + Type::kSummary + " (" + Type::kDocs + ")"));
    if constexpr (std::is_same_v<V, ConfigLoader>) {
      if (v.given(Type::kName)) c.given_sections.push_back(Type::kName);
    }
  });
}

struct MacroConfig : MacroChoice {
  std::string name = "analog";
  std::vector<MacroOverride> layer_overrides;
  core::cost::Hardware hardware;
};
template <class V>
void describe(V& v, MacroConfig& c) {
  v.field("name", c.name, Doc("name that evaluation runs refer to"));
  describe(v, static_cast<MacroChoice&>(c));
  v.section_list("layer_overrides", c.layer_overrides, Doc("per-layer macro settings, later entries win"));
  v.section("hardware", c.hardware, Doc("the chip around the macro, for energy, latency and area (docs/cost.md)"));
}

struct EvaluationRun {
  std::string name = "w8a8";
  std::string mode = "quantized";
  std::optional<std::string> macro;
  std::optional<std::string> weights;
  std::optional<std::string> compare_to;
};
template <class V>
void describe(V& v, EvaluationRun& c) {
  v.field("name", c.name, Doc("row name in the results table"));
  v.field("mode", c.mode,
          Doc("float: fp32 model; quantized: integer reference of the QAT model; simulate: the QAT model on a macro")
              .choices({"float", "quantized", "simulate"}));
  v.field("macro", c.macro, Doc("simulate: name of an entry of `macros`; null otherwise"));
  v.field("weights", c.weights,
          Doc("the trained stage whose weights run: float or qat (e.g. an fp32-trained network on a floating-point "
              "macro), paired (train.fcc's pairs tied in the stage-2 weights, or those of its penalty phase, before "
              "fine-tuning) or fcc (after FCC fine-tuning); null = float for mode float, qat otherwise, each falling back to the other stage when its "
              "own was not trained")
              .choices({"float", "qat", "paired", "fcc"}));
  v.field("compare_to", c.compare_to,
          Doc("simulate: the name of another simulate run (e.g. the same weights on a baseline macro); the results "
              "then give this run's speedup (inferences/s), latency and energy per image as ratios to that one's"));
}

struct EvaluationConfig {
  int64_t batch_size = 500;
  std::vector<EvaluationRun> runs = {{"fp32", "float", std::nullopt, std::nullopt, std::nullopt},
                                     {"w8a8", "quantized", std::nullopt, std::nullopt, std::nullopt}};
};
template <class V>
void describe(V& v, EvaluationConfig& c) {
  v.field("batch_size", c.batch_size, Doc("evaluation batch size (results do not depend on it)").unit("images").range(1, 65536));
  v.section_list("runs", c.runs, Doc("the evaluations of `bitline run` and `bitline eval`, one results row each"));
}

// `bitline layer`: one conv or linear layer on user tensors.
struct SingleLayerConfig {
  std::string type = "conv2d";
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  std::string mode = "simulate";
  int64_t first_sample = 0;
  int64_t threads = 2;
  std::vector<std::vector<int64_t>> pairs;
  std::string pair_encoding = "twos_complement";
  std::string pairing_file;
  std::string pairing_layer;
};
template <class V>
void describe(V& v, SingleLayerConfig& c) {
  v.field("type", c.type, Doc("conv2d (input NCHW, weight OIHW) or linear (input [..., in], weight [out, in])")
                              .choices({"conv2d", "linear"}));
  v.field("stride", c.stride, Doc("conv2d stride").unit("pixels").range(1, 64));
  v.field("padding", c.padding, Doc("conv2d zero padding on each side").unit("pixels").range(0, 64));
  v.field("dilation", c.dilation, Doc("conv2d dilation").range(1, 64));
  v.field("groups", c.groups, Doc("conv2d groups (= input channels for depthwise)").range(1, 1000000));
  v.field("mode", c.mode, Doc("float, quantized (integer reference) or simulate (on `macro`)")
                              .choices({"float", "quantized", "simulate"}));
  v.field("first_sample", c.first_sample,
          Doc("sample index of the input's first row in the noise streams (to match a slice of a bigger run)").range(0, 9.0e15));
  v.field("threads", c.threads, Doc("CPU threads").range(1, 1024));
  v.field("pairs", c.pairs,
          Doc("simulate on a macro that stores complementary pairs (ddc_pim): filters stored as pairs [free, tied] in "
              "shared cells, e.g. [[0, 1], [2, 3]]; the tied filter keeps its own weights (with the free one's scale), "
              "and the macro refuses a pair whose codes are not complements. Linear, ungrouped conv2d or depthwise conv2d")
              .range(0, 1e9));
  v.field("pair_encoding", c.pair_encoding,
          Doc("how the pairs' codes relate (docs/macros/ddc_pim.md): twos_complement (-w - 1) or offset_binary (-d)")
              .choices({"twos_complement", "offset_binary"}));
  v.field("pairing_file", c.pairing_file,
          Doc("instead of `pairs`: a DDC-PIM pairing file (pairing-<hash>.json of a run's checkpoint directory), whose "
              "layer `pairing_layer` gives the pairs and the encoding (a path relative to the working directory, as data.path)"));
  v.field("pairing_layer", c.pairing_layer, Doc("the layer of `pairing_file` whose pairs the layer takes"));
}

struct LayerCommandConfig {
  SingleLayerConfig layer;
  LayerQuantizationConfig quantization;
  MacroChoice macro;
};
template <class V>
void describe(V& v, LayerCommandConfig& c) {
  v.section("layer", c.layer, Doc("the layer"));
  v.section("quantization", c.quantization,
            Doc("operand quantization; static ranges are calibrated on the given input itself"));
  v.section("macro", c.macro,
            Doc("the macro of simulate mode: its type and that type's section, as in a macros[] entry"));
}

LayerCommandConfig load_layer_config(const std::filesystem::path& path);
// The same for the file's text; `source` names it in errors.
LayerCommandConfig parse_layer_config(const std::string& yaml_text, const std::string& source);

// `bitline adc`: one converter, characterized (docs/adc.md).
struct AdcCharacterizeConfig {
  int64_t ramp_steps_per_lsb = 64;
  int64_t sine_samples = 4096;
  int64_t sine_cycles = 127;
  double sine_amplitude_fs = 0.5;
  int64_t seed = 1;
  int64_t column = 0;
};
template <class V>
void describe(V& v, AdcCharacterizeConfig& c) {
  v.field("column", c.column, Doc("for a per-column table (a `column` column in the CSV): the column to characterize").range(0, 65535));
  v.field("ramp_steps_per_lsb", c.ramp_steps_per_lsb, Doc("input steps per LSB of the ramp (exact code statistics per step)").range(1, 4096));
  v.field("sine_samples", c.sine_samples, Doc("conversions of the sine test").range(16, 1 << 22));
  v.field("sine_cycles", c.sine_cycles, Doc("sine periods in the record; coprime with sine_samples (coherent sampling)").range(1, 1 << 21));
  v.field("sine_amplitude_fs", c.sine_amplitude_fs,
          Doc("sine peak amplitude around mid-scale; 0.5 spans the full scale").unit("FS").above(0, 1));
  v.field("seed", c.seed, Doc("seed of the sine test's conversion randomness (phase, noise)").range(0, 9.0e15));
}

struct AdcCommandConfig {
  AdcConfig adc;
  double noise_sigma_lsb = 0;
  AdcCharacterizeConfig characterize;
  std::string output_dir = "runs/adc";
};
template <class V>
void describe(V& v, AdcCommandConfig& c) {
  v.section("adc", c.adc, Doc("the converter: the same keys as a macro's analog_sram.adc"));
  v.field("noise_sigma_lsb", c.noise_sigma_lsb, Doc("Gaussian (thermal) noise at the converter input").unit("LSB").range(0, 1000));
  v.section("characterize", c.characterize, Doc("test signals"));
  v.field("output_dir", c.output_dir, Doc("directory for transfer.csv, linearity.csv and summary.json"));
}
AdcCommandConfig load_adc_command_config(const std::filesystem::path& path);
AdcCommandConfig parse_adc_command_config(const std::string& yaml_text, const std::string& source);
// A layer's quantization spec in `mode`, from a quantization section without overrides.
nn::LayerQuantSpec layer_quant_spec(const LayerQuantizationConfig& config, nn::LayerMode mode);

struct Config {
  ExperimentConfig experiment;
  DataConfig data;
  ModelConfig model;
  QuantizationConfig quantization;
  std::vector<MacroConfig> macros;
  TrainConfig train;
  EvaluationConfig evaluation;
};
template <class V>
void describe(V& v, Config& c) {
  v.section("experiment", c.experiment, Doc("run identity and resources"));
  v.section("data", c.data, Doc("dataset and preprocessing"));
  v.section("model", c.model, Doc("network from the model zoo"));
  v.section("quantization", c.quantization, Doc("quantization of weights and activations"));
  v.section_list("macros", c.macros, Doc("in-memory compute macros that simulate-mode evaluations run on"));
  v.section("train", c.train, Doc("training: fp32 stage, then QAT stage"));
  v.section("evaluation", c.evaluation, Doc("evaluations reported by `bitline run`"));
}

// YAML text -> node, for every config file and --set value. Throws InputError naming `source` for a
// syntax error, a second document, a key repeated in a map, a non-scalar key, or a tree nested
// deeper than 64 levels or holding more than 100000 nodes (counting each use of an alias).
YAML::Node parse_yaml(const std::string& yaml_text, const std::string& source);
// A YAML tree as block-style text.
std::string dump_yaml(const YAML::Node& node);
// Sets the value at `key_path` in a config's YAML tree: keys joined by '.', a list entry by its
// index or, for lists of named entries, its name (`macros[0].adc.bits`, `macros[asim_sram].adc.bits`).
// Missing map keys are created; a missing list entry, or a path through a value, is an InputError
// that starts with `what` (e.g. "--set 'x=1'").
void set_config_value(YAML::Node& root, const std::string& key_path, const YAML::Node& value, const std::string& what);
// Applies a `--set key.path=value` to a config's YAML tree; the value is parsed as YAML (numbers,
// lists...).
void apply_config_setting(YAML::Node& root, const std::string& setting);
// The config embedded in the binary (a copy of configs/default.yaml).
const std::string& embedded_default_config_text();
// Parses and validates YAML text; `source` names it in errors (a path or "<embedded default>").
Config parse_config(const std::string& yaml_text, const std::string& source);
// Reads and parses a config file; a missing file is an InputError naming it. A top-level
// `base: other.yaml` key (relative to the file) makes the file a set of changes to that config.
Config load_config(const std::filesystem::path& path);
// The YAML of a config file with its `base:` chain merged in.
YAML::Node resolve_config_file(const std::filesystem::path& path);
// Checks across fields (e.g. mean/std lengths); throws InputError naming `source` and the key.
void validate_config(const Config& config, const std::string& source);
// The config as YAML text (all keys, current values; each macro with its own type's section), which
// loads again as the same config.
std::string to_yaml(const Config& config);
// Documented YAML of the built-in defaults: `bitline config --defaults`.
std::string documented_defaults();

// Hashes that decide whether a cached checkpoint can be reused: the fp32 stage depends on seed,
// data, model and fp32 training; the QAT stage on that plus quantization and QAT training.
std::string float_stage_hash(const Config& config);
std::string qat_stage_hash(const Config& config);
// The FCC stage's hash (its pairing file and checkpoint): the hash of the stage it starts from and train.fcc.
std::string fcc_stage_hash(const Config& config);
// The FCC penalty phase's hash: the pairing's and the phase's settings.
std::string fcc_penalty_stage_hash(const Config& config);
// The hash of the pairing alone (train.fcc without epochs, learning rate and samples).
std::string pairing_hash(const Config& config);

// The quantization spec of one layer in a given mode, after the overrides; `macro` is required in
// simulate mode.
nn::LayerQuantSpec layer_spec(const QuantizationConfig& config, const std::string& layer_name, nn::LayerMode mode,
                              const MacroConfig* macro = nullptr);
// The macro of one layer: the macro's type section with its matching layer overrides, built by its
// registered type.
std::shared_ptr<const core::MacroSpec> macro_spec(const MacroConfig& macro, const std::string& layer_name);
// The macro a choice describes (no overrides); `source` and `key` (e.g. "macro") name it in errors.
std::shared_ptr<const core::MacroSpec> macro_spec(const MacroChoice& choice, const std::string& source,
                                                  const std::string& key);
// The YAML of the macro's section of registered type `type_index`, with the layer overrides that
// match `layer_name` merged in.
YAML::Node merged_macro_section(const MacroConfig& macro, std::size_t type_index, const std::string& layer_name);
// The section of type T of one layer (the macro's, with its matching layer overrides).
template <class T>
typename T::Config macro_section(const MacroConfig& macro, const std::string& layer_name) {
  typename T::Config section;
  ConfigLoader loader("macro '" + macro.name + "' for layer '" + layer_name + "'",
                      merged_macro_section(macro, macro_type_index<T>(), layer_name), T::kName);
  describe(loader, section);
  loader.reject_unknown_keys();
  return section;
}
// The macro named `name`; InputError naming `key` when there is none.
const MacroConfig& find_macro(const Config& config, const std::string& name, const std::string& key);
// Checks that every layer-override pattern (quantization and macros) matches one of `layer_names`.
void check_override_patterns(const Config& config, const std::vector<std::string>& layer_names);
// A layer name or shell glob of the config against a layer's name.
bool matches_layer_pattern(const std::string& pattern, const std::string& layer_name);
nn::LayerMode parse_mode(const std::string& mode);

}  // namespace bitline::app
