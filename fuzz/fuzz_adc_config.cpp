// The config of `bitline adc`, then its converter built as the command builds it.
#include "app/adc_model.h"
#include "app/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    const auto config = bitline::app::parse_adc_command_config(std::string(bitline::fuzz::as_text(data, size)), "adc.yaml");
    bitline::app::make_adc_model(config.adc, "adc");
  });
}
