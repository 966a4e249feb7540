#pragma once
// Shared by the libFuzzer harnesses (docs/reliability.md). Each harness feeds its input to the same
// entry point the CLI uses. Bad input must end in bitline::InputError (exit code 2 in the CLI);
// every other exception escapes the harness, and libFuzzer reports it as a crash, as it does
// sanitizer reports, leaks, timeouts and allocations above its limit.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/error.h"

namespace bitline::fuzz {

inline std::string_view as_text(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `parse`; an InputError is the expected outcome of bad input.
template <class Parse>
int accept_input_errors(Parse&& parse) {
  try {
    parse();
  } catch (const InputError&) {
  }
  return 0;
}

// For entry points that take a path (the ADC tables): the input as a file of this process's own,
// rewritten for every input.
inline std::filesystem::path input_file(std::string_view bytes, const std::string& name) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("bitline-fuzz-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace bitline::fuzz
