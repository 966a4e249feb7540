// The checked-file header in front of every checkpoint: kind, version, length and CRC-32.
#include "fuzz_support.h"
#include "io/checked_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    bitline::io::parse_checked_file(bitline::fuzz::as_text(data, size), "fuzz.ckpt", {"checkpoint", 2});
  });
}
