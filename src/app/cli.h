#pragma once
// The `bitline` command line: its subcommands (bitline --help lists them).
namespace bitline::app {

inline constexpr const char* kBitlineVersion = "0.1.0";

// Returns the process exit code: 0 success, 2 bad input (config, data, checkpoint, tensor file or
// command line), 1 internal error.
int run_cli(int argc, char** argv);

}  // namespace bitline::app
