#pragma once
// Starting other programs (sbatch, squeue, scancel) without a shell: the program and its arguments
// are an argument vector handed to posix_spawnp, so no text that bitline passes, nor any text read
// from a sweep folder, is ever parsed as a command line (docs/reliability.md, "What a sweep folder can
// make bitline do").
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bitline::io {

struct ProcessResult {
  int exit_code = 0;   // the program's exit status; 128 + N when signal N ended it
  std::string output;  // what it wrote to stdout
  std::string errors;  // what it wrote to stderr
};

// Runs argv[0] (looked up on PATH when it has no '/') with the arguments argv[1..], feeding it
// `input` on stdin, and waits for it. std::nullopt when the program cannot be started (not found,
// not executable). Throws std::runtime_error when the pipes or the spawn itself fail.
std::optional<ProcessResult> run_program(const std::vector<std::string>& argv, const std::string& input = "");

// The executable file `name` would run as, searched on PATH as execvp does; std::nullopt when none.
std::optional<std::filesystem::path> find_program(const std::string& name);

// `text` as one word of a POSIX shell command line: in single quotes, each ' written as '\''. The
// one quoting function for what bitline substitutes into the shell scripts it writes.
std::string shell_quote(const std::string& text);

}  // namespace bitline::io
