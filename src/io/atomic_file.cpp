#include "io/atomic_file.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "core/error.h"

namespace bitline::io {
namespace {

// The pid separates processes and the counter separates AtomicFiles within one process, so two
// writers never share a temporary file.
std::filesystem::path unique_temp_path_for(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter{0};
  std::filesystem::path temp = target;
  temp += fmt::format(".tmp-{}-{}", static_cast<long>(::getpid()), counter++);
  return temp;
}

void write_temp_file(const AtomicFile& file, std::string_view contents) {
  std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
  if (!out) {
    throw std::runtime_error(fmt::format("{}: cannot create temporary file {}: {}",
                                         file.target_path().string(), file.temp_path().string(),
                                         std::strerror(errno)));
  }
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();  // flushes, so a full disk shows up here rather than after the rename
  if (!out) {
    throw std::runtime_error(fmt::format("{}: writing {} bytes failed: {}",
                                         file.target_path().string(), contents.size(),
                                         std::strerror(errno)));
  }
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path target)
    : target_(std::move(target)), temp_(unique_temp_path_for(target_)) {
  if (target_.has_parent_path()) create_output_directory(target_.parent_path(), target_.string());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  std::error_code ignored;  // a destructor must not throw; a leftover temp file is harmless
  std::filesystem::remove(temp_, ignored);
}

void AtomicFile::commit() {
  std::filesystem::rename(temp_, target_);
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& target, std::string_view contents) {
  try {
    AtomicFile file(target);
    write_temp_file(file, contents);
    file.commit();
  } catch (const std::filesystem::filesystem_error& e) {
    // Covers failing to create the parent directories or to rename; e.what() names the paths.
    throw std::runtime_error(fmt::format("{}: cannot write file: {}", target.string(), e.what()));
  }
}

void create_output_directory(const std::filesystem::path& dir, const std::string& what) {
  // The output location is the user's choice (run_dir, checkpoint_dir, --output): one that cannot
  // be a directory (a path component is a file, no permission) is bad input.
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw InputError(fmt::format("{}: cannot create directory {}: {}", what, dir.string(), error.message()));
}

void prepare_output_directory(const std::filesystem::path& dir, const std::vector<std::string>& own_entries,
                              const std::string& what) {
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) {
    create_output_directory(dir, what);
    return;
  }
  if (!std::filesystem::is_directory(dir, error)) {
    throw InputError(fmt::format("{}: expected a directory for the output files, found {}, which is not a directory",
                                 what, dir.string()));
  }
  std::vector<std::string> foreign;
  std::size_t foreign_count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const bool own = std::any_of(own_entries.begin(), own_entries.end(), [&](const std::string& pattern) {
      return fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
    });
    if (own) continue;
    if (++foreign_count <= 5) foreign.push_back(name);
  }
  if (error) throw InputError(fmt::format("{}: cannot list directory {}: {}", what, dir.string(), error.message()));
  if (foreign_count == 0) return;
  std::string listing;
  for (const auto& name : foreign) listing += (listing.empty() ? "" : ", ") + name;
  if (foreign_count > foreign.size()) listing += fmt::format(" and {} more", foreign_count - foreign.size());
  std::string own_listing;
  for (const auto& pattern : own_entries) own_listing += (own_listing.empty() ? "" : ", ") + pattern;
  throw InputError(fmt::format("{}: expected a new or empty directory, or one holding only this command's outputs ({}); "
                               "found {} with other entries ({}); choose another directory",
                               what, own_listing, dir.string(), listing));
}

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code ignored;
  // An ifstream "opens" a directory on Linux and only fails on the first read, so check first.
  if (std::filesystem::is_directory(path, ignored)) {
    throw InputError(fmt::format("{}: cannot open file: it is a directory", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(fmt::format("{}: cannot open file: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    throw InputError(fmt::format("{}: cannot read file: {}", path.string(), std::strerror(errno)));
  }
  return contents.str();
}

}  // namespace bitline::io
