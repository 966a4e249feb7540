// The config of `bitline layer`: layer, quantization and macro sections, and the macro's checks.
#include "app/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors(
      [&] { bitline::app::parse_layer_config(std::string(bitline::fuzz::as_text(data, size)), "layer.yaml"); });
}
