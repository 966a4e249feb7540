#pragma once
// An in-memory image classification data set of 8-bit images, as read from IDX or CIFAR files.
#include <cstdint>
#include <vector>

namespace bitline::io {

struct ImageSet {
  int64_t count = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> pixels;  // NCHW, count * channels * height * width bytes
  std::vector<uint8_t> labels;  // count class indices
};

}  // namespace bitline::io
