#include "nn/checkpoint.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/digest.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::nn {
namespace {

constexpr int64_t kFormatVersion = 1;

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
  auto table = torch::zeros({static_cast<int64_t>(history.size()), 5}, torch::kFloat64);
  auto rows = table.accessor<double, 2>();
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& r = history[i];
    const double values[] = {static_cast<double>(r.epoch), r.train_loss, r.train_accuracy, r.seconds, r.learning_rate};
    for (int j = 0; j < 5; ++j) rows[static_cast<int64_t>(i)][j] = values[j];
  }
  return table;
}

std::vector<EpochRecord> history_records(const torch::Tensor& table) {
  std::vector<EpochRecord> history;
  auto rows = table.accessor<double, 2>();
  for (int64_t i = 0; i < table.size(0); ++i) {
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
  torch::Tensor history;
  archive.read("bitline/history", history);
  info.history = history_records(history);
  return info;
}

[[noreturn]] void unreadable(const std::filesystem::path& path, const std::exception& error) {
  std::string reason = error.what();
  reason = reason.substr(0, reason.find('\n'));
  throw InputError(fmt::format("{}: expected a bitline checkpoint (written by `bitline train`), but it cannot be "
                               "read: {}. Delete it to retrain.",
                               path.string(), reason));
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
  io::AtomicFile file(path);
  archive.save_to(file.temp_path().string());
  file.commit();
}

std::optional<CheckpointInfo> read_checkpoint_info(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
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
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
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
    if (optimizer != nullptr) {  // resuming training: optimizer state and random stream
      torch::serialize::InputArchive optimizer_archive;
      if (archive.try_read("optimizer", optimizer_archive)) optimizer->load(optimizer_archive);
      torch::Tensor rng_state;
      if (archive.try_read("bitline/torch_rng_state", rng_state)) {
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
