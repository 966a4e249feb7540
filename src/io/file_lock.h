#pragma once
// An advisory lock on a file (flock), held while the object lives and released by the kernel when
// the process dies, so a killed holder never leaves a stale lock. Serialises processes that share
// a directory: sweep points training the same checkpoint, or two sweep drivers on one directory.
// flock works across the nodes of a cluster on NFSv4 and Lustre; see docs/sweeps.md.
#include <filesystem>
#include <optional>

namespace bitline::io {

class FileLock {
 public:
  // Waits until the lock on `path` (created when missing) is free, then holds it.
  static FileLock acquire(const std::filesystem::path& path);
  // Holds the lock when it is free; std::nullopt when another process holds it.
  static std::optional<FileLock> try_acquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace bitline::io
