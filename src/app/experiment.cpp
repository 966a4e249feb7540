#include "app/experiment.h"

#include "app/fcc.h"

#include "app/cost_report.h"

#include <fmt/format.h>

#include <map>

#include <torch/torch.h>

#include "app/adc_model.h"
#include "app/progress.h"
#include "core/analog_sram/macro_type.h"
#include "core/counter_hash.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/file_lock.h"
#include "nn/checkpoint.h"
#include "nn/quant_layers.h"

namespace bitline::app {
namespace {

// The knobs of a layer's analog_sram macro (callers have checked the type).
core::analog_sram::Spec analog_knobs(const nn::LayerQuantSpec& spec) {
  return dynamic_cast<const core::analog_sram::AnalogSramSpec&>(*spec.macro).spec();
}

// The mean energy per conversion of the ADC model of a layer's macro (0 when the library's figure of
// merit prices its conversions): its macro's own energy for the ADC conversions the layer recorded.
double adc_energy_per_conversion_pj(const nn::QuantLayer& layer) {
  const auto& products = layer.last_products();
  const auto& spec = layer.spec();
  const auto macro = core::macro_for_layer(*spec.macro, {products.stored_bits, spec.activation_bits, products.signed_inputs, {}});
  for (const auto& [type, count] : layer.simulation_stats().events.entries()) {
    if (type.kind != core::EventKind::AdcConversion) continue;
    if (const auto energy = macro->own_energy_pj(type)) return *energy;
  }
  return 0.0;
}

nn::OptimizerOptions optimizer_options(const TrainConfig& train, const StageConfig& stage) {
  nn::OptimizerOptions options;
  options.kind = train.optimizer;
  options.learning_rate = stage.learning_rate;
  options.momentum = train.momentum;
  options.weight_decay = train.weight_decay;
  options.schedule = train.schedule;
  options.milestones = train.milestones;
  options.gamma = train.gamma;
  return options;
}

// A fresh model with the seed's initial weights.
std::shared_ptr<nn::Model> seeded_model(const Config& config) {
  torch::manual_seed(static_cast<uint64_t>(config.experiment.seed));
  return build_configured_model(config);
}

// One progress bar per epoch, finished with the epoch's loss and accuracy.
std::function<nn::ProgressCallback(int64_t, int64_t)> epoch_progress(const std::string& stage, int64_t epochs,
                                                                     bool enabled) {
  return [=](int64_t epoch, int64_t batches) -> nn::ProgressCallback {
    auto bar = std::make_shared<ProgressBar>(fmt::format("train {} {}/{}", stage, epoch, epochs), batches, enabled);
    return [bar](int64_t done, int64_t total, double loss, double accuracy) {
      const std::string status = fmt::format("loss {:.4f}  acc {:.2f}%", loss, 100 * accuracy);
      if (done == total) bar->finish(status);
      else bar->update(done, status);
    };
  };
}

StageSummary run_stage(const Config& config, const nn::Datasets& data, const std::string& stage,
                       const StageConfig& stage_config, const std::string& hash, nn::LayerMode mode,
                       const std::optional<std::filesystem::path>& init_from, const RunOptions& options,
                       const std::function<void(nn::Model&)>& prepare = {},
                       const std::function<std::function<torch::Tensor()>(nn::Model&)>& regularizer = {}) {
  StageSummary summary;
  summary.stage = stage;
  summary.checkpoint = checkpoint_path(config, stage, hash);
  summary.config_hash = hash;
  auto model = seeded_model(config);

  // Processes that share the checkpoint directory (the points of a sweep) train each stage once:
  // the others wait here, then find the checkpoint complete and reuse it.
  std::optional<io::FileLock> training_lock;
  if (options.train_if_needed) {
    io::create_output_directory(summary.checkpoint.parent_path(), "experiment.checkpoint_dir");
    training_lock.emplace(io::FileLock::acquire(summary.checkpoint.string() + ".lock"));
  }
  const auto cached = nn::read_checkpoint_info(summary.checkpoint);
  const bool matches = cached && cached->config_hash == hash && cached->stage == stage;
  if (matches && cached->complete()) {
    summary.reused = true;
    summary.info = nn::load_checkpoint(summary.checkpoint, *model);
    summary.weights_digest = nn::weights_digest(*model);
    return summary;
  }
  if (!options.train_if_needed) {
    throw InputError(fmt::format("{}: no complete {} checkpoint for this config ({}); run `bitline train` or "
                                 "`bitline run` with the same config first",
                                 summary.checkpoint.string(), stage,
                                 !cached                   ? "file not found"
                                 : cached->format_outdated ? "it was written by an older bitline, checkpoint format 1"
                                 : matches                 ? "training is unfinished"
                                                           : "it was made by a different config"));
  }
  if (cached && !matches) {
    fmt::print(stderr, "{}: {}; retraining the {} stage\n", summary.checkpoint.string(),
               cached->format_outdated ? "written by an older bitline (checkpoint format 1, without a checksum)"
                                       : "made by a different config",
               stage);
  }
  if (init_from) nn::load_checkpoint(*init_from, *model);
  const MacroConfig* macro =
      stage_config.macro ? &find_macro(config, *stage_config.macro, "train." + stage + ".macro") : nullptr;
  apply_mode(*model, config, mode, macro, stage_config.nat_sigma_percent / 100.0);
  if (prepare) prepare(*model);
  auto before_batch = adc_aware_sampler(*model, config, stage_config, macro);

  nn::StageOptions stage_options;
  stage_options.stage = stage;
  stage_options.epochs = stage_config.epochs;
  stage_options.batch_size = config.train.batch_size;
  stage_options.seed = static_cast<uint64_t>(config.experiment.seed);
  stage_options.optimizer = optimizer_options(config.train, stage_config);
  stage_options.augment = {config.data.augment.random_crop_padding_px, config.data.augment.horizontal_flip};
  stage_options.samples_per_epoch = stage_config.samples_per_epoch.value_or(0);
  stage_options.checkpoint_path = summary.checkpoint;
  stage_options.config_hash = hash;
  stage_options.config_yaml = to_yaml(config);
  stage_options.progress = epoch_progress(stage, stage_config.epochs, options.show_progress);
  stage_options.before_batch = std::move(before_batch);
  if (regularizer) stage_options.regularizer = regularizer(*model);
  auto result = nn::train_stage(*model, data.train, stage_options);
  if (result.resumed_after_epoch > 0) {
    fmt::print(stderr, "{}: resumed the {} stage after epoch {}\n", summary.checkpoint.string(), stage,
               result.resumed_after_epoch);
  }
  summary.resumed_after_epoch = result.resumed_after_epoch;
  summary.info = result.info;
  summary.weights_digest = nn::weights_digest(*model);
  return summary;
}

}  // namespace

nn::DataOptions data_options(const DataConfig& config) {
  nn::DataOptions options;
  options.dataset = config.dataset;
  options.path = config.path;
  options.train_samples = config.train_samples;
  options.test_samples = config.test_samples;
  options.normalize = config.normalize;
  options.mean = config.mean;
  options.std = config.std;
  options.augment = {config.augment.random_crop_padding_px, config.augment.horizontal_flip};
  return options;
}

InputShape input_shape(const DataConfig& config) {
  return config.dataset == "cifar10" ? InputShape{3, 32} : InputShape{1, 28};
}

nn::ModelSpec model_spec(const ModelConfig& config, InputShape shape) {
  nn::ModelSpec spec;
  spec.name = config.name;
  spec.in_channels = shape.channels;
  spec.image_size = shape.image_size;
  spec.num_classes = 10;
  spec.width_multiplier = config.width_multiplier;
  spec.mlp_hidden_sizes = config.mlp.hidden_sizes;
  spec.resnet_depth = config.resnet.depth;
  spec.vit_patch_size = config.vit.patch_size;
  spec.vit_depth = config.vit.depth;
  spec.vit_heads = config.vit.heads;
  spec.vit_embed_dim = config.vit.embed_dim;
  spec.vit_mlp_ratio = config.vit.mlp_ratio;
  spec.vit_attention_scale = config.vit.attention_scale;
  return spec;
}

std::shared_ptr<nn::Model> build_configured_model(const Config& config) {
  auto model = nn::build_model(model_spec(config.model, input_shape(config.data)));
  std::vector<std::string> names;
  for (const auto& [name, layer] : nn::quant_layers(*model)) names.push_back(name);
  check_override_patterns(config, names);
  return model;
}

void apply_mode(nn::Model& model, const Config& config, nn::LayerMode mode, const MacroConfig* macro, double nat_sigma) {
  for (auto& [name, layer] : nn::quant_layers(model)) {
    auto spec = layer_spec(config.quantization, name, mode, macro);
    spec.nat_sigma = nat_sigma;
    layer->set_spec(spec);
  }
}

std::function<void(int64_t, int64_t)> adc_aware_sampler(nn::Model& model, const Config& config,
                                                        const StageConfig& stage, const MacroConfig* macro) {
  const auto& aware = stage.adc_aware;
  if (macro == nullptr) return {};
  struct SimulatedLayer {
    std::shared_ptr<nn::QuantLayer> layer;
    AdcConfig adc;  // this layer's ADC keys (layer_overrides applied)
    uint64_t chip_seed = 0;
    std::map<std::pair<std::string, double>, std::shared_ptr<const core::adc::Converter>> converters;
  };
  auto layers = std::make_shared<std::vector<SimulatedLayer>>();
  for (auto& [name, layer] : nn::quant_layers(model)) {
    if (layer->spec().mode != nn::LayerMode::Simulate) continue;  // kept digital by an override
    auto spec = layer->spec();
    if (aware.variation_sampling == "none") {
      auto knobs = analog_knobs(spec);  // validate_config: only analog_sram macros draw ADC variation
      knobs.variation = {};
      spec.macro = std::make_shared<core::analog_sram::AnalogSramSpec>(knobs);
    }
    spec.simulate_gradient = aware.ste == "curve_slope" ? nn::LayerQuantSpec::SimulateGradient::CurveSlope
                                                        : nn::LayerQuantSpec::SimulateGradient::Identity;
    layer->set_spec(spec);
    if (macro->type != AnalogSramType::kName) continue;
    const auto keys = macro_section<AnalogSramType>(*macro, name);
    layers->push_back({layer, keys.adc, static_cast<uint64_t>(keys.adc.variation.chip_seed), {}});
  }
  const bool per_batch = aware.variation_sampling == "per_batch";
  if (!per_batch && aware.corners.empty() && aware.vdd_v.empty()) return {};
  const auto seed = static_cast<uint64_t>(config.experiment.seed);
  // One chip runs at one corner and supply: every layer draws the same ones in a batch.
  return [layers, aware, per_batch, seed](int64_t epoch, int64_t batch) {
    const auto e = static_cast<uint64_t>(epoch), b = static_cast<uint64_t>(batch);
    auto draw = [&](std::size_t count, uint64_t salt) {
      return static_cast<std::size_t>(core::bounded(core::counter_hash(seed, e, b, salt), count));
    };
    const std::string* corner = aware.corners.empty() ? nullptr : &aware.corners[draw(aware.corners.size(), 1)];
    const double* vdd = aware.vdd_v.empty() ? nullptr : &aware.vdd_v[draw(aware.vdd_v.size(), 2)];
    for (auto& simulated : *layers) {
      auto spec = simulated.layer->spec();
      auto knobs = analog_knobs(spec);
      if (corner != nullptr || vdd != nullptr) {
        auto keys = simulated.adc;
        if (corner != nullptr) keys.cco.corner = *corner;
        if (vdd != nullptr) keys.cco.vdd_v = *vdd;
        auto& converter = simulated.converters[{keys.cco.corner, keys.cco.vdd_v}];
        if (!converter) converter = make_converter(keys, "train.qat.adc_aware");
        knobs.converter = converter;
      }
      if (per_batch) knobs.variation.chip_seed = core::counter_hash(simulated.chip_seed, e, b);
      spec.macro = std::make_shared<core::analog_sram::AnalogSramSpec>(knobs);
      simulated.layer->set_spec(spec);
    }
  };
}

std::filesystem::path checkpoint_dir(const Config& config) {
  return config.experiment.checkpoint_dir.empty() ? std::filesystem::path(config.experiment.run_dir) / "checkpoints"
                                                  : std::filesystem::path(config.experiment.checkpoint_dir);
}

std::filesystem::path checkpoint_path(const Config& config, const std::string& stage, const std::string& hash) {
  // Named by the stage's config hash, so configs that share a run directory keep their own
  // checkpoints (e.g. one fp32 model with several QAT variants).
  return checkpoint_dir(config) / (stage + "-" + hash + ".ckpt");
}

TrainingSummary train_or_reuse(const Config& config, const nn::Datasets& data, const RunOptions& options) {
  TrainingSummary summary;
  std::optional<std::filesystem::path> float_weights;
  if (config.train.float_stage.epochs > 0) {
    summary.float_stage = run_stage(config, data, "float", config.train.float_stage, float_stage_hash(config),
                                    nn::LayerMode::Float, std::nullopt, options);
    float_weights = summary.float_stage->checkpoint;
  }
  if (config.train.qat_stage.epochs > 0) {
    summary.qat_stage = run_stage(config, data, "qat", config.train.qat_stage, qat_stage_hash(config),
                                  parse_mode(config.train.qat_stage.mode), float_weights, options);
  }
  const auto& fcc = config.train.fcc_stage;
  if (pairs_filters(config)) {
    summary.pairing_source = summary.qat_stage ? summary.qat_stage : summary.float_stage;
    auto model = seeded_model(config);
    nn::load_checkpoint(summary.pairing_source->checkpoint, *model);
    summary.pairing = pairing_for(*model, config, /*verbose=*/true);
  }
  if (fcc.epochs > 0) {
    StageConfig stage = StageConfig::with(fcc.epochs, fcc.learning_rate);
    stage.samples_per_epoch = fcc.samples_per_epoch;
    const auto pairing = summary.pairing;
    std::filesystem::path start = summary.pairing_source->checkpoint;
    if (fcc.penalty_epochs > 0) {  // the pairs pulled together, untied, before the hard tie
      StageConfig penalty = StageConfig::with(fcc.penalty_epochs, fcc.learning_rate);
      penalty.samples_per_epoch = fcc.samples_per_epoch;
      summary.fcc_penalty_stage =
          run_stage(config, data, "fcc_penalty", penalty, fcc_penalty_stage_hash(config) + pairs_digest(*pairing),
                    nn::LayerMode::Quantized, start,
                    options, {}, [&](nn::Model& model) { return pair_penalty(model, *pairing, config); });
      start = summary.fcc_penalty_stage->checkpoint;
    }
    summary.fcc_stage = run_stage(config, data, "fcc", stage, fcc_stage_hash(config) + pairs_digest(*pairing),
                                  nn::LayerMode::Quantized,
                                  start, options, [&](nn::Model& model) {
                                    center_free_filters(model, *pairing, config);
                                    apply_pairing(model, *pairing);
                                  });
  }
  return summary;
}

std::vector<EvaluationRow> evaluate_runs(const Config& config, const nn::Datasets& data,
                                         const TrainingSummary& training, const RunOptions& options) {
  std::vector<EvaluationRow> rows;
  for (const auto& run : config.evaluation.runs) {
    const nn::LayerMode mode = parse_mode(run.mode);
    // fp32 evaluations use the fp32 model, quantized ones the QAT model, unless the run names its
    // weights; each falls back to the other stage when its own was not trained (post-training
    // quantization, or QAT weights in fp32; validate_config refuses a named stage that is not).
    // FCC: the fine-tuned stage, or the paired network before fine-tuning: the weights the tie
    // starts from (the penalty phase's, else the pairing's source stage) with the free filters centred.
    const bool paired = run.weights == std::optional<std::string>("paired");
    const bool fcc = run.weights == std::optional<std::string>("fcc");
    const bool prefer_float = run.weights ? *run.weights == "float" : mode == nn::LayerMode::Float;
    const auto& own = prefer_float ? training.float_stage : training.qat_stage;
    const auto& other = prefer_float ? training.qat_stage : training.float_stage;
    const auto& tie_start = training.fcc_penalty_stage ? training.fcc_penalty_stage : training.pairing_source;
    StageSummary stage = fcc ? *training.fcc_stage : paired ? *tie_start : own ? *own : *other;
    auto model = seeded_model(config);
    nn::load_checkpoint(stage.checkpoint, *model);
    if (paired) {
      center_free_filters(*model, *training.pairing, config);
      stage.stage = "paired";
    }
    const MacroConfig* macro = run.macro ? &find_macro(config, *run.macro, "evaluation run " + run.name) : nullptr;
    apply_mode(*model, config, mode, macro);
    if (paired || fcc) apply_pairing(*model, *training.pairing);
    if (mode != nn::LayerMode::Float && config.quantization.calibration == "batches") {
      nn::calibrate(*model, data.train, config.quantization.calibration_batches, config.train.batch_size);
    }
    if (mode == nn::LayerMode::Simulate) {
      nn::calibrate_readouts(*model, data.train, config.quantization.calibration_batches, config.train.batch_size);
    }
    for (auto& [name, layer] : nn::quant_layers(*model)) layer->reset_simulation_stats();
    ProgressBar bar("eval " + run.name, (data.test.size() + config.evaluation.batch_size - 1) / config.evaluation.batch_size,
                    options.show_progress);
    EvaluationRow row{run, stage.stage,
                      nn::evaluate(*model, data.test, config.evaluation.batch_size,
                                   [&](int64_t done, int64_t, double, double accuracy) {
                                     bar.update(done, fmt::format("acc {:.2f}%", 100 * accuracy));
                                   }),
                      {},
                      {},
                      {},
                      {},
                      {}};
    bar.finish(fmt::format("accuracy {:.2f}%", 100 * row.result.accuracy));
    if (mode == nn::LayerMode::Simulate) {
      for (auto& [name, layer] : nn::quant_layers(*model)) {
        const auto& stats = layer->simulation_stats();
        if (layer->spec().mode != nn::LayerMode::Simulate) continue;  // kept in fp32 by an override
        row.layers.push_back({name, stats.csnr_db(), stats.events, layer->spec().macro->readout(),
                              adc_energy_per_conversion_pj(*layer)});
        row.events += stats.events;
        if (layer->spec().macro->operand_kind() == core::OperandKind::FloatingPoint) {
          row.operand_format = layer->spec().macro->operand_format();
        }
      }
      row.cost = model_cost(*model, config, *macro);  // the products of the last batch's forward pass
      row.training_cost = training_cost_comparison(*model, config, *macro);
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace bitline::app
