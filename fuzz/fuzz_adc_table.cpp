// The ADC transfer tables of `model: table` (thresholds, INL or DNL CSV; one table or one per
// column), read through make_adc_model as a config's adc section is. Input byte 0 picks the file
// kind, byte 1 the ADC bits (1 to 8); the rest is the CSV file.
#include "app/adc_model.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  bitline::app::AdcConfig adc;
  adc.model = "table";
  adc.bits = 1 + data[1] % 8;
  const auto csv = bitline::fuzz::input_file(bitline::fuzz::as_text(data + 2, size - 2), "table.csv").string();
  switch (data[0] % 3) {
    case 0: adc.table.thresholds_csv = csv; break;
    case 1: adc.table.inl_csv = csv; break;
    default: adc.table.dnl_csv = csv; break;
  }
  return bitline::fuzz::accept_input_errors([&] { bitline::app::make_adc_model(adc, "adc"); });
}
