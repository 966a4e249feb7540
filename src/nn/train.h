#pragma once
// Training (one stage: fp32 or QAT), evaluation and calibration loops.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/model.h"
#include "core/error.h"
#include "nn/quant_layers.h"

namespace bitline::nn {

// A training stage whose loss stopped being finite: a result of the config (a learning rate too high,
// a macro too lossy to train on), not a bug, so it is reported like bad input (exit 2), naming the
// stage, epoch, batch and loss.
class TrainingDiverged : public InputError {
 public:
  using InputError::InputError;
};

struct OptimizerOptions {
  std::string kind = "sgd";  // sgd | adam
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";  // constant | cosine | multistep
  std::vector<double> milestones = {0.6, 0.9};  // fractions of the stage
  double gamma = 0.1;
};

// The layers whose stored weights their macros update in place (QuantLayer::updates_weight_on_macro),
// and the model's parameters but those weights: what the optimizer trains. train_stage calls each
// such layer's update_weight_on_macro after the optimizer's step.
std::vector<std::shared_ptr<QuantLayer>> layers_updated_on_macro(Model& model);
std::vector<torch::Tensor> optimizer_parameters(Model& model,
                                                const std::vector<std::shared_ptr<QuantLayer>>& updated_on_macro);

// Learning rate of a step: a pure function of the step, so a resumed run needs no scheduler state.
double learning_rate_at(const OptimizerOptions& options, int64_t step, int64_t total_steps);

// Called after each batch: (batches done, batches total, running loss, running accuracy).
using ProgressCallback = std::function<void(int64_t, int64_t, double, double)>;

struct StageOptions {
  std::string stage;  // "float" or "qat"
  int64_t epochs = 1;
  int64_t batch_size = 128;
  uint64_t seed = 1;
  OptimizerOptions optimizer;
  AugmentOptions augment;
  int64_t samples_per_epoch = 0;          // first N images of each epoch's order; 0 = all
  std::filesystem::path checkpoint_path;  // rewritten after every epoch
  std::string config_hash, config_yaml;
  // Called at the start of each epoch (1-based) with that epoch's batch count.
  std::function<ProgressCallback(int64_t epoch, int64_t batches)> progress;
  // Called before each training batch (epoch 1-based, batch 0-based), e.g. to draw the macro's
  // ADC corner or chip instance for that batch; a pure function of its arguments keeps resumed
  // runs identical to uninterrupted ones.
  std::function<void(int64_t epoch, int64_t batch)> before_batch;
  // A term added to each batch's loss before backward (e.g. FCC's pair penalty); none when empty.
  std::function<torch::Tensor()> regularizer;
};

struct StageResult {
  CheckpointInfo info;
  int64_t resumed_after_epoch = 0;  // 0 when the stage started from scratch
};

// Trains `model` for the stage. If `checkpoint_path` holds an unfinished checkpoint of the same
// stage and config hash, training resumes after its last completed epoch and ends with the same
// weights an uninterrupted run would have (epoch order, augmentation and learning rates are pure
// functions of seed, epoch and step).
StageResult train_stage(Model& model, const ImageDataset& train_set, const StageOptions& options);

struct EvalResult {
  double accuracy = 0;  // fraction in [0, 1]
  double loss = 0;
  int64_t images = 0;
  double seconds = 0;
};

EvalResult evaluate(Model& model, const ImageDataset& test_set, int64_t batch_size, const ProgressCallback& progress = {});

// Calibrates the readout of every simulate-mode layer whose macro has one (the analog macro's
// calibrated ADC full scale), from its products over `batches` training batches.
void calibrate_readouts(Model& model, const ImageDataset& train_set, int64_t batches, int64_t batch_size);

// Resets the activation observers and sets their ranges from `batches` training batches (min/max
// over all of them), without augmentation.
void calibrate(Model& model, const ImageDataset& train_set, int64_t batches, int64_t batch_size);

}  // namespace bitline::nn
