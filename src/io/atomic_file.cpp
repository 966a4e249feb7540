#include "io/atomic_file.h"

#include <fmt/format.h>
#include <fcntl.h>
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

namespace {

namespace fs = std::filesystem;

constexpr const char* kWriteProbePrefix = ".bitline-write-test-";

// Whether the process can create files in the existing directory `dir`: it creates one there and
// removes it (access(2) cannot tell: root passes it on read-only bind mounts' folders and in /proc).
std::string unwritable_reason(const fs::path& dir) {
  const fs::path probe = dir / fmt::format("{}{}", kWriteProbePrefix, static_cast<long>(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  std::error_code ignored;
  fs::remove(probe, ignored);
  return "";
}

// The nearest ancestor of a missing `path` that exists (".", for a relative path with none).
fs::path nearest_existing_ancestor(const fs::path& path) {
  fs::path ancestor = path;
  std::error_code error;
  while (!ancestor.empty() && !fs::exists(ancestor, error)) ancestor = ancestor.parent_path();
  return ancestor.empty() ? fs::path(".") : ancestor;
}

void check_output_directory(const OutputDirectory& output) {
  const fs::path& dir = output.dir;
  const std::string& what = output.what;
  if (dir.empty()) throw InputError(fmt::format("{}: expected a directory path for the output files, found ''", what));
  std::error_code error;
  if (!fs::exists(dir, error)) {
    const fs::path ancestor = nearest_existing_ancestor(dir);
    // Whether it can be created shows when it is (prepare_output_directories): nothing is written
    // outside the requested directory to find out.
    if (!fs::is_directory(ancestor, error)) {
      throw InputError(fmt::format("{}: cannot create directory {}: {} is not a directory", what, dir.string(), ancestor.string()));
    }
    return;
  }
  if (!fs::is_directory(dir, error)) {
    throw InputError(fmt::format("{}: expected a directory for the output files, found {}, which is not a directory",
                                 what, dir.string()));
  }
  std::vector<std::string> foreign;
  std::size_t foreign_count = 0;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kWriteProbePrefix, 0) == 0) continue;  // another process's probe
    const bool own = std::any_of(output.own_entries.begin(), output.own_entries.end(), [&](const std::string& pattern) {
      return fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
    });
    if (own) continue;
    if (++foreign_count <= 5) foreign.push_back(name);
  }
  if (error) throw InputError(fmt::format("{}: cannot list directory {}: {}", what, dir.string(), error.message()));
  if (foreign_count > 0) {
    std::string listing;
    for (const auto& name : foreign) listing += (listing.empty() ? "" : ", ") + name;
    if (foreign_count > foreign.size()) listing += fmt::format(" and {} more", foreign_count - foreign.size());
    std::string own_listing;
    for (const auto& pattern : output.own_entries) own_listing += (own_listing.empty() ? "" : ", ") + pattern;
    throw InputError(fmt::format("{}: expected a new or empty directory, or one holding only this command's outputs ({}); "
                                 "found {} with other entries ({}); choose another directory",
                                 what, own_listing, dir.string(), listing));
  }
  if (const auto reason = unwritable_reason(dir); !reason.empty()) {
    throw InputError(fmt::format("{}: cannot write into directory {}: {}", what, dir.string(), reason));
  }
}

}  // namespace

void prepare_output_directories(const std::vector<OutputDirectory>& dirs) {
  for (const auto& output : dirs) check_output_directory(output);
  std::vector<fs::path> created;  // the topmost directory each creation made
  try {
    for (const auto& output : dirs) {
      std::error_code error;
      if (fs::exists(output.dir, error)) continue;
      fs::path top = output.dir;
      while (top.has_parent_path() && top.parent_path() != top && !fs::exists(top.parent_path(), error)) top = top.parent_path();
      create_output_directory(output.dir, output.what);
      created.push_back(top);
    }
  } catch (...) {
    for (const auto& top : created) {
      std::error_code ignored;
      fs::remove_all(top, ignored);
    }
    throw;
  }
}

void prepare_output_directory(const std::filesystem::path& dir, const std::vector<std::string>& own_entries,
                              const std::string& what) {
  prepare_output_directories({{dir, own_entries, what}});
}

void prepare_output_file(const std::filesystem::path& path, const std::string& what) {
  if (path.empty()) throw InputError(fmt::format("{}: expected a file path, found ''", what));
  std::error_code error;
  if (fs::is_directory(path, error) || !path.has_filename()) {
    throw InputError(fmt::format("{}: expected a file path, found the directory {}", what, path.string()));
  }
  if (fs::exists(path, error) && !fs::is_regular_file(path, error)) {
    throw InputError(fmt::format("{}: expected a regular file to replace, found {}, which is not one", what, path.string()));
  }
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::exists(folder, error)) {
    prepare_output_directories({{folder, {}, what + " (its folder)"}});
    return;
  }
  if (!fs::is_directory(folder, error)) {
    throw InputError(fmt::format("{}: cannot write {}: {} is not a directory", what, path.string(), folder.string()));
  }
  if (const auto reason = unwritable_reason(folder); !reason.empty()) {
    throw InputError(fmt::format("{}: cannot write {}: its folder {} is not writable ({})", what, path.string(),
                                 folder.string(), reason));
  }
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
