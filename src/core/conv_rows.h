#pragma once
// The input patches of a 2-D convolution as the rows of a matrix product (im2col), on integer
// codes or fp32 values: the macros compute Y[rows, out] = X[rows, K] . W[out, K]^T with one row per (sample, output
// position) and K ordered like the weight's [out, in / groups, kh, kw] flattening.
#include <cstdint>

namespace bitline::core {

struct ConvGeometry {
  int64_t batch = 0, channels = 0, height = 0, width = 0;  // the NCHW input
  int64_t kernel = 1, stride = 1, padding = 0, dilation = 1;
  int64_t out_height() const { return (height + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1; }
  int64_t out_width() const { return (width + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1; }
  int64_t positions() const { return out_height() * out_width(); }
};

// rows[(n * positions + p) * (channel_count * kernel^2) + (c * kernel + kh) * kernel + kw] =
// input[n, first_channel + c, ...] under output position p; zero where the patch reads padding.
void conv_rows(const ConvGeometry& geometry, const int32_t* input, int64_t first_channel, int64_t channel_count,
               int32_t* rows);
// The same on fp32 values (the floating-point macros).
void conv_rows(const ConvGeometry& geometry, const float* input, int64_t first_channel, int64_t channel_count,
               float* rows);

}  // namespace bitline::core
