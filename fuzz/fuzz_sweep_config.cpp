// The sweep section of `bitline sweep` (app/sweep_config.h): YAML parsing, the section's schema, key
// paths into the config (list entries by index or name), ranges, grid/zip expansion and the
// validation of every point's config.
#include "app/config.h"
#include "app/sweep_config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    const auto root = bitline::app::parse_yaml(std::string(bitline::fuzz::as_text(data, size)), "fuzz.yaml");
    bitline::app::plan_sweep(root, "fuzz.yaml");
  });
}
