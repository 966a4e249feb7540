// DDC-PIM's pairing file (`pairing-<hash>.json`, app/pairing_file.h): the parser and its
// consistency checks, as `bitline run` reads the file before checking it against the model.
#include "app/pairing_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors(
      [&] { bitline::app::parse_pairing(bitline::fuzz::as_text(data, size), "pairing.json"); });
}
