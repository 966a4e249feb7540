#include "core/conv_rows.h"

#include <algorithm>

namespace bitline::core {

namespace {

// One patch row of a k-wide kernel: out[kx] = line[x0 + kx * dilation], zero outside [0, width).
// kKernel > 0 fixes k at compile time (the common 3x3 case unrolls).
template <int kKernel, class T>
inline void patch_line(const T* line, int64_t x0, int64_t width, int64_t kernel, int64_t dilation, bool interior,
                       T* out) {
  const int64_t k = kKernel > 0 ? kKernel : kernel;
  if (interior) {  // no column of the patch reads padding
    for (int64_t kx = 0; kx < k; ++kx) out[kx] = line[x0 + kx * dilation];
    return;
  }
  for (int64_t kx = 0; kx < k; ++kx) {
    const int64_t x = x0 + kx * dilation;
    out[kx] = (x < 0 || x >= width) ? 0 : line[x];
  }
}

template <int kKernel, class T>
void conv_rows_of(const ConvGeometry& g, const T* input, int64_t first_channel, int64_t channel_count, T* rows) {
  const int64_t out_h = g.out_height(), out_w = g.out_width(), k = kKernel > 0 ? kKernel : g.kernel;
  const int64_t depth = channel_count * k * k, plane = g.height * g.width;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const T* sample = input + (n * g.channels + first_channel) * plane;
      for (int64_t ox = 0; ox < out_w; ++ox) {
        T* row = rows + ((n * out_h + oy) * out_w + ox) * depth;
        const int64_t x0 = ox * g.stride - g.padding;
        const bool interior = x0 >= 0 && x0 + (k - 1) * g.dilation < g.width;
        for (int64_t c = 0; c < channel_count; ++c) {
          const T* channel = sample + c * plane;
          for (int64_t ky = 0; ky < k; ++ky) {
            const int64_t y = oy * g.stride - g.padding + ky * g.dilation;
            T* out = row + (c * k + ky) * k;
            if (y < 0 || y >= g.height) {
              std::fill(out, out + k, T{0});
            } else {
              patch_line<kKernel, T>(channel + y * g.width, x0, g.width, k, g.dilation, interior, out);
            }
          }
        }
      }
    }
  }
}

template <class T>
void conv_rows_any(const ConvGeometry& g, const T* input, int64_t first_channel, int64_t channel_count, T* rows) {
  switch (g.kernel) {
    case 1: conv_rows_of<1>(g, input, first_channel, channel_count, rows); break;
    case 3: conv_rows_of<3>(g, input, first_channel, channel_count, rows); break;
    default: conv_rows_of<0>(g, input, first_channel, channel_count, rows); break;
  }
}

}  // namespace

void conv_rows(const ConvGeometry& g, const int32_t* input, int64_t first_channel, int64_t channel_count,
               int32_t* rows) {
  conv_rows_any(g, input, first_channel, channel_count, rows);
}

void conv_rows(const ConvGeometry& g, const float* input, int64_t first_channel, int64_t channel_count, float* rows) {
  conv_rows_any(g, input, first_channel, channel_count, rows);
}

}  // namespace bitline::core
