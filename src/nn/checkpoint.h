#pragma once
// Training checkpoints: model parameters and buffers (quantization observers included), optimizer
// state, progress and the config they came from. Written atomically: a killed process leaves
// either the previous checkpoint or the new one, never a partial file.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
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
  // A checkpoint of format 1 (before checkpoints carried a checksum): nothing else is read from it,
  // and training replaces it.
  bool format_outdated = false;
  bool complete() const { return epochs_done >= epochs_total; }
};

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info);
// Checkpoints are checked files (io/checked_file.h) holding a tensor archive (io/tensor_archive.h,
// the safetensors layout), not LibTorch archives: the CRC-32 is verified, then bitline's own
// parser checks the archive's structure, then the contents are checked for consistency (epochs
// and history agree, every tensor matches the model's name, shape and dtype, values are finite, no
// weight tensor is all zeros, optimizer and generator state fit). Any failure is an InputError
// naming the file.
//
// Metadata only; std::nullopt when the file does not exist; InputError when it is not a readable
// bitline checkpoint.
std::optional<CheckpointInfo> read_checkpoint_info(const std::filesystem::path& path);
// Restores model (and optimizer state when given); InputError naming the file on any mismatch.
CheckpointInfo load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer = nullptr);
// The step of load_checkpoint after the file's checksum: restores from the tensor archive's bytes
// (`path` names them in messages). Everything is checked before model or optimizer change.
CheckpointInfo restore_checkpoint(std::string_view archive_bytes, const std::filesystem::path& path,
                                  torch::nn::Module& model, torch::optim::Optimizer* optimizer = nullptr);

// FNV-1a digest of every parameter and buffer, to compare trained weights across runs.
std::string weights_digest(torch::nn::Module& model);

}  // namespace bitline::nn
