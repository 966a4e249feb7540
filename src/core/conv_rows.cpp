#include "core/conv_rows.h"

#include <algorithm>

namespace bitline::core {

void conv_rows(const ConvGeometry& g, const int32_t* input, int64_t first_channel, int64_t channel_count,
               int32_t* rows) {
  const int64_t out_h = g.out_height(), out_w = g.out_width(), k = g.kernel;
  const int64_t depth = channel_count * k * k, plane = g.height * g.width;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const int32_t* sample = input + (n * g.channels + first_channel) * plane;
      for (int64_t ox = 0; ox < out_w; ++ox) {
        int32_t* row = rows + ((n * out_h + oy) * out_w + ox) * depth;
        for (int64_t c = 0; c < channel_count; ++c) {
          const int32_t* channel = sample + c * plane;
          for (int64_t ky = 0; ky < k; ++ky) {
            const int64_t y = oy * g.stride - g.padding + ky * g.dilation;
            int32_t* out = row + (c * k + ky) * k;
            if (y < 0 || y >= g.height) {
              std::fill(out, out + k, 0);
              continue;
            }
            for (int64_t kx = 0; kx < k; ++kx) {
              const int64_t x = ox * g.stride - g.padding + kx * g.dilation;
              out[kx] = (x < 0 || x >= g.width) ? 0 : channel[y * g.width + x];
            }
          }
        }
      }
    }
  }
}

}  // namespace bitline::core
