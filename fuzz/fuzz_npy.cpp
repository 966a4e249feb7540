// The .npy reader of `bitline layer`: header parsing, shape/size checks, and the conversions and
// finiteness check the layer command applies to what it read.
#include "fuzz_support.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    const auto array = bitline::io::parse_npy(bitline::fuzz::as_text(data, size), "fuzz.npy");
    (void)bitline::io::first_non_finite(array);
    (void)array.to_float32();
    (void)array.to_int64();
  });
}
