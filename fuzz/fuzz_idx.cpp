// The IDX reader of Fashion-MNIST (plain or gzip): an image file and a label file, with the
// 10-class label check. The first 4 input bytes say where the image file ends.
#include <cstring>

#include "fuzz_support.h"
#include "io/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  uint32_t split = 0;
  std::memcpy(&split, data, 4);
  const std::string_view rest = bitline::fuzz::as_text(data + 4, size - 4);
  const std::size_t image_bytes = split % (rest.size() + 1);
  return bitline::fuzz::accept_input_errors([&] {
    bitline::io::parse_idx_dataset(rest.substr(0, image_bytes), "images-idx3-ubyte.gz", rest.substr(image_bytes),
                                   "labels-idx1-ubyte.gz", /*class_count=*/10);
  });
}
