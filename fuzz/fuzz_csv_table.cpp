// The CSV table reader of the ADC and CCO tables, and its number and integer cells.
#include "fuzz_support.h"
#include "io/csv_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using bitline::fuzz::accept_input_errors;
  return accept_input_errors([&] {
    const auto table = bitline::io::CsvTable::parse(std::string(bitline::fuzz::as_text(data, size)), "table.csv");
    for (std::size_t row = 0; row < table.rows(); ++row) {
      for (std::size_t column = 0; column < table.columns(); ++column) {
        accept_input_errors([&] { (void)table.number(row, column); });
        accept_input_errors([&] { (void)table.integer(row, column); });
      }
    }
  });
}
