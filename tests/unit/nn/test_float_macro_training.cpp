// Training on a floating-point PIM engine that updates its weights in place (sot_mram_fp): the
// training loop leaves those weights to the macro, which keeps them values of its format, and the
// other parameters to the optimizer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <unistd.h>

#include "core/sot_mram/fp_format.h"
#include "core/sot_mram/macro.h"
#include "io/image_set.h"
#include "nn/data.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/train.h"

namespace bitline::nn {
namespace {

// 40 synthetic 1x8x8 images whose class sets the brightness.
ImageDataset synthetic_dataset() {
  io::ImageSet set;
  set.count = 40;
  set.channels = 1;
  set.height = set.width = 8;
  for (int64_t i = 0; i < set.count; ++i) {
    const auto label = static_cast<uint8_t>(i % 10);
    set.labels.push_back(label);
    for (int p = 0; p < 64; ++p) set.pixels.push_back(static_cast<uint8_t>(label * 25 + (p * 7 + i) % 5));
  }
  return ImageDataset(set, {0.5f}, {0.25f});
}

std::shared_ptr<Model> mlp_on_engine(const core::sot_mram::Spec& engine) {
  torch::manual_seed(0);
  ModelSpec spec;
  spec.name = "mlp";
  spec.image_size = 8;
  spec.mlp_hidden_sizes = {16};
  auto model = build_model(spec);
  const auto macro = std::make_shared<core::sot_mram::SotMramFpSpec>(engine);
  for (auto& [name, layer] : quant_layers(*model)) {
    auto layer_spec = layer->spec();
    layer_spec.mode = LayerMode::Simulate;
    layer_spec.macro = macro;
    layer->set_spec(layer_spec);
  }
  return model;
}

StageOptions options_for(const std::string& name) {
  StageOptions options;
  options.stage = "qat";
  options.epochs = 2;
  options.batch_size = 8;
  options.seed = 5;
  options.optimizer.learning_rate = 0.1;
  options.checkpoint_path = std::filesystem::temp_directory_path() /
                            ("bitline_float_macro_" + std::to_string(getpid()) + "_" + name + ".ckpt");
  options.config_hash = "hash";
  std::filesystem::remove(options.checkpoint_path);
  return options;
}

TEST(FloatMacroTraining, TheMacroUpdatesItsWeightsInItsFormatAndTheOptimizerTheRest) {
  torch::set_num_threads(1);
  core::sot_mram::Spec engine;  // bf16, truncation, all products and the update
  auto model = mlp_on_engine(engine);
  std::vector<torch::Tensor> initial;
  for (const auto& parameter : model->parameters()) initial.push_back(parameter.detach().clone());
  const auto result = train_stage(*model, synthetic_dataset(), options_for("update"));
  EXPECT_LT(result.info.history.back().train_loss, result.info.history.front().train_loss);
  for (auto& [name, layer] : quant_layers(*model)) {
    ASSERT_TRUE(layer->updates_weight_on_macro()) << name;
    const auto weight = layer->stored_weight().contiguous();
    const float* values = weight.data_ptr<float>();
    for (int64_t i = 0; i < weight.numel(); ++i) {
      ASSERT_EQ(core::sot_mram::to_format(values[i], engine.engine.format), values[i]) << name << " weight " << i;
    }
  }
  const auto parameters = model->parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    EXPECT_FALSE(torch::equal(parameters[i], initial[i])) << "parameter " << i << " did not train";
  }
}

TEST(FloatMacroTraining, OneUpdateIsTheFormatsMultiplyAndAdd) {
  core::sot_mram::Spec engine;
  engine.engine.rounding = core::Rounding::NearestEven;
  auto model = mlp_on_engine(engine);
  auto layer = quant_layers(*model).front().second;
  auto weight = layer->stored_weight();
  const auto before = weight.detach().clone();
  weight.mutable_grad() = torch::randn_like(weight);
  layer->update_weight_on_macro(0.05);
  const auto& format = engine.engine.format;
  const float step = core::sot_mram::to_format(-0.05f, format);
  const auto w0 = before.contiguous(), g = weight.grad().contiguous(), w1 = weight.detach().contiguous();
  for (int64_t i = 0; i < w0.numel(); ++i) {
    const float change = core::sot_mram::multiply(step, core::sot_mram::to_format(g.data_ptr<float>()[i], format),
                                                  format, engine.engine.rounding);
    ASSERT_EQ(core::sot_mram::add(core::sot_mram::to_format(w0.data_ptr<float>()[i], format), change, format,
                                  engine.engine.rounding),
              w1.data_ptr<float>()[i]);
  }
  EXPECT_GT(layer->simulation_stats().events.total(core::EventKind::InMemoryFloatAddition), 0);
}

TEST(FloatMacroTraining, WithoutTheUpdateTheOptimizerTrainsTheWeightsInFp32) {
  torch::set_num_threads(1);
  core::sot_mram::Spec engine;
  engine.training.weight_update = false;
  auto model = mlp_on_engine(engine);
  train_stage(*model, synthetic_dataset(), options_for("no_update"));
  bool any_off_format = false;
  for (auto& [name, layer] : quant_layers(*model)) {
    EXPECT_FALSE(layer->updates_weight_on_macro()) << name;
    const auto weight = layer->stored_weight().contiguous();
    for (int64_t i = 0; i < weight.numel(); ++i) {
      const float value = weight.data_ptr<float>()[i];
      any_off_format |= core::sot_mram::to_format(value, engine.engine.format) != value;
    }
  }
  EXPECT_TRUE(any_off_format) << "SGD with momentum in fp32 leaves values between bf16's";
}

}  // namespace
}  // namespace bitline::nn
