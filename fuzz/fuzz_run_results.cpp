// A run's results.json (app/sweep_files.h): the typed reader that `bitline report` and the sweep's
// gather use, then the rows the sweep table takes from it.
#include "app/sweep_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    using namespace bitline::app;
    const auto results = parse_json_document(bitline::fuzz::as_text(data, size), "results.json", run_results_shape());
    result_rows(results);
  });
}
