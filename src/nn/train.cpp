#include "nn/train.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "nn/quant_layers.h"

namespace bitline::nn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& parameters,
                                                        const OptimizerOptions& options) {
  if (options.kind == "adam") {
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(options.learning_rate).weight_decay(options.weight_decay));
  }
  return std::make_unique<torch::optim::SGD>(
      parameters,
      torch::optim::SGDOptions(options.learning_rate).momentum(options.momentum).weight_decay(options.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double rate) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(rate);
}

int64_t batches_per_epoch(int64_t samples, int64_t batch_size) { return (samples + batch_size - 1) / batch_size; }

}  // namespace

std::vector<std::shared_ptr<QuantLayer>> layers_updated_on_macro(Model& model) {
  std::vector<std::shared_ptr<QuantLayer>> layers;
  for (auto& [name, layer] : quant_layers(model)) {
    if (layer->updates_weight_on_macro()) layers.push_back(layer);
  }
  return layers;
}

std::vector<torch::Tensor> optimizer_parameters(Model& model,
                                                const std::vector<std::shared_ptr<QuantLayer>>& updated_on_macro) {
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : model.parameters()) {
    const bool on_macro = std::any_of(updated_on_macro.begin(), updated_on_macro.end(), [&](const auto& layer) {
      return layer->stored_weight().is_same(parameter);
    });
    if (!on_macro) parameters.push_back(parameter);
  }
  return parameters;
}

double learning_rate_at(const OptimizerOptions& options, int64_t step, int64_t total_steps) {
  const double progress = total_steps > 0 ? static_cast<double>(step) / static_cast<double>(total_steps) : 0.0;
  if (options.schedule == "cosine") return options.learning_rate * 0.5 * (1.0 + std::cos(M_PI * progress));
  if (options.schedule == "multistep") {
    double rate = options.learning_rate;
    for (double milestone : options.milestones) {
      if (progress >= milestone) rate *= options.gamma;
    }
    return rate;
  }
  return options.learning_rate;
}

StageResult train_stage(Model& model, const ImageDataset& train_set, const StageOptions& options) {
  const auto updated_on_macro = layers_updated_on_macro(model);  // plain SGD in the macro's format, in place
  auto optimizer = make_optimizer(optimizer_parameters(model, updated_on_macro), options.optimizer);
  StageResult result;
  result.info.stage = options.stage;
  result.info.config_hash = options.config_hash;
  result.info.config_yaml = options.config_yaml;
  result.info.epochs_total = options.epochs;

  if (auto existing = read_checkpoint_info(options.checkpoint_path);
      existing && existing->stage == options.stage && existing->config_hash == options.config_hash &&
      existing->epochs_total == options.epochs) {
    result.info = load_checkpoint(options.checkpoint_path, model, optimizer.get());
    result.resumed_after_epoch = result.info.epochs_done;
  }

  const int64_t epoch_samples = options.samples_per_epoch > 0 ? std::min(options.samples_per_epoch, train_set.size())
                                                              : train_set.size();
  const int64_t batches = batches_per_epoch(epoch_samples, options.batch_size);
  const int64_t total_steps = batches * options.epochs;
  for (int64_t epoch = result.info.epochs_done + 1; epoch <= options.epochs; ++epoch) {
    model.train();
    set_observer_phase(model, ObserverPhase::Track);
    const auto start = Clock::now();
    const auto order = epoch_order(train_set.size(), options.seed, epoch);
    ProgressCallback progress = options.progress ? options.progress(epoch, batches) : ProgressCallback{};
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    double rate = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const auto first = order.begin() + b * options.batch_size;
      const auto last = order.begin() + std::min<int64_t>((b + 1) * options.batch_size, epoch_samples);
      const Batch batch = train_set.batch(std::vector<int64_t>(first, last), &options.augment, options.seed, epoch);
      // Simulation noise of training steps: its own stream per epoch and step.
      set_first_sample((static_cast<uint64_t>(epoch) << 40) + static_cast<uint64_t>(b * options.batch_size));
      if (options.before_batch) options.before_batch(epoch, b);
      rate = learning_rate_at(options.optimizer, (epoch - 1) * batches + b, total_steps);
      set_learning_rate(*optimizer, rate);
      model.zero_grad();  // the optimizer's parameters and the weights updated on macros
      auto logits = model.forward(batch.images);
      auto loss = torch::nn::functional::cross_entropy(logits, batch.labels);
      // The reported loss stays the task's; the regularizer only shapes the gradient.
      auto objective = options.regularizer ? loss + options.regularizer() : loss;
      objective.backward();
      optimizer->step();
      for (auto& layer : updated_on_macro) layer->update_weight_on_macro(rate);
      const int64_t n = batch.labels.size(0);
      const double batch_loss = loss.item<double>();
      if (!std::isfinite(batch_loss)) {
        throw TrainingDiverged(fmt::format("training diverged in stage {}, epoch {}, batch {} of {}: the loss is {}; lower "
                                           "the stage's learning rate (now {:.3g}) or check the data",
                                           options.stage, epoch, b + 1, batches, std::isnan(batch_loss) ? "NaN" : "infinite",
                                           rate));
      }
      loss_sum += batch_loss * static_cast<double>(n);
      correct += logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
      seen += n;
      if (progress) progress(b + 1, batches, loss_sum / seen, static_cast<double>(correct) / seen);
    }
    result.info.history.push_back({epoch, loss_sum / seen, static_cast<double>(correct) / seen, seconds_since(start), rate});
    result.info.epochs_done = epoch;
    set_observer_phase(model, ObserverPhase::Frozen);
    save_checkpoint(options.checkpoint_path, model, optimizer.get(), result.info);
  }
  model.eval();
  set_observer_phase(model, ObserverPhase::Frozen);
  return result;
}

EvalResult evaluate(Model& model, const ImageDataset& test_set, int64_t batch_size, const ProgressCallback& progress) {
  torch::NoGradGuard no_grad;
  model.eval();
  set_observer_phase(model, ObserverPhase::Frozen);
  const auto start = Clock::now();
  const int64_t batches = batches_per_epoch(test_set.size(), batch_size);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < batches; ++b) {
    const Batch batch = test_set.range(b * batch_size, std::min<int64_t>((b + 1) * batch_size, test_set.size()));
    set_first_sample(static_cast<uint64_t>(b * batch_size));
    auto logits = model.forward(batch.images);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, batch.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
    const int64_t seen = std::min<int64_t>((b + 1) * batch_size, test_set.size());
    if (progress) progress(b + 1, batches, loss_sum / seen, static_cast<double>(correct) / seen);
  }
  EvalResult result;
  result.images = test_set.size();
  result.accuracy = static_cast<double>(correct) / static_cast<double>(result.images);
  result.loss = loss_sum / static_cast<double>(result.images);
  result.seconds = seconds_since(start);
  return result;
}

void calibrate_readouts(Model& model, const ImageDataset& train_set, int64_t batches, int64_t batch_size) {
  std::vector<std::shared_ptr<QuantLayer>> calibrating;
  for (auto& [name, layer] : quant_layers(model)) {
    if (layer->calibrates_readout()) calibrating.push_back(layer);
  }
  if (calibrating.empty()) return;
  torch::NoGradGuard no_grad;
  model.eval();
  for (auto& layer : calibrating) layer->start_readout_calibration();
  const int64_t count = std::min(batches * batch_size, train_set.size());
  for (int64_t begin = 0; begin < count; begin += batch_size) {
    model.forward(train_set.range(begin, std::min(begin + batch_size, count)).images);
  }
  for (auto& layer : calibrating) layer->finish_readout_calibration();
}

void calibrate(Model& model, const ImageDataset& train_set, int64_t batches, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  reset_observers(model);
  set_observer_phase(model, ObserverPhase::Calibrate);
  // Calibrate in float so that each layer sees the activations its predecessors would produce
  // without quantization: the usual post-training calibration.
  std::vector<std::pair<std::shared_ptr<QuantLayer>, LayerMode>> saved_modes;
  for (auto& [name, layer] : quant_layers(model)) {
    saved_modes.emplace_back(layer, layer->spec().mode);
    auto spec = layer->spec();
    spec.mode = LayerMode::Float;
    layer->set_spec(spec);
  }
  const int64_t count = std::min(batches * batch_size, train_set.size());
  for (int64_t begin = 0; begin < count; begin += batch_size) {
    model.forward(train_set.range(begin, std::min(begin + batch_size, count)).images);
  }
  for (auto& [layer, mode] : saved_modes) {
    auto spec = layer->spec();
    spec.mode = mode;
    layer->set_spec(spec);
  }
  set_observer_phase(model, ObserverPhase::Frozen);
}

}  // namespace bitline::nn
