#pragma once
// The `bitline` command line: subcommands run, train, eval, config, layers and info.
namespace bitline::app {

// Returns the process exit code: 0 success, 2 bad input (config, data, checkpoint, tensor file or
// command line), 1 internal error.
int run_cli(int argc, char** argv);

}  // namespace bitline::app
