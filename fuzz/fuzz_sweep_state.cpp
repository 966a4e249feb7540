// A sweep's state (app/sweep_files.h): sweep.json through its typed reader, then what `bitline sweep
// --status`, `--gather` and `bitline report` make of it (each point's rows, sweep.csv); and the input
// as a point's status file.
#include "app/sweep_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto text = bitline::fuzz::as_text(data, size);
  bitline::app::parse_point_status(text);
  return bitline::fuzz::accept_input_errors([&] {
    using namespace bitline::app;
    const auto manifest = parse_json_document(text, "sweep.json", sweep_manifest_shape());
    for (const auto& point : manifest.at("points")) point_rows(point, manifest.at("rows"));
    table_csv(manifest);
  });
}
