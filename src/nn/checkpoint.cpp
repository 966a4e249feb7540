#include "nn/checkpoint.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <string_view>

#include "core/digest.h"
#include "core/error.h"
#include "io/checked_file.h"
#include "io/tensor_archive.h"

namespace bitline::nn {
namespace {

// Format 2: a checked file (CRC-32) holding a tensor archive (safetensors layout) of the metadata,
// history, parameters, buffers, optimizer state and random generator state. Format 1 was a bare
// LibTorch archive.
constexpr int64_t kFormatVersion = 2;
const io::CheckedFileKind kCheckpointFile{"checkpoint", kFormatVersion};
constexpr int64_t kHistoryColumns = 5;  // epoch, loss, accuracy, seconds, learning rate

// Tensor names in the archive.
const std::string kHistory = "bitline/history";
const std::string kRngState = "bitline/torch_rng_state";
const std::string kParameterPrefix = "parameters/";
const std::string kBufferPrefix = "buffers/";
const std::string kOptimizerPrefix = "optimizer/";  // optimizer/<parameter index>/<state field>

// The optimizer state fields each optimizer keeps per parameter (LibTorch's SGDParamState and
// AdamParamState).
const std::set<std::string> kSgdFields = {"momentum_buffer"};
const std::set<std::string> kAdamFields = {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

[[noreturn]] void inconsistent(const std::filesystem::path& path, const std::string& what) {
  throw InputError(fmt::format("{}: inconsistent checkpoint: {}. Delete it to retrain.", path.string(), what));
}

// ---- Tensors <-> archive entries (little-endian hosts, as the archive layout).

io::TensorDType stored_dtype(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat64: return io::TensorDType::F64;
    case torch::kFloat32: return io::TensorDType::F32;
    case torch::kInt64: return io::TensorDType::I64;
    case torch::kInt32: return io::TensorDType::I32;
    case torch::kUInt8: return io::TensorDType::U8;
    default: throw std::logic_error(fmt::format("checkpoint: no archive dtype for {}", c10::toString(type)));
  }
}

torch::ScalarType torch_dtype(io::TensorDType dtype) {
  switch (dtype) {
    case io::TensorDType::F64: return torch::kFloat64;
    case io::TensorDType::F32: return torch::kFloat32;
    case io::TensorDType::I64: return torch::kInt64;
    case io::TensorDType::I32: return torch::kInt32;
    case io::TensorDType::U8: return torch::kUInt8;
  }
  throw std::logic_error("checkpoint: unknown archive dtype");
}

io::StoredTensor stored(const torch::Tensor& tensor) {
  const auto contiguous = tensor.detach().contiguous().cpu();
  io::StoredTensor out{stored_dtype(contiguous.scalar_type()), contiguous.sizes().vec(), {}};
  if (contiguous.numel() > 0) {
    out.bytes.assign(static_cast<const char*>(contiguous.data_ptr()), contiguous.numel() * contiguous.element_size());
  }
  return out;
}

torch::Tensor to_tensor(const io::StoredTensor& entry) {
  auto tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(torch_dtype(entry.dtype)));
  if (!entry.bytes.empty()) std::memcpy(tensor.data_ptr(), entry.bytes.data(), entry.bytes.size());  // empty: no buffer
  return tensor;
}

std::string shape_text(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// ---- Metadata and history.

int64_t metadata_int(const io::TensorArchive& archive, const std::string& key, const std::filesystem::path& path) {
  const auto found = archive.metadata.find(key);
  if (found == archive.metadata.end()) inconsistent(path, fmt::format("the metadata lack '{}'", key));
  int64_t value = 0;
  const std::string& text = found->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    inconsistent(path, fmt::format("expected metadata '{}' to be an integer, found '{}'", key, text));
  }
  return value;
}

const std::string& metadata_text(const io::TensorArchive& archive, const std::string& key, const std::filesystem::path& path) {
  const auto found = archive.metadata.find(key);
  if (found == archive.metadata.end()) inconsistent(path, fmt::format("the metadata lack '{}'", key));
  return found->second;
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

std::vector<EpochRecord> history_records(const io::TensorArchive& archive, const std::filesystem::path& path) {
  const auto found = archive.tensors.find(kHistory);
  if (found == archive.tensors.end()) inconsistent(path, "the training history is missing");
  const io::StoredTensor& entry = found->second;
  if (entry.dtype != io::TensorDType::F64 || entry.shape.size() != 2 || entry.shape[1] != kHistoryColumns) {
    inconsistent(path, fmt::format("expected the training history as an F64 tensor of shape [epochs, {}], found {} {}",
                                   kHistoryColumns, io::tensor_dtype_name(entry.dtype), shape_text(entry.shape)));
  }
  const auto table = to_tensor(entry);
  auto rows = table.accessor<double, 2>();
  std::vector<EpochRecord> history;
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

CheckpointInfo read_info(const io::TensorArchive& archive, const std::filesystem::path& path) {
  CheckpointInfo info;
  info.stage = metadata_text(archive, "stage", path);
  info.config_hash = metadata_text(archive, "config_hash", path);
  info.config_yaml = metadata_text(archive, "config_yaml", path);
  info.epochs_done = metadata_int(archive, "epochs_done", path);
  info.epochs_total = metadata_int(archive, "epochs_total", path);
  if (info.epochs_total < 1 || info.epochs_done < 0 || info.epochs_done > info.epochs_total) {
    inconsistent(path, fmt::format("expected 0 <= epochs_done <= epochs_total and epochs_total >= 1, found {} of {}",
                                   info.epochs_done, info.epochs_total));
  }
  info.history = history_records(archive, path);
  if (static_cast<int64_t>(info.history.size()) != info.epochs_done) {
    inconsistent(path, fmt::format("expected one history row per finished epoch ({}), found {} rows", info.epochs_done,
                                   info.history.size()));
  }
  return info;
}

// ---- Optimizer state.

std::string optimizer_kind(const torch::optim::Optimizer* optimizer) {
  if (optimizer == nullptr) return "none";
  if (dynamic_cast<const torch::optim::SGD*>(optimizer) != nullptr) return "sgd";
  if (dynamic_cast<const torch::optim::Adam*>(optimizer) != nullptr) return "adam";
  throw std::logic_error("checkpoint: only SGD and Adam state can be saved");
}

std::vector<torch::Tensor> optimized_parameters(const torch::optim::Optimizer& optimizer) {
  std::vector<torch::Tensor> params;
  for (const auto& group : optimizer.param_groups()) params.insert(params.end(), group.params().begin(), group.params().end());
  return params;
}

// LibTorch keys an optimizer's per-parameter state by the parameter's TensorImpl address.
std::string state_key(const torch::Tensor& parameter) { return c10::guts::to_string(parameter.unsafeGetTensorImpl()); }

std::string optimizer_entry(std::size_t index, const std::string& field) {
  return fmt::format("{}{}/{}", kOptimizerPrefix, index, field);
}

void save_optimizer_state(const torch::optim::Optimizer& optimizer, io::TensorArchive& archive) {
  const auto params = optimized_parameters(optimizer);
  const auto& states = optimizer.state();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto found = states.find(state_key(params[i]));
    if (found == states.end()) continue;  // before the first step
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(found->second.get())) {
      if (sgd->momentum_buffer().defined()) archive.tensors[optimizer_entry(i, "momentum_buffer")] = stored(sgd->momentum_buffer());
    } else if (const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(found->second.get())) {
      archive.tensors[optimizer_entry(i, "step")] = stored(torch::tensor(adam->step(), torch::kInt64));
      archive.tensors[optimizer_entry(i, "exp_avg")] = stored(adam->exp_avg());
      archive.tensors[optimizer_entry(i, "exp_avg_sq")] = stored(adam->exp_avg_sq());
      if (adam->max_exp_avg_sq().defined()) archive.tensors[optimizer_entry(i, "max_exp_avg_sq")] = stored(adam->max_exp_avg_sq());
    }
  }
}

// The state tensor `field` of parameter `index`, checked against the parameter; undefined if absent.
torch::Tensor state_tensor(const io::TensorArchive& archive, std::size_t index, const std::string& field,
                           const torch::Tensor& parameter, const std::filesystem::path& path) {
  const auto found = archive.tensors.find(optimizer_entry(index, field));
  if (found == archive.tensors.end()) return {};
  const auto tensor = to_tensor(found->second);
  if (tensor.sizes() != parameter.sizes() || tensor.scalar_type() != parameter.scalar_type()) {
    inconsistent(path, fmt::format("optimizer state '{}' is {} {}, but its parameter is {} {}", found->first,
                                   c10::toString(tensor.scalar_type()), shape_text(tensor.sizes().vec()),
                                   c10::toString(parameter.scalar_type()), shape_text(parameter.sizes().vec())));
  }
  if (!torch::isfinite(tensor).all().item<bool>()) inconsistent(path, fmt::format("'{}' holds NaN or infinite values", found->first));
  return tensor;
}

// The optimizer's per-parameter states from the archive, checked, keyed as the optimizer keys them.
std::vector<std::pair<std::string, std::unique_ptr<torch::optim::OptimizerParamState>>> checked_optimizer_states(
    const io::TensorArchive& archive, torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  const std::string kind = optimizer_kind(&optimizer);
  const std::string& saved = metadata_text(archive, "optimizer", path);
  if (saved != kind) inconsistent(path, fmt::format("it holds {} optimizer state, but training resumes with {}", saved, kind));
  const auto params = optimized_parameters(optimizer);
  std::vector<std::pair<std::string, std::unique_ptr<torch::optim::OptimizerParamState>>> states;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (kind == "sgd") {
      auto momentum = state_tensor(archive, i, "momentum_buffer", params[i], path);
      if (!momentum.defined()) continue;
      auto state = std::make_unique<torch::optim::SGDParamState>();
      state->momentum_buffer(momentum);
      states.emplace_back(state_key(params[i]), std::move(state));
      continue;
    }
    const auto step = archive.tensors.find(optimizer_entry(i, "step"));
    auto exp_avg = state_tensor(archive, i, "exp_avg", params[i], path);
    auto exp_avg_sq = state_tensor(archive, i, "exp_avg_sq", params[i], path);
    if (step == archive.tensors.end() && !exp_avg.defined() && !exp_avg_sq.defined()) continue;
    if (step == archive.tensors.end() || !exp_avg.defined() || !exp_avg_sq.defined() ||
        step->second.dtype != io::TensorDType::I64 || !step->second.shape.empty()) {
      inconsistent(path, fmt::format("expected Adam state of parameter {} to hold a scalar I64 step, exp_avg and "
                                     "exp_avg_sq together",
                                     i));
    }
    const int64_t steps = to_tensor(step->second).item<int64_t>();
    if (steps < 1) inconsistent(path, fmt::format("Adam state of parameter {} has step {}", i, steps));
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(steps);
    state->exp_avg(exp_avg);
    state->exp_avg_sq(exp_avg_sq);
    if (auto max_sq = state_tensor(archive, i, "max_exp_avg_sq", params[i], path); max_sq.defined()) state->max_exp_avg_sq(max_sq);
    states.emplace_back(state_key(params[i]), std::move(state));
  }
  return states;
}

// ---- Model tensors.

// Every archive entry must belong to the model or to the optimizer state of one of its parameters:
// an entry nothing reads is a file made for another model (or a crafted one).
void check_entries_known(const io::TensorArchive& archive, const std::set<std::string>& model_entries,
                         std::size_t parameter_count, const std::filesystem::path& path) {
  const std::string& kind = metadata_text(archive, "optimizer", path);
  if (kind != "none" && kind != "sgd" && kind != "adam") {
    inconsistent(path, fmt::format("expected optimizer none, sgd or adam, found '{}'", kind));
  }
  const auto& fields = kind == "sgd" ? kSgdFields : kind == "adam" ? kAdamFields : std::set<std::string>{};
  for (const auto& [name, entry] : archive.tensors) {
    if (name == kHistory || name == kRngState || model_entries.count(name) > 0) continue;
    if (name.rfind(kOptimizerPrefix, 0) == 0) {
      const std::string rest = name.substr(kOptimizerPrefix.size());
      const std::size_t slash = rest.find('/');
      std::size_t index = 0;
      const auto [end, error] = std::from_chars(rest.data(), rest.data() + (slash == std::string::npos ? 0 : slash), index);
      if (slash != std::string::npos && error == std::errc() && end == rest.data() + slash && index < parameter_count &&
          fields.count(rest.substr(slash + 1)) > 0) {
        continue;
      }
    }
    if (name.rfind(kParameterPrefix, 0) == 0 || name.rfind(kBufferPrefix, 0) == 0) {
      throw InputError(fmt::format("{}: the checkpoint holds '{}', which the configured model lacks; the checkpoint was "
                                   "made for another model",
                                   path.string(), name));
    }
    inconsistent(path, fmt::format("unexpected tensor '{}'", name));
  }
}

// The archive's tensor `name` for the model's `target`, after checking dtype, shape and values.
torch::Tensor checked_model_tensor(const io::TensorArchive& archive, const std::string& name, const torch::Tensor& target,
                                   bool is_parameter, const std::filesystem::path& path) {
  const auto found = archive.tensors.find(name);
  if (found == archive.tensors.end()) {
    throw InputError(fmt::format("{}: the checkpoint lacks '{}' of the configured model; the checkpoint was made for "
                                 "another model",
                                 path.string(), name));
  }
  torch::Tensor loaded = to_tensor(found->second);
  if (loaded.sizes() != target.sizes()) {
    throw InputError(fmt::format("{}: '{}' has shape {}, but the configured model expects {}; the checkpoint was made "
                                 "for another model",
                                 path.string(), name, fmt::join(loaded.sizes(), "x"), fmt::join(target.sizes(), "x")));
  }
  if (loaded.scalar_type() != target.scalar_type()) {
    inconsistent(path, fmt::format("'{}' is {}, but the model keeps it as {}", name, c10::toString(loaded.scalar_type()),
                                   c10::toString(target.scalar_type())));
  }
  if (loaded.is_floating_point()) {
    if (!torch::isfinite(loaded).all().item<bool>()) inconsistent(path, fmt::format("'{}' holds NaN or infinite values", name));
    // No trained weight matrix or kernel is all zeros; a zero-filled file's is.
    if (is_parameter && loaded.dim() >= 2 && loaded.numel() > 1 && !loaded.ne(0).any().item<bool>()) {
      inconsistent(path, fmt::format("weight tensor '{}' of shape {} is all zeros", name, shape_text(loaded.sizes().vec())));
    }
  }
  return loaded;
}

// The random generator state of the archive, checked by loading it into a generator of its own.
torch::Tensor checked_rng_state(const io::TensorArchive& archive, const std::filesystem::path& path) {
  const auto found = archive.tensors.find(kRngState);
  if (found == archive.tensors.end()) inconsistent(path, "the random generator state is missing");
  auto state = to_tensor(found->second);
  try {
    at::make_generator<at::CPUGeneratorImpl>().set_state(state);
  } catch (const c10::Error& error) {
    const std::string reason = error.what_without_backtrace();
    inconsistent(path, "the random generator state is not one: " + reason.substr(0, reason.find('\n')));
  }
  return state;
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
  io::TensorArchive archive;
  archive.metadata = {{"stage", info.stage},
                      {"config_hash", info.config_hash},
                      {"config_yaml", info.config_yaml},
                      {"epochs_done", std::to_string(info.epochs_done)},
                      {"epochs_total", std::to_string(info.epochs_total)},
                      {"optimizer", optimizer_kind(optimizer)}};
  archive.tensors[kHistory] = stored(history_tensor(info.history));
  // LibTorch's generator drives noise-aware training; a resumed run continues its stream.
  archive.tensors[kRngState] = stored(at::detail::getDefaultCPUGenerator().get_state());
  for (const auto& p : model.named_parameters()) archive.tensors[kParameterPrefix + p.key()] = stored(p.value());
  for (const auto& b : model.named_buffers()) archive.tensors[kBufferPrefix + b.key()] = stored(b.value());
  if (optimizer != nullptr) save_optimizer_state(*optimizer, archive);
  io::write_checked_file(path, kCheckpointFile, io::serialize_tensor_archive(archive));
}

std::optional<CheckpointInfo> read_checkpoint_info(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  if (is_format_1_checkpoint(path)) {
    CheckpointInfo outdated;
    outdated.format_outdated = true;
    return outdated;
  }
  const std::string payload = io::read_checked_file(path, kCheckpointFile);
  return read_info(io::parse_tensor_archive(payload, path), path);
}

CheckpointInfo load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer) {
  if (!std::filesystem::exists(path)) {
    throw InputError(fmt::format("{}: checkpoint not found; train first with `bitline train`", path.string()));
  }
  return restore_checkpoint(io::read_checked_file(path, kCheckpointFile), path, model, optimizer);
}

CheckpointInfo restore_checkpoint(std::string_view archive_bytes, const std::filesystem::path& path,
                                  torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  const io::TensorArchive archive = io::parse_tensor_archive(archive_bytes, path);
  CheckpointInfo info = read_info(archive, path);
  auto parameters = model.named_parameters();
  auto buffers = model.named_buffers();
  std::set<std::string> model_entries;
  for (const auto& p : parameters) model_entries.insert(kParameterPrefix + p.key());
  for (const auto& b : buffers) model_entries.insert(kBufferPrefix + b.key());
  check_entries_known(archive, model_entries, parameters.size(), path);
  // Everything is checked before anything changes: a refused file leaves model and optimizer as
  // they were.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (model tensor, loaded value)
  for (auto& p : parameters) {
    copies.emplace_back(p.value(), checked_model_tensor(archive, kParameterPrefix + p.key(), p.value(), true, path));
  }
  for (auto& b : buffers) {
    copies.emplace_back(b.value(), checked_model_tensor(archive, kBufferPrefix + b.key(), b.value(), false, path));
  }
  if (optimizer != nullptr) {  // resuming training: optimizer state and random stream
    auto states = checked_optimizer_states(archive, *optimizer, path);
    const auto rng_state = checked_rng_state(archive, path);
    for (auto& [key, state] : states) optimizer->state()[key] = std::move(state);
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global one
    generator.set_state(rng_state);
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, loaded] : copies) target.copy_(loaded);
  return info;
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
