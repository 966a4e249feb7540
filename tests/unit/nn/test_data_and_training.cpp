#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/checked_file.h"
#include "io/tensor_archive.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/model.h"
#include "nn/quant_layers.h"
#include "nn/train.h"

namespace bitline::nn {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// 40 synthetic 1x8x8 images whose class sets the brightness: learnable in a few steps.
ImageDataset synthetic_dataset(int64_t count = 40) {
  io::ImageSet set;
  set.count = count;
  set.channels = 1;
  set.height = set.width = 8;
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<uint8_t>(i % 10);
    set.labels.push_back(label);
    for (int p = 0; p < 64; ++p) set.pixels.push_back(static_cast<uint8_t>(label * 25 + (p * 7 + i) % 5));
  }
  return ImageDataset(set, {0.5f}, {0.25f});
}

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("bitline_nn_tests_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::shared_ptr<Model> small_mlp(uint64_t seed = 0) {
  torch::manual_seed(seed);
  ModelSpec spec;
  spec.name = "mlp";
  spec.image_size = 8;
  spec.mlp_hidden_sizes = {16};
  return build_model(spec);
}

TEST(EpochOrder, IsADeterministicPermutationThatChangesEachEpoch) {
  const auto a = epoch_order(1000, 7, 1);
  EXPECT_EQ(a, epoch_order(1000, 7, 1));
  EXPECT_NE(a, epoch_order(1000, 7, 2));
  EXPECT_NE(a, epoch_order(1000, 8, 1));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<std::size_t>(i)], i);
}

TEST(ImageDataset, NormalizesWithMeanAndStd) {
  const auto data = synthetic_dataset();
  const auto batch = data.range(3, 4);  // label 3: pixels 75..79
  const float first = batch.images[0][0][0][0].item<float>();
  EXPECT_NEAR(first, (75.0f / 255.0f + 0.0f - 0.5f) / 0.25f, 0.1f);
  EXPECT_EQ(batch.labels[0].item<int64_t>(), 3);
}

TEST(ImageDataset, AugmentationDependsOnlyOnSeedEpochAndIndex) {
  const auto data = synthetic_dataset();
  const AugmentOptions augment{2, true};
  const auto alone = data.batch({5}, &augment, 11, 3).images[0];
  const auto in_batch = data.batch({9, 5, 1}, &augment, 11, 3).images[1];
  EXPECT_TRUE(alone.equal(in_batch));
  const auto plain = data.batch({5}).images[0];
  bool any_epoch_differs = false;
  for (int64_t epoch = 0; epoch < 8; ++epoch) {
    any_epoch_differs = any_epoch_differs || !data.batch({5}, &augment, 11, epoch).images[0].equal(plain);
  }
  EXPECT_TRUE(any_epoch_differs);
}

TEST(LearningRate, SchedulesFollowTheirFormulas) {
  OptimizerOptions options;
  options.learning_rate = 0.1;
  options.schedule = "cosine";
  EXPECT_DOUBLE_EQ(learning_rate_at(options, 0, 100), 0.1);
  EXPECT_NEAR(learning_rate_at(options, 50, 100), 0.05, 1e-12);
  options.schedule = "multistep";
  options.milestones = {0.5, 0.75};
  options.gamma = 0.1;
  EXPECT_DOUBLE_EQ(learning_rate_at(options, 49, 100), 0.1);
  EXPECT_NEAR(learning_rate_at(options, 50, 100), 0.01, 1e-12);
  EXPECT_NEAR(learning_rate_at(options, 80, 100), 0.001, 1e-12);
  options.schedule = "constant";
  EXPECT_DOUBLE_EQ(learning_rate_at(options, 99, 100), 0.1);
}

StageOptions stage_options(const std::filesystem::path& checkpoint, int64_t epochs) {
  StageOptions options;
  options.stage = "float";
  options.epochs = epochs;
  options.batch_size = 8;
  options.seed = 5;
  options.optimizer.learning_rate = 0.1;
  options.checkpoint_path = checkpoint;
  options.config_hash = "hash";
  std::filesystem::remove(checkpoint);
  return options;
}

TEST(TrainStage, SameSeedGivesTheSameWeights) {
  torch::set_num_threads(1);
  const auto data = synthetic_dataset();
  auto a = small_mlp(), b = small_mlp();
  train_stage(*a, data, stage_options(temp_path("a.ckpt"), 2));
  train_stage(*b, data, stage_options(temp_path("b.ckpt"), 2));
  EXPECT_EQ(weights_digest(*a), weights_digest(*b));
  EXPECT_NE(weights_digest(*a), weights_digest(*small_mlp()));
}

TEST(TrainStage, ResumesFromAnUnfinishedCheckpointToTheSameWeights) {
  torch::set_num_threads(1);
  const auto data = synthetic_dataset();
  auto straight = small_mlp();
  train_stage(*straight, data, stage_options(temp_path("straight.ckpt"), 3));

  // Interrupt a 3-epoch run as epoch 2 starts: its checkpoint then holds epoch 1 of 3.
  const auto path = temp_path("resumed.ckpt");
  struct Interrupted {};
  auto interrupted = small_mlp();
  auto options = stage_options(path, 3);
  options.progress = [](int64_t epoch, int64_t) -> ProgressCallback {
    if (epoch == 2) throw Interrupted{};
    return {};
  };
  EXPECT_THROW(train_stage(*interrupted, data, options), Interrupted);
  ASSERT_EQ(read_checkpoint_info(path)->epochs_done, 1);

  options.progress = {};
  auto resumed = small_mlp(99);  // other initial weights: the checkpoint must overwrite them all
  const auto result = train_stage(*resumed, data, options);
  EXPECT_EQ(result.resumed_after_epoch, 1);
  EXPECT_EQ(result.info.history.size(), 3u);
  EXPECT_EQ(weights_digest(*resumed), weights_digest(*straight));
}

TEST(Checkpoint, RoundTripsWeightsObserversAndInfo) {
  const auto data = synthetic_dataset();
  auto model = small_mlp();
  train_stage(*model, data, stage_options(temp_path("round.ckpt"), 1));
  auto restored = small_mlp(42);
  const auto info = load_checkpoint(temp_path("round.ckpt"), *restored);
  EXPECT_EQ(weights_digest(*restored), weights_digest(*model));
  EXPECT_EQ(info.stage, "float");
  EXPECT_EQ(info.config_hash, "hash");
  EXPECT_TRUE(info.complete());
  ASSERT_EQ(info.history.size(), 1u);
  EXPECT_EQ(info.history[0].epoch, 1);
}

TEST(Checkpoint, CorruptOrTruncatedFilesAreInputErrorsNamingTheFile) {
  const auto data = synthetic_dataset();
  auto model = small_mlp();
  const auto good = temp_path("good.ckpt");
  train_stage(*model, data, stage_options(good, 1));

  const auto truncated = temp_path("truncated.ckpt");
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const auto garbage = temp_path("garbage.ckpt");
  std::ofstream(garbage) << "not a checkpoint";
  for (const auto& path : {truncated, garbage}) {
    try {
      load_checkpoint(path, *model);
      FAIL() << "expected InputError for " << path;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(path.string()));
    }
    EXPECT_THROW(read_checkpoint_info(path), InputError);
  }
  EXPECT_FALSE(read_checkpoint_info(temp_path("absent.ckpt")).has_value());
  EXPECT_THROW(load_checkpoint(temp_path("absent.ckpt"), *model), InputError);
}

// The message of the InputError that loading `path` into a fresh small_mlp throws ("" if none).
std::string load_error(const std::filesystem::path& path) {
  auto model = small_mlp(5);
  try {
    load_checkpoint(path, *model);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

CheckpointInfo one_epoch_info() {
  CheckpointInfo info;
  info.stage = "float";
  info.config_hash = "hash";
  info.epochs_done = info.epochs_total = 1;
  info.history = {{1, 0.5, 0.8, 1.0, 0.05}};
  return info;
}

TEST(Checkpoint, ABitFlipAnywhereIsCaughtByTheChecksum) {
  const auto path = temp_path("flip.ckpt");
  auto model = small_mlp();
  save_checkpoint(path, *model, nullptr, one_epoch_info());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // A weight value's bit: flip one byte in the last tenth, where the archive keeps tensor data.
  bytes[bytes.size() - bytes.size() / 10] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THAT(load_error(path), AllOf(HasSubstr(path.string()), HasSubstr("corrupt checkpoint")));
  EXPECT_THROW(read_checkpoint_info(path), InputError);
}

TEST(Checkpoint, InconsistentContentsWithAValidChecksumAreRefused) {
  auto model = small_mlp();
  // More epochs done than planned.
  auto info = one_epoch_info();
  info.epochs_done = 255;
  const auto epochs = temp_path("epochs.ckpt");
  save_checkpoint(epochs, *model, nullptr, info);
  EXPECT_THAT(load_error(epochs), HasSubstr("expected 0 <= epochs_done <= epochs_total and epochs_total >= 1, found 255 of 1"));
  // A history that disagrees with the epochs done.
  info = one_epoch_info();
  info.history.push_back({2, 0.4, 0.9, 1.0, 0.01});
  const auto history = temp_path("history.ckpt");
  save_checkpoint(history, *model, nullptr, info);
  EXPECT_THAT(load_error(history), HasSubstr("expected one history row per finished epoch (1), found 2 rows"));
  // NaN and zeroed weights.
  auto nan_model = small_mlp();
  {
    torch::NoGradGuard no_grad;
    nan_model->parameters()[0].view(-1)[3] = std::nanf("");
  }
  const auto nan = temp_path("nan.ckpt");
  save_checkpoint(nan, *nan_model, nullptr, one_epoch_info());
  EXPECT_THAT(load_error(nan), HasSubstr("holds NaN or infinite values"));
  auto zero_model = small_mlp();
  {
    torch::NoGradGuard no_grad;
    zero_model->parameters()[0].zero_();
  }
  const auto zero = temp_path("zero.ckpt");
  save_checkpoint(zero, *zero_model, nullptr, one_epoch_info());
  EXPECT_THAT(load_error(zero), HasSubstr("is all zeros"));
}

// A checkpoint's archive bytes (what follows its checked-file header).
std::string archive_of(const std::filesystem::path& path) {
  return io::read_checked_file(path, {"checkpoint", 2});
}

TEST(Checkpoint, EntriesTheModelDoesNotHaveAreRefused) {
  const auto path = temp_path("extra.ckpt");
  auto model = small_mlp();
  save_checkpoint(path, *model, nullptr, one_epoch_info());
  auto archive = io::parse_tensor_archive(archive_of(path), path);
  archive.tensors["parameters/extra.weight"] = archive.tensors.begin()->second;
  auto restored = small_mlp(3);
  const std::string before = weights_digest(*restored);
  try {
    restore_checkpoint(io::serialize_tensor_archive(archive), "extra.ckpt", *restored);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("holds 'parameters/extra.weight', which the configured model lacks"));
  }
  archive.tensors.erase("parameters/extra.weight");
  archive.tensors["optimizer/999/momentum_buffer"] = archive.tensors.begin()->second;
  EXPECT_THROW(restore_checkpoint(io::serialize_tensor_archive(archive), "odd.ckpt", *restored), InputError);
  EXPECT_EQ(weights_digest(*restored), before);  // a refused file changes nothing
}

TEST(Checkpoint, AdamAndSgdStateRoundTrip) {
  const auto data = synthetic_dataset();
  for (const char* kind : {"sgd", "adam"}) {
    auto model = small_mlp();
    auto options = stage_options(temp_path(std::string(kind) + ".ckpt"), 1);
    options.optimizer.kind = kind;
    train_stage(*model, data, options);
    auto restored = small_mlp(1);
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    if (std::string(kind) == "adam") {
      optimizer = std::make_unique<torch::optim::Adam>(restored->parameters(), torch::optim::AdamOptions(0.01));
    } else {
      optimizer = std::make_unique<torch::optim::SGD>(restored->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    }
    load_checkpoint(options.checkpoint_path, *restored, optimizer.get());
    EXPECT_EQ(optimizer->state().size(), restored->parameters().size()) << kind;
    // Restoring into the other optimizer is refused.
    auto other = small_mlp(1);
    torch::optim::SGD sgd(other->parameters(), torch::optim::SGDOptions(0.01));
    torch::optim::Adam adam(other->parameters(), torch::optim::AdamOptions(0.01));
    torch::optim::Optimizer* wrong = std::string(kind) == "adam" ? static_cast<torch::optim::Optimizer*>(&sgd) : &adam;
    try {
      load_checkpoint(options.checkpoint_path, *other, wrong);
      FAIL() << "expected an InputError";
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(fmt::format("it holds {} optimizer state", kind)));
    }
  }
}

TEST(Checkpoint, ModelOfAnotherShapeIsRejected) {
  const auto path = temp_path("shape.ckpt");
  auto model = small_mlp();
  train_stage(*model, synthetic_dataset(), stage_options(path, 1));
  torch::manual_seed(0);
  ModelSpec other;
  other.name = "mlp";
  other.image_size = 8;
  other.mlp_hidden_sizes = {32};
  auto different = build_model(other);
  EXPECT_THROW(load_checkpoint(path, *different), InputError);
}

TEST(Evaluate, AccuracyDoesNotDependOnBatchSize) {
  torch::set_num_threads(1);
  const auto data = synthetic_dataset();
  auto model = small_mlp();
  train_stage(*model, data, stage_options(temp_path("eval.ckpt"), 2));
  for (auto& [name, layer] : quant_layers(*model)) {
    auto spec = layer->spec();
    spec.mode = LayerMode::Quantized;
    layer->set_spec(spec);
  }
  const auto a = evaluate(*model, data, 7);
  const auto b = evaluate(*model, data, 40);
  EXPECT_EQ(a.accuracy, b.accuracy);
  EXPECT_NEAR(a.loss, b.loss, 1e-5);
  EXPECT_EQ(a.images, 40);
}

TEST(Calibrate, SetsRangesFromTrainingBatches) {
  const auto data = synthetic_dataset();
  auto model = small_mlp();
  calibrate(*model, data, 2, 8);
  for (const auto& buffer : model->named_buffers()) {
    if (buffer.key().find("batches_seen") != std::string::npos) {
      EXPECT_EQ(buffer.value().item<int64_t>(), 2);
    }
  }
  for (auto& [name, layer] : quant_layers(*model)) EXPECT_EQ(layer->spec().mode, LayerMode::Float);
}

}  // namespace
}  // namespace bitline::nn
