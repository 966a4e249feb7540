// The experiment config of `bitline run` (and train, eval, cost, layers): YAML parsing, the schema
// with its ranges and choices, and the cross-field validation, including the ADC tables a macro
// names.
#include "app/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors(
      [&] { bitline::app::parse_config(std::string(bitline::fuzz::as_text(data, size)), "fuzz.yaml"); });
}
