#include "io/cifar.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>
#include <system_error>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::io {
namespace {

constexpr int64_t kChannels = 3;
constexpr int64_t kSide = 32;
constexpr std::size_t kImageBytes = kChannels * kSide * kSide;  // 3072
constexpr std::size_t kRecordBytes = 1 + kImageBytes;           // 3073
constexpr unsigned kClassCount = 10;

std::vector<std::filesystem::path> split_file_names(bool train) {
  if (!train) return {"test_batch.bin"};
  std::vector<std::filesystem::path> names;
  for (int i = 1; i <= 5; ++i) names.emplace_back(fmt::format("data_batch_{}.bin", i));
  return names;
}

void check_record_layout(const std::filesystem::path& path, std::size_t size) {
  if (size == 0) {
    throw InputError(
        fmt::format("{}: expected CIFAR-10 binary records of {} bytes (1 label byte + "
                    "{} pixel bytes), found an empty file",
                    path.string(), kRecordBytes, kImageBytes));
  }
  if (size % kRecordBytes != 0) {
    throw InputError(
        fmt::format("{}: expected a size that is a multiple of the {}-byte CIFAR-10 "
                    "record, found {} bytes ({} whole records and {} bytes left "
                    "over); the file is truncated or not a CIFAR-10 binary batch",
                    path.string(), kRecordBytes, size, size / kRecordBytes, size % kRecordBytes));
  }
}

}  // namespace

void append_cifar10_batch(std::string_view bytes, const std::filesystem::path& path, ImageSet& set) {
  check_record_layout(path, bytes.size());
  const std::size_t records = bytes.size() / kRecordBytes;
  for (std::size_t record = 0; record < records; ++record) {
    const char* start = bytes.data() + record * kRecordBytes;
    const auto label = static_cast<unsigned char>(start[0]);
    if (label >= kClassCount) {
      throw InputError(
          fmt::format("{}: record {} (byte offset {}) has label {}, expected 0 to 9; "
                      "is this the CIFAR-100 binary version?",
                      path.string(), record, record * kRecordBytes, label));
    }
    set.labels.push_back(label);
    set.pixels.insert(set.pixels.end(), start + 1, start + kRecordBytes);
  }
  set.count += static_cast<int64_t>(records);
}

namespace {

std::vector<std::filesystem::path> missing_files(const std::filesystem::path& folder,
                                                 const std::vector<std::filesystem::path>& names) {
  std::vector<std::filesystem::path> missing;
  std::error_code ignored;
  for (const auto& name : names) {
    if (!std::filesystem::is_regular_file(folder / name, ignored)) missing.push_back(name);
  }
  return missing;
}

// For a folder holding part of the split, says which files it lacks: a half-copied download
// is easier to fix when the message names the gap.
std::string partial_folder_notes(const std::vector<std::filesystem::path>& folders,
                                 const std::vector<std::filesystem::path>& names) {
  std::string notes;
  for (const auto& folder : folders) {
    const std::vector<std::filesystem::path> missing = missing_files(folder, names);
    if (missing.empty() || missing.size() == names.size()) continue;
    std::vector<std::string> missing_names;
    for (const auto& name : missing) missing_names.push_back(name.string());
    notes += fmt::format(" ({} holds some of them but lacks {})", folder.string(),
                         fmt::join(missing_names, ", "));
  }
  return notes;
}

[[noreturn]] void throw_cifar_missing(const std::vector<std::filesystem::path>& folders,
                                      const std::vector<std::filesystem::path>& names) {
  std::string files = names.size() == 1 ? names[0].string()
                                        : names.front().string() + " ... " + names.back().string();
  throw InputError(fmt::format(
      "CIFAR-10 files not found: expected {} in {} or {}{}. CIFAR-10 is not packaged for Debian, "
      "so download the \"CIFAR-10 binary version\" (cifar-10-binary.tar.gz from "
      "https://www.cs.toronto.edu/~kriz/cifar.html) yourself, unpack it and point data.path at "
      "its folder",
      files, folders[0].string(), folders[1].string(), partial_folder_notes(folders, names)));
}

}  // namespace

ImageSet empty_cifar10_set() {
  ImageSet set;
  set.channels = kChannels;
  set.height = kSide;
  set.width = kSide;
  return set;
}

ImageSet read_cifar10_batches(const std::vector<std::filesystem::path>& files) {
  if (files.empty()) throw std::invalid_argument("read_cifar10_batches: no files given");
  ImageSet set = empty_cifar10_set();
  for (const auto& file : files) append_cifar10_batch(read_text_file(file), file, set);
  return set;
}

ImageSet load_cifar10(const std::filesystem::path& directory, bool train) {
  const std::vector<std::filesystem::path> names = split_file_names(train);
  // The official archive unpacks to cifar-10-batches-bin/, so accept its parent too.
  const std::vector<std::filesystem::path> folders = {directory,
                                                      directory / "cifar-10-batches-bin"};
  for (const auto& folder : folders) {
    if (!missing_files(folder, names).empty()) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& name : names) files.push_back(folder / name);
    return read_cifar10_batches(files);
  }
  throw_cifar_missing(folders, names);
}

}  // namespace bitline::io
