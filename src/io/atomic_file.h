#pragma once
// Crash-safe file writing: write to a temporary file next to the target, then rename it over the
// target, so readers only ever see the old contents or the complete new contents.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bitline::io {

// RAII handle for a temporary file that replaces `target` on commit(). If commit() is never
// called (an exception, an early return), the destructor deletes the temporary file and the
// target keeps its old contents.
class AtomicFile {
 public:
  // Creates the target's parent directories (create_output_directory) and picks a unique temporary path beside the target
  // (same directory, hence same file system, so the final rename is atomic).
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& target_path() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }

  // Renames the temporary file onto the target. Throws std::filesystem::filesystem_error if the
  // rename fails (for example when nothing was written to temp_path()).
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// Creates `dir` and its parents if missing. Throws InputError "<what>: cannot create directory
// <dir>: <reason>" (what: the config key or file the directory is for).
void create_output_directory(const std::filesystem::path& dir, const std::string& what);

// A directory a command writes its outputs into.
struct OutputDirectory {
  std::filesystem::path dir;
  // Shell globs of what the command writes there, e.g. "results.json", "cost_*.csv".
  std::vector<std::string> own_entries;
  std::string what;  // the config key or option that names it, for messages
};

// Makes directories ready for a command's output files, the one place every command prepares its
// outputs. First each is checked, before any is created: an existing one must be a directory the
// process can write into (a file is created and removed inside it to find out) that holds only
// entries matching `own_entries`, so that outputs never mix into a folder of other files ('/', a home
// or source directory); a missing one must have a directory as its nearest existing ancestor. Then
// the missing ones are created; when one cannot be, those created are removed again. Nothing is
// written outside the directories named.
// Throws InputError naming `what`, the directory and what is wrong.
void prepare_output_directories(const std::vector<OutputDirectory>& dirs);
// One of them.
void prepare_output_directory(const std::filesystem::path& dir, const std::vector<std::string>& own_entries,
                              const std::string& what);
// Makes `path` ready to be written atomically as one output file (`bitline report -o`, `layer
// --output`): not empty, not a directory, and its folder a directory the process can write into
// (created when missing, as for prepare_output_directories). Throws InputError naming `what`.
void prepare_output_file(const std::filesystem::path& path, const std::string& what);

// Writes `contents` to `target` atomically. Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::filesystem::path& target, std::string_view contents);

// Reads a whole file as bytes. Throws InputError "<path>: cannot open file: <reason>" if the file
// is missing or unreadable.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace bitline::io
