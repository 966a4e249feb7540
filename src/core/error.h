#pragma once
// Error types shared by every layer. The CLI maps InputError to exit code 2 (bad input: a config,
// data file, checkpoint or tensor file) and every other exception to exit code 1 (internal error).
#include <stdexcept>
#include <string>

namespace bitline {

// Bad input from the user. The message is one paragraph that names the file or config key,
// what was expected and what was found.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bitline
