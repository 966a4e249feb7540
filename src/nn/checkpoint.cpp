#include "nn/checkpoint.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>

#include "core/digest.h"
#include "core/error.h"
#include "io/checked_file.h"

namespace bitline::nn {
namespace {

// Format 2: format 1's LibTorch archive inside a checked file (a CRC-32 over the archive).
constexpr int64_t kFormatVersion = 2;
const io::CheckedFileKind kCheckpointFile{"checkpoint", kFormatVersion};
constexpr int64_t kHistoryColumns = 5;  // epoch, loss, accuracy, seconds, learning rate

void write_string(torch::serialize::OutputArchive& archive, const std::string& key, const std::string& value) {
  archive.write(key, c10::IValue(value));
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

// History as a [epochs, 5] double tensor: epoch, loss, accuracy, seconds, learning rate.
torch::Tensor history_tensor(const std::vector<EpochRecord>& history) {
  auto table = torch::zeros({static_cast<int64_t>(history.size()), kHistoryColumns}, torch::kFloat64);
  auto rows = table.accessor<double, 2>();
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& r = history[i];
    const double values[] = {static_cast<double>(r.epoch), r.train_loss, r.train_accuracy, r.seconds, r.learning_rate};
    for (int64_t j = 0; j < kHistoryColumns; ++j) rows[static_cast<int64_t>(i)][j] = values[j];
  }
  return table;
}

// True when every element that the tensor's sizes and strides reach lies inside its storage. A
// crafted archive can pair a large shape with a small storage; reading it would overrun memory.
bool within_storage(const torch::Tensor& tensor) {
  if (!tensor.has_storage() || tensor.storage_offset() < 0) return false;
  if (tensor.numel() == 0) return true;
  int64_t last = tensor.storage_offset();
  for (int64_t d = 0; d < tensor.dim(); ++d) {
    int64_t reach = 0;
    if (tensor.stride(d) < 0 || __builtin_mul_overflow(tensor.size(d) - 1, tensor.stride(d), &reach) ||
        __builtin_add_overflow(last, reach, &last)) {
      return false;
    }
  }
  int64_t bytes = 0;
  return !__builtin_mul_overflow(last + 1, static_cast<int64_t>(tensor.element_size()), &bytes) &&
         static_cast<uint64_t>(bytes) <= tensor.storage().nbytes();
}

[[noreturn]] void inconsistent(const std::filesystem::path& path, const std::string& what) {
  throw InputError(fmt::format("{}: inconsistent checkpoint: {}. Delete it to retrain.", path.string(), what));
}

std::vector<EpochRecord> history_records(const torch::Tensor& table, const std::filesystem::path& path) {
  if (table.dim() != 2 || table.size(1) != kHistoryColumns || table.scalar_type() != torch::kFloat64 ||
      !within_storage(table)) {
    inconsistent(path, fmt::format("expected the training history as a [epochs, {}] float64 tensor inside its "
                                   "storage, found a {} tensor of shape [{}]",
                                   kHistoryColumns, c10::toString(table.scalar_type()), fmt::join(table.sizes(), ", ")));
  }
  std::vector<EpochRecord> history;
  auto rows = table.accessor<double, 2>();
  for (int64_t i = 0; i < table.size(0); ++i) {
    for (int64_t j = 0; j < kHistoryColumns; ++j) {
      if (!std::isfinite(rows[i][j])) inconsistent(path, fmt::format("history row {} holds {}", i, rows[i][j]));
    }
    if (rows[i][0] != static_cast<double>(i + 1)) {
      inconsistent(path, fmt::format("expected history row {} to be epoch {}, found epoch {}", i, i + 1, rows[i][0]));
    }
    history.push_back({static_cast<int64_t>(rows[i][0]), rows[i][1], rows[i][2], rows[i][3], rows[i][4]});
  }
  return history;
}

CheckpointInfo read_info(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  const int64_t version = read_int(archive, "bitline/format_version");
  if (version != kFormatVersion) {
    throw InputError(fmt::format("{}: expected a bitline checkpoint of format version {}, found version {}",
                                 path.string(), kFormatVersion, version));
  }
  CheckpointInfo info;
  info.stage = read_string(archive, "bitline/stage");
  info.config_hash = read_string(archive, "bitline/config_hash");
  info.config_yaml = read_string(archive, "bitline/config_yaml");
  info.epochs_done = read_int(archive, "bitline/epochs_done");
  info.epochs_total = read_int(archive, "bitline/epochs_total");
  if (info.epochs_total < 1 || info.epochs_done < 0 || info.epochs_done > info.epochs_total) {
    inconsistent(path, fmt::format("expected 0 <= epochs_done <= epochs_total and epochs_total >= 1, found {} of {}",
                                   info.epochs_done, info.epochs_total));
  }
  torch::Tensor history;
  archive.read("bitline/history", history);
  info.history = history_records(history, path);
  if (static_cast<int64_t>(info.history.size()) != info.epochs_done) {
    inconsistent(path, fmt::format("expected one history row per finished epoch ({}), found {} rows", info.epochs_done,
                                   info.history.size()));
  }
  return info;
}

// Checks every loaded parameter and buffer: inside its storage, finite, and no trained weight
// matrix or kernel that is all zeros (what a zero-filled file holds).
void check_loaded_tensors(torch::nn::Module& model, const std::filesystem::path& path) {
  auto check = [&](const std::string& name, const torch::Tensor& tensor, bool parameter) {
    if (!within_storage(tensor)) {
      inconsistent(path, fmt::format("tensor '{}' of shape [{}] reaches beyond its stored data", name,
                                     fmt::join(tensor.sizes(), ", ")));
    }
    if (!tensor.is_floating_point()) return;
    if (!torch::isfinite(tensor).all().item<bool>()) {
      inconsistent(path, fmt::format("tensor '{}' holds NaN or infinite values", name));
    }
    if (parameter && tensor.dim() >= 2 && tensor.numel() > 1 && !tensor.ne(0).any().item<bool>()) {
      inconsistent(path, fmt::format("weight tensor '{}' of shape [{}] is all zeros", name, fmt::join(tensor.sizes(), ", ")));
    }
  };
  for (const auto& p : model.named_parameters()) check(p.key(), p.value(), true);
  for (const auto& b : model.named_buffers()) check(b.key(), b.value(), false);
}

[[noreturn]] void unreadable(const std::filesystem::path& path, const std::exception& error) {
  std::string reason = error.what();
  reason = reason.substr(0, reason.find('\n'));
  throw InputError(fmt::format("{}: expected a bitline checkpoint (written by `bitline train`), but it cannot be "
                               "read: {}. Delete it to retrain.",
                               path.string(), reason));
}

// Format 1 was a bare LibTorch archive, a zip file.
bool is_format_1_checkpoint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in && std::string_view(magic, sizeof magic) == std::string_view("PK\x03\x04", 4);
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  torch::serialize::OutputArchive archive;
  archive.write("bitline/format_version", c10::IValue(kFormatVersion));
  write_string(archive, "bitline/stage", info.stage);
  write_string(archive, "bitline/config_hash", info.config_hash);
  write_string(archive, "bitline/config_yaml", info.config_yaml);
  archive.write("bitline/epochs_done", c10::IValue(info.epochs_done));
  archive.write("bitline/epochs_total", c10::IValue(info.epochs_total));
  archive.write("bitline/history", history_tensor(info.history));
  // LibTorch's generator drives noise-aware training; a resumed run continues its stream.
  archive.write("bitline/torch_rng_state", at::detail::getDefaultCPUGenerator().get_state());
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  std::ostringstream archive_bytes;
  archive.save_to(archive_bytes);
  io::write_checked_file(path, kCheckpointFile, archive_bytes.str());
}

std::optional<CheckpointInfo> read_checkpoint_info(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  if (is_format_1_checkpoint(path)) {
    CheckpointInfo outdated;
    outdated.format_outdated = true;
    return outdated;
  }
  const std::string payload = io::read_checked_file(path, kCheckpointFile);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(payload.data(), payload.size());
    return read_info(archive, path);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& error) {
    unreadable(path, error);
  }
}

CheckpointInfo load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(path)) {
    throw InputError(fmt::format("{}: checkpoint not found; train first with `bitline train`", path.string()));
  }
  return restore_checkpoint(io::read_checked_file(path, kCheckpointFile), path, model, optimizer);
}

CheckpointInfo restore_checkpoint(const std::string& archive_bytes, const std::filesystem::path& path,
                                  torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(archive_bytes.data(), archive_bytes.size());
    CheckpointInfo info = read_info(archive, path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    // LibTorch's load silently resizes tensors, so compare shapes to catch another model's file.
    std::vector<std::pair<std::string, std::vector<int64_t>>> expected_shapes;
    for (const auto& p : model.named_parameters()) expected_shapes.emplace_back(p.key(), p.value().sizes().vec());
    model.load(model_archive);
    const auto loaded = model.named_parameters();
    for (const auto& [name, shape] : expected_shapes) {
      if (loaded[name].sizes().vec() != shape) {
        throw InputError(fmt::format("{}: parameter '{}' has shape {}, but the configured model expects {}; the "
                                     "checkpoint was made for another model",
                                     path.string(), name, fmt::join(loaded[name].sizes().vec(), "x"),
                                     fmt::join(shape, "x")));
      }
    }
    check_loaded_tensors(model, path);
    if (optimizer != nullptr) {  // resuming training: optimizer state and random stream
      torch::serialize::InputArchive optimizer_archive;
      if (archive.try_read("optimizer", optimizer_archive)) optimizer->load(optimizer_archive);
      torch::Tensor rng_state;
      if (archive.try_read("bitline/torch_rng_state", rng_state)) {
        if (!within_storage(rng_state)) inconsistent(path, "the random generator state reaches beyond its stored data");
        at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global one
        generator.set_state(rng_state);
      }
    }
    return info;
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& error) {
    unreadable(path, error);
  }
}

std::string weights_digest(torch::nn::Module& model) {
  uint64_t hash = core::kFnvOffsetBasis;
  auto absorb = [&](const torch::Tensor& tensor) {
    auto contiguous = tensor.detach().contiguous().cpu();
    hash = core::fnv1a64(contiguous.data_ptr(), contiguous.numel() * contiguous.element_size(), hash);
  };
  for (const auto& p : model.named_parameters()) absorb(p.value());
  for (const auto& b : model.named_buffers()) absorb(b.value());
  return core::hex64(hash);
}

}  // namespace bitline::nn
