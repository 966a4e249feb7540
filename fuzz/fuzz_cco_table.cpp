// The CCO ADC's operating-point table (operating_points_csv), read through make_adc_model at the
// default corner and supply (TT, 0.9 V). Input byte 0 picks the ADC bits (1 to 8); the rest is the
// CSV file.
#include "app/adc_model.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  bitline::app::AdcConfig adc;
  adc.model = "cco";
  adc.bits = 1 + data[0] % 8;
  adc.cco.operating_points_csv =
      bitline::fuzz::input_file(bitline::fuzz::as_text(data + 1, size - 1), "operating_points.csv").string();
  return bitline::fuzz::accept_input_errors([&] { bitline::app::make_adc_model(adc, "adc"); });
}
