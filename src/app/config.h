#pragma once
// The experiment config: typed structs with defaults, and their single field list (describe()),
// from which loading, validation, `bitline config --defaults` and hashing all follow.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "app/config_schema.h"
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
  v.field("name", c.name, Doc("experiment name, shown in reports"));
  v.field("seed", c.seed, Doc("seed of weight initialisation, data order and augmentation").range(0, 9.0e15));
  v.field("threads", c.threads, Doc("CPU threads for LibTorch and bitline kernels; set to your core count").range(1, 1024));
  v.field("run_dir", c.run_dir, Doc("directory for results.json, results.csv and config.yaml (relative to the working directory)"));
  v.field("checkpoint_dir", c.checkpoint_dir,
          Doc("directory for the trained checkpoints; empty: <run_dir>/checkpoints. Experiments that share a "
              "training run point here and keep their own run_dir"));
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
}

struct AdcTableConfig {
  std::string thresholds_csv;
  std::string inl_csv;
  std::string dnl_csv;
};
template <class V>
void describe(V& v, AdcTableConfig& c) {
  v.field("thresholds_csv", c.thresholds_csv,
          Doc("CSV with columns code, threshold_lsb: the input level (LSB) at which each code 1..2^bits-1 starts "
              "(ideal: code - 0.5); path relative to the working directory. Any of the three tables may add a "
              "column `column` (0, 1, ...): one table per physical column of the array, o * weight_bits + i, "
              "repeated for wider layers"));
  v.field("inl_csv", c.inl_csv, Doc("CSV with columns code, inl_lsb for codes 1..2^bits-1: threshold = code - 0.5 + INL"));
  v.field("dnl_csv", c.dnl_csv,
          Doc("CSV with columns code, dnl_lsb for codes 1..2^bits-2: threshold(code + 1) = threshold(code) + 1 + DNL, "
              "the first threshold ideal [assumption]"));
}

struct CcoConfig {
  std::string corner = "TT";
  double vdd_v = 0.9;
  std::string design_corner = "TT";
  double design_vdd_v = 0.9;
  double full_scale_current_ua = 5;
  double c_eff_ff = 10;
  bool offset_calibrated = true;
  std::string operating_points_csv;
};
template <class V>
void describe(V& v, CcoConfig& c) {
  v.field("corner", c.corner, Doc("process corner the ADC runs at (a corner of the operating-point table)"));
  v.field("vdd_v", c.vdd_v, Doc("supply voltage it runs at; interpolated linearly between the table's points").unit("V").above(0, 5));
  v.field("design_corner", c.design_corner, Doc("corner at which the counting window was sized"));
  v.field("design_vdd_v", c.design_vdd_v,
          Doc("supply at which the counting window was sized so that full scale spans all codes").unit("V").above(0, 5));
  v.field("full_scale_current_ua", c.full_scale_current_ua,
          Doc("column current at full scale [assumed default]").unit("uA").above(0, 1e6));
  v.field("c_eff_ff", c.c_eff_ff,
          Doc("capacitance switched per oscillation; energy per conversion = C V^2 f T [assumed default]").unit("fF").range(0, 1e6));
  v.field("offset_calibrated", c.offset_calibrated,
          Doc("subtract the zero-input count measured at the operating point (true) or at the design point (false)"));
  v.field("operating_points_csv", c.operating_points_csv,
          Doc("CSV with columns corner, vdd_v, f0_mhz, gain_mhz_per_ua, isat_ua (f = f0 + K I / (1 + I / Isat)); "
              "empty: the built-in TT/FF/SS table at 0.6-1.0 V [assumed, docs/adc.md]"));
}

struct AdcVariationConfig {
  double gain_sigma_percent = 0;
  double offset_sigma_lsb = 0;
  int64_t chip_seed = 1;
};
template <class V>
void describe(V& v, AdcVariationConfig& c) {
  v.field("gain_sigma_percent", c.gain_sigma_percent,
          Doc("per-column gain error g ~ N(1, sigma^2) of the column readout: v -> g v + o").unit("%").range(0, 100));
  v.field("offset_sigma_lsb", c.offset_sigma_lsb, Doc("per-column offset error o ~ N(0, sigma^2)").unit("LSB").range(0, 1000));
  v.field("chip_seed", c.chip_seed,
          Doc("the chip instance: each physical column's (gain, offset) is a function of this seed and the column")
              .range(0, 9.0e15));
}

struct AdcConfig {
  int64_t bits = 8;
  std::string full_scale = "asim_full_range";
  double calibration_percentile = 99.99;
  std::string model = "ideal";
  AdcTableConfig table;
  CcoConfig cco;
  AdcVariationConfig variation;
};
template <class V>
void describe(V& v, AdcConfig& c) {
  v.field("bits", c.bits, Doc("ADC resolution").unit("bits").range(1, 16));
  v.field("full_scale", c.full_scale,
          Doc("ADC input range: asim_full_range = (2^e - 1) * rows_per_conversion MAC units (ASiM), or calibrated "
              "per layer from partial-sum statistics, clipping above")
              .choices({"asim_full_range", "calibrated"}));
  v.field("calibration_percentile", c.calibration_percentile,
          Doc("calibrated: the full scale is this percentile of the layer's partial sums").unit("%").above(0, 100));
  v.field("model", c.model,
          Doc("converter: ideal (ASiM's rounding, exact parity), table (thresholds or INL/DNL from a CSV) or cco "
              "(current-controlled oscillator ADC); docs/adc.md")
              .choices({"ideal", "table", "cco"}));
  v.section("table", c.table, Doc("model table: exactly one of the three CSV files"));
  v.section("cco", c.cco, Doc("model cco: operating point and design of the oscillator ADC"));
  v.section("variation", c.variation,
            Doc("per-column gain/offset mismatch of one chip instance (any model; runs on the scalar path)"));
}

struct NoiseConfig {
  double additive_sigma_lsb = 0;
  std::optional<double> additive_sigma_fs_percent;
  double asim_mac_sigma_fs_percent = 0;
  double physical_sigma_fs_percent = 0;
  double gain_compression_alpha = 0;
  double parasitic_capacitance_ratio = 0;
};
template <class V>
void describe(V& v, NoiseConfig& c) {
  v.field("additive_sigma_lsb", c.additive_sigma_lsb,
          Doc("Gaussian noise added before the ADC, in ADC LSB (1 LSB = 1/(2^bits - 1) of full scale)")
              .unit("LSB").range(0, 1000));
  v.field("additive_sigma_fs_percent", c.additive_sigma_fs_percent,
          Doc("the same noise in percent of full scale (ASiM's rand_noise_sigma); null = use additive_sigma_lsb")
              .unit("% FS").range(0, 100));
  v.field("asim_mac_sigma_fs_percent", c.asim_mac_sigma_fs_percent,
          Doc("ASiM's MAC-dependent noise: sigma / sqrt(m + 1), sigma in percent of full scale (non_linear_sigma)")
              .unit("% FS").range(0, 100));
  v.field("physical_sigma_fs_percent", c.physical_sigma_fs_percent,
          Doc("noise growing as sqrt(m): sigma * sqrt(m / full scale), sigma in percent of full scale [assumed model]")
              .unit("% FS").range(0, 100));
  v.field("gain_compression_alpha", c.gain_compression_alpha,
          Doc("current-domain gain compression v -> v / (1 + alpha v), v = MAC / full scale (ASiM's current domain)")
              .range(0, 100));
  v.field("parasitic_capacitance_ratio", c.parasitic_capacitance_ratio,
          Doc("charge domain: bitline parasitic over unit cell capacitance C_par / C_u; v -> v N / (N + C_par / C_u)")
              .range(0, 1e6));
}

struct HybridConfig {
  int64_t levels = 0;
  std::string top_levels = "digital";
  int64_t vote_samples = 3;
  std::string tie_rule = "smallest";
};
template <class V>
void describe(V& v, HybridConfig& c) {
  v.field("levels", c.levels,
          Doc("L: the top L significance levels (i + j > B_w + P - L - 2) are handled by top_levels").range(0, 32));
  v.field("top_levels", c.top_levels,
          Doc("digital: computed noise-free (hybrid CiM); majority_vote: converted vote_samples times")
              .choices({"digital", "majority_vote"}));
  v.field("vote_samples", c.vote_samples, Doc("conversions per voted cycle").range(1, 31));
  v.field("tie_rule", c.tie_rule,
          Doc("tied vote: smallest code (ASiM's torch.mode), largest, or the one closest to the samples' mean")
              .choices({"smallest", "largest", "closest_to_mean"}));
}

struct AnalogSramConfig {
  int64_t rows_per_conversion = 255;
  int64_t input_bits_per_cycle = 1;
  std::string row_mapping = "channel_aligned";
  AdcConfig adc;
  NoiseConfig noise;
  HybridConfig hybrid;
  bool asim_compatible = false;
  int64_t seed = 0;
};
template <class V>
void describe(V& v, AnalogSramConfig& c) {
  v.field("rows_per_conversion", c.rows_per_conversion,
          Doc("N: rows activated together and converted by one ADC read (ASiM's nrow)").unit("rows").range(1, 65536));
  v.field("input_bits_per_cycle", c.input_bits_per_cycle,
          Doc("input bits applied per cycle: 1 = bit-serial, more = bit-parallel (ASiM's act_enc)").unit("bits").range(1, 16));
  v.field("row_mapping", c.row_mapping,
          Doc("channel_aligned: whole input channels per tile (ASiM); packed: contiguous chunks of N rows")
              .choices({"channel_aligned", "packed"}));
  v.section("adc", c.adc, Doc("column ADC"));
  v.section("noise", c.noise, Doc("analog non-idealities before the ADC"));
  v.section("hybrid", c.hybrid, Doc("hybrid CiM and majority voting on the most significant cycles"));
  v.field("asim_compatible", c.asim_compatible,
          Doc("reproduce ASiM exactly: channel-aligned tiles including ASiM's dropped channels, full-range ADC; "
              "requires quantization per_tensor + asim_dynamic"));
  v.field("seed", c.seed, Doc("seed of the macro's noise streams").range(0, 9.0e15));
}

// Macro settings that differ for some layers, e.g. an 8-bit ADC for the first layer.
struct MacroOverride {
  std::vector<std::string> layers;
  YAML::Node analog_sram{YAML::NodeType::Map};
};
template <class V>
void describe(V& v, MacroOverride& c) {
  v.field("layers", c.layers, Doc("layer names or shell globs"));
  v.field("analog_sram", c.analog_sram, Doc("any analog_sram keys, e.g. {adc: {bits: 8}}"));
}

}  // namespace bitline::app

// The cost model's chip and component costs are configured directly (macros[].hardware); their
// defaults live in core::cost. These describe() overloads sit in core::cost so that the schema
// visitors' unqualified describe() calls find them by argument-dependent lookup.
namespace bitline::core::cost {
// Component costs (docs/cost.md gives each default's source), at the reference technology below;
// the model scales them to the chip's.
template <class V>
void describe(V& v, ComponentLibrary& c) {
  const double inf = std::numeric_limits<double>::infinity();
  v.field("reference_node_nm", c.reference.node_nm, app::Doc("technology node the values below are given at").unit("nm").above(0));
  v.field("reference_vdd_v", c.reference.vdd_v, app::Doc("supply the values below are given at").unit("V").above(0));
  v.field("adc_fom_fj_per_step", c.adc_fom_fj_per_step,
          app::Doc("ADC figure of merit: energy per conversion = FoM * 2^bits (Kull et al., ISSCC 2013: 8 bits, 2.58 pJ, 32 nm)").unit("fJ").range(0, inf));
  v.field("adc_area_um2_per_level", c.adc_area_um2_per_level, app::Doc("ADC area = this * 2^bits (ISAAC, ISCA 2016: 1200 um^2 at 8 bits, 32 nm)").unit("um^2").range(0, inf));
  v.field("adc_conversion_ns", c.adc_conversion_ns, app::Doc("time of one conversion (Kull et al.: 1.2 GS/s at 32 nm)").unit("ns").range(0, inf));
  v.field("adc_fom_corner_msps", c.adc_fom_corner_msps,
          app::Doc("sample rate above which the FoM rises: energy x max(1, rate / corner) [assumption]; default: the rate Kull et al. measured it at; 0: flat").unit("MS/s").range(0, inf));
  v.field("sense_amp_area_um2", c.sense_amp_area_um2, app::Doc("sense amplifier area, one per column (Aladdin, ISCA 2014: a 40 nm register bit, 5.98 um^2; a latch-type amplifier taken as one flip-flop [assumption])").unit("um^2").range(0, inf));
  v.field("dac_energy_pj", c.dac_energy_pj, app::Doc("input driver: per row driven with one input chunk (ISAAC's 1-bit DAC)").unit("pJ").range(0, inf));
  v.field("dac_area_um2", c.dac_area_um2, app::Doc("input driver area per row (ISAAC's 1-bit DAC)").unit("um^2").range(0, inf));
  v.field("cell_energy_fj", c.cell_energy_fj, app::Doc("per bit cell of an activation, a driven row on one column (CiMLoop's model of Jia et al., JSSC 2020: 2 fF at 65 nm, 1.2 V; C V^2)").unit("fJ").range(0, inf));
  v.field("cell_area_um2", c.cell_area_um2, app::Doc("bit cell area (Mistry et al., IEDM 2007: 45 nm 6T)").unit("um^2").range(0, inf));
  v.field("cell_write_energy_pj", c.cell_write_energy_pj, app::Doc("per weight bit written (Horowitz 2014: 8 KB SRAM)").unit("pJ").range(0, inf));
  v.field("adder_energy_pj_per_input", c.adder_energy_pj_per_input,
          app::Doc("digital cycles: adder-tree energy per input row (Horowitz 2014: 8-bit add / 8)").unit("pJ").range(0, inf));
  v.field("adder_area_um2_per_input", c.adder_area_um2_per_input,
          app::Doc("adder-tree area per input row and column (Horowitz 2014: 8-bit adder / 8)").unit("um^2").range(0, inf));
  v.field("shift_add_energy_pj", c.shift_add_energy_pj, app::Doc("per shift-add (Horowitz 2014: 16-bit add)").unit("pJ").range(0, inf));
  v.field("shift_add_area_um2", c.shift_add_area_um2, app::Doc("per shift-add unit (Horowitz 2014: 16-bit adder)").unit("um^2").range(0, inf));
  v.field("accumulator_energy_pj", c.accumulator_energy_pj, app::Doc("per partial sum accumulated across row tiles (Horowitz 2014: 32-bit add)").unit("pJ").range(0, inf));
  v.field("accumulator_area_um2", c.accumulator_area_um2, app::Doc("per output column of a macro (Horowitz 2014: 32-bit adder)").unit("um^2").range(0, inf));
  v.field("buffer_energy_pj_per_bit", c.buffer_energy_pj_per_bit, app::Doc("buffer access per bit (Horowitz 2014: 32 KB SRAM)").unit("pJ").range(0, inf));
  v.field("buffer_area_um2_per_bit", c.buffer_area_um2_per_bit, app::Doc("buffer area per bit (ISAAC, ISCA 2016: 64 KB eDRAM buffer, 0.083 mm^2 at 32 nm)").unit("um^2").range(0, inf));
  v.field("interconnect_energy_pj_per_bit_mm", c.interconnect_energy_pj_per_bit_mm,
          app::Doc("wire energy per bit and mm (full-swing wire, 310 fJ/bit/mm at 130 nm 1.2 V, scaled)").unit("pJ").range(0, inf));
  v.field("leakage_mw_per_mm2", c.leakage_mw_per_mm2, app::Doc("static power per chip area, kept across nodes [assumption] (CiMLoop's model of Jia et al.: 6.66 uW over 15535 um^2 at 65 nm)").unit("mW/mm^2").range(0, inf));
}

// The chip around a macro, for the cost model (docs/cost.md). The macro's own spec is analog_sram.
template <class V>
void describe(V& v, Hardware& c) {
  const double inf = std::numeric_limits<double>::infinity();
  v.field("technology_node_nm", c.technology.node_nm, app::Doc("technology node of the chip").unit("nm").above(0));
  v.field("vdd_v", c.technology.vdd_v, app::Doc("supply voltage of the chip").unit("V").above(0));
  v.field("clock_mhz", c.clock_mhz, app::Doc("clock: one array activation per cycle, conversions take whole cycles").unit("MHz").above(0));
  v.field("array_rows", c.array_rows, app::Doc("bit-cell rows of one macro's array (>= analog_sram.rows_per_conversion)").unit("rows").range(1, 1 << 20));
  v.field("array_columns", c.array_columns, app::Doc("bit-cell columns of one macro's array (one per weight bit of an output column)").unit("columns").range(1, 1 << 20));
  v.field("columns_per_adc", c.columns_per_adc, app::Doc("physical columns sharing one ADC, converted one after another").unit("columns").range(1, 1 << 20));
  v.field("tiles", c.tiles, app::Doc("tiles of the chip").range(1, 1 << 20));
  v.field("macros_per_tile", c.macros_per_tile, app::Doc("macros of a tile").range(1, 1 << 20));
  v.field("tile_buffer_kib", c.tile_buffer_kib, app::Doc("SRAM buffer of each tile").unit("KiB").range(0, inf));
  v.field("global_buffer_kib", c.global_buffer_kib, app::Doc("global SRAM buffer").unit("KiB").range(0, inf));
  v.field("output_bits", c.output_bits, app::Doc("bits of each layer output written back to the buffer").unit("bits").range(1, 64));
  v.field("interconnect_mm", c.interconnect_mm, app::Doc("mean distance data moves between a buffer and a macro").unit("mm").range(0, inf));
  v.section("components", c.components, app::Doc("per-event energy and per-instance area of the components"));
}
}  // namespace bitline::core::cost

namespace bitline::app {

struct MacroConfig {
  std::string name = "analog";
  std::string type = "analog_sram";
  AnalogSramConfig analog_sram;
  std::vector<MacroOverride> layer_overrides;
  core::cost::Hardware hardware;
};
template <class V>
void describe(V& v, MacroConfig& c) {
  v.field("name", c.name, Doc("name that evaluation runs refer to"));
  v.field("type", c.type, Doc("macro model").choices({"analog_sram"}));
  v.section("analog_sram", c.analog_sram, Doc("analog SRAM CiM macro (docs/macros/analog_sram.md)"));
  v.section_list("layer_overrides", c.layer_overrides, Doc("per-layer macro settings, later entries win"));
  v.section("hardware", c.hardware, Doc("the chip around the macro, for energy, latency and area (docs/cost.md)"));
}

struct EvaluationRun {
  std::string name = "w8a8";
  std::string mode = "quantized";
  std::optional<std::string> macro;
};
template <class V>
void describe(V& v, EvaluationRun& c) {
  v.field("name", c.name, Doc("row name in the results table"));
  v.field("mode", c.mode,
          Doc("float: fp32 model; quantized: integer reference of the QAT model; simulate: the QAT model on a macro")
              .choices({"float", "quantized", "simulate"}));
  v.field("macro", c.macro, Doc("simulate: name of an entry of `macros`; null otherwise"));
}

struct EvaluationConfig {
  int64_t batch_size = 500;
  std::vector<EvaluationRun> runs = {{"fp32", "float", std::nullopt}, {"w8a8", "quantized", std::nullopt}};
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
}

struct LayerCommandConfig {
  SingleLayerConfig layer;
  LayerQuantizationConfig quantization;
  AnalogSramConfig macro;
};
template <class V>
void describe(V& v, LayerCommandConfig& c) {
  v.section("layer", c.layer, Doc("the layer"));
  v.section("quantization", c.quantization,
            Doc("operand quantization; static ranges are calibrated on the given input itself"));
  v.section("macro", c.macro, Doc("analog SRAM macro of simulate mode (docs/macros/analog_sram.md)"));
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
// `key` names the analog_sram section in errors (its ADC tables are read here).
core::analog_sram::Spec to_core_spec(const AnalogSramConfig& config, const std::string& key = "analog_sram");
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
// The config as YAML text (all keys, current values).
std::string to_yaml(const Config& config);
// Documented YAML of the built-in defaults: `bitline config --defaults`.
std::string documented_defaults();

// Hashes that decide whether a cached checkpoint can be reused: the fp32 stage depends on seed,
// data, model and fp32 training; the QAT stage on that plus quantization and QAT training.
std::string float_stage_hash(const Config& config);
std::string qat_stage_hash(const Config& config);

// The quantization spec of one layer in a given mode, after the overrides; `macro` is required in
// simulate mode.
nn::LayerQuantSpec layer_spec(const QuantizationConfig& config, const std::string& layer_name, nn::LayerMode mode,
                              const MacroConfig* macro = nullptr);
// The analog SRAM macro of one layer: the macro's settings with its matching layer overrides.
core::analog_sram::Spec analog_sram_spec(const MacroConfig& macro, const std::string& layer_name);
// The macro's keys for one layer, its layer_overrides applied.
AnalogSramConfig analog_sram_config(const MacroConfig& macro, const std::string& layer_name);
// The macro named `name`; InputError naming `key` when there is none.
const MacroConfig& find_macro(const Config& config, const std::string& name, const std::string& key);
// Checks that every layer-override pattern (quantization and macros) matches one of `layer_names`.
void check_override_patterns(const Config& config, const std::vector<std::string>& layer_names);
nn::LayerMode parse_mode(const std::string& mode);

}  // namespace bitline::app
