#pragma once
// Training checkpoints: model parameters and buffers (quantization observers included), optimizer
// state, progress and the config they came from. Written atomically: a killed process leaves
// either the previous checkpoint or the new one, never a partial file.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bitline::nn {

struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0, seconds = 0, learning_rate = 0;
};

struct CheckpointInfo {
  std::string stage;         // "float" or "qat"
  std::string config_hash;   // the stage hash of the config that produced it
  std::string config_yaml;   // the full config, for provenance
  int64_t epochs_done = 0;
  int64_t epochs_total = 0;
  std::vector<EpochRecord> history;
  bool complete() const { return epochs_done >= epochs_total; }
};

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info);
// Metadata only; std::nullopt when the file does not exist; InputError when it is not a readable
// bitline checkpoint.
std::optional<CheckpointInfo> read_checkpoint_info(const std::filesystem::path& path);
// Restores model (and optimizer state when given); InputError naming the file on any mismatch.
CheckpointInfo load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer = nullptr);

// FNV-1a digest of every parameter and buffer, to compare trained weights across runs.
std::string weights_digest(torch::nn::Module& model);

}  // namespace bitline::nn
