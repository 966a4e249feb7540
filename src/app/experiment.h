#pragma once
// Experiment orchestration: from a config to trained checkpoints to evaluated results.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/training_cost_report.h"
#include "core/cost/cost_model.h"
#include "core/events.h"
#include "nn/data.h"
#include "nn/model.h"
#include "nn/train.h"

namespace bitline::app {

nn::DataOptions data_options(const DataConfig& config);
struct InputShape {
  int64_t channels, image_size;
};
// Image shape of the configured dataset: 1x28x28 (Fashion-MNIST) or 3x32x32 (CIFAR-10).
InputShape input_shape(const DataConfig& config);
nn::ModelSpec model_spec(const ModelConfig& config, InputShape shape);
// Builds the model and checks that every layer-override pattern matches one of its layers.
std::shared_ptr<nn::Model> build_configured_model(const Config& config);
// Sets every quantizable layer's spec for an evaluation or training mode (overrides applied);
// `macro` is required in simulate mode; `nat_sigma` is the noise-aware training noise.
void apply_mode(nn::Model& model, const Config& config, nn::LayerMode mode, const MacroConfig* macro = nullptr,
                double nat_sigma = 0.0);
// ADC-aware training (train.qat.adc_aware): for a simulate-mode stage, removes the macro's
// per-column variation (variation_sampling: none), or returns the per-batch hook that draws the
// chip instance, CCO corner and supply of each batch from (seed, epoch, batch). Empty when there
// is nothing to draw.
std::function<void(int64_t, int64_t)> adc_aware_sampler(nn::Model& model, const Config& config,
                                                        const StageConfig& stage, const MacroConfig* macro);

struct StageSummary {
  std::string stage;  // "float" or "qat"
  std::filesystem::path checkpoint;
  std::string config_hash;
  bool reused = false;                // a complete cached checkpoint matched the config
  int64_t resumed_after_epoch = 0;    // an unfinished one was continued
  nn::CheckpointInfo info;
  std::string weights_digest;
};

struct PairingTable;

struct TrainingSummary {
  std::optional<StageSummary> float_stage, qat_stage, fcc_penalty_stage, fcc_stage;
  // FCC (train.fcc): the pairing and the stage it was made from (qat, else float), when the FCC
  // stage trains or an evaluation runs the paired weights.
  std::shared_ptr<const PairingTable> pairing;
  std::optional<StageSummary> pairing_source;
};

// experiment.checkpoint_dir, or <run_dir>/checkpoints when it is empty.
std::filesystem::path checkpoint_dir(const Config& config);
// What bitline writes into a run directory and a checkpoint directory (io::prepare_output_directory):
// an existing directory holding anything else is refused. "*.tmp-*": a killed writer's temporary file.
inline const std::vector<std::string> kRunDirectoryEntries = {"results.json", "results.csv", "config.yaml", "checkpoints",
                                                              "cost_*.json",  "cost_*.csv",  "chip_comparison_*.json",
                                                              "chip_comparison_*.csv", "training_*.json", "*.tmp-*"};
inline const std::vector<std::string> kCheckpointDirectoryEntries = {
    "float-*.ckpt", "qat-*.ckpt", "fcc_penalty-*.ckpt", "fcc-*.ckpt", "pairing-*.json", "*.ckpt.lock", "*.tmp-*"};
std::filesystem::path checkpoint_path(const Config& config, const std::string& stage, const std::string& hash);

struct RunOptions {
  bool show_progress = true;
  bool train_if_needed = true;  // false (bitline eval): a missing or stale checkpoint is an error
};

// Trains each stage with epochs > 0, reusing complete checkpoints whose config hash matches and
// resuming unfinished ones.
TrainingSummary train_or_reuse(const Config& config, const nn::Datasets& data, const RunOptions& options);

// One layer of a simulate-mode evaluation.
struct LayerSimulation {
  std::string layer;
  double csnr_db = 0;  // +inf when exact
  core::Events events;
  std::string readout;                      // how the macro reads out (MacroSpec::readout), e.g. the ADC
  double adc_energy_per_conversion_pj = 0;  // the ADC model's own mean over uniform inputs; 0: none
};

struct EvaluationRow {
  EvaluationRun run;
  std::string model_stage;  // checkpoint the weights came from
  nn::EvalResult result;
  std::vector<LayerSimulation> layers;  // simulate mode only
  core::Events events;                  // sum over layers
  std::optional<core::cost::NetworkCost> cost;  // simulate mode: the model on the macro's chip (docs/cost.md)
  std::string operand_format;  // simulate mode on a floating-point macro: its format, e.g. "bf16"
  // simulate mode on a floating-point PIM engine (sot_mram_fp): one training iteration on it and on
  // the FloatPIM-style baseline
  std::optional<TrainingCostComparison> training_cost;
};

std::vector<EvaluationRow> evaluate_runs(const Config& config, const nn::Datasets& data,
                                         const TrainingSummary& training, const RunOptions& options);

}  // namespace bitline::app
