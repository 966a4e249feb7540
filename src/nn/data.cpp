#include "nn/data.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include "core/counter_hash.h"
#include "core/error.h"
#include "io/cifar.h"
#include "io/idx.h"

namespace bitline::nn {
namespace {

// Standard per-channel statistics of the training sets, pixels scaled to [0, 1].
const std::vector<float> kFashionMnistMean = {0.2860f}, kFashionMnistStd = {0.3530f};
const std::vector<float> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f}, kCifar10Std = {0.2470f, 0.2435f, 0.2616f};

// Hash streams of one image's augmentation.
enum AugmentStream : uint64_t { kCropRow = 1, kCropCol = 2, kFlip = 3 };

io::ImageSet first_samples(io::ImageSet set, const std::optional<int64_t>& limit) {
  if (!limit || *limit >= set.count) return set;
  const int64_t per_image = set.channels * set.height * set.width;
  set.count = *limit;
  set.pixels.resize(static_cast<std::size_t>(set.count * per_image));
  set.labels.resize(static_cast<std::size_t>(set.count));
  return set;
}

std::vector<float> to_floats(const std::optional<std::vector<double>>& values, const std::vector<float>& fallback) {
  if (!values) return fallback;
  return std::vector<float>(values->begin(), values->end());
}

}  // namespace

ImageDataset::ImageDataset(io::ImageSet images, std::vector<float> mean, std::vector<float> std)
    : images_(std::move(images)), mean_(std::move(mean)), std_(std::move(std)) {}

Batch ImageDataset::batch(const std::vector<int64_t>& indices, const AugmentOptions* augment, uint64_t seed,
                          int64_t epoch) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t c = images_.channels, h = images_.height, w = images_.width;
  auto images = torch::empty({n, c, h, w}, torch::kFloat32);
  auto labels = torch::empty({n}, torch::kInt64);
  float* out = images.data_ptr<float>();
  int64_t* label_out = labels.data_ptr<int64_t>();
  const bool augmenting = augment != nullptr && augment->enabled();
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t index = indices[static_cast<std::size_t>(i)];
      const uint8_t* pixels = images_.pixels.data() + index * c * h * w;
      int64_t shift_row = 0, shift_col = 0;
      bool flip = false;
      if (augmenting) {
        const int64_t pad = augment->random_crop_padding_px;
        const auto key = static_cast<uint64_t>(index);
        if (pad > 0) {
          shift_row = static_cast<int64_t>(core::bounded(core::counter_hash(seed, epoch, key, kCropRow), 2 * pad + 1)) - pad;
          shift_col = static_cast<int64_t>(core::bounded(core::counter_hash(seed, epoch, key, kCropCol), 2 * pad + 1)) - pad;
        }
        flip = augment->horizontal_flip && (core::counter_hash(seed, epoch, key, kFlip) & 1U);
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        // A zero pixel after padding normalizes to (0 - mean) / std, as torchvision's pad-then-normalize.
        for (int64_t y = 0; y < h; ++y) {
          for (int64_t x = 0; x < w; ++x) {
            const int64_t src_y = y + shift_row, src_x0 = x + shift_col;
            const int64_t src_x = flip ? (w - 1 - src_x0) : src_x0;
            const bool inside = src_y >= 0 && src_y < h && src_x >= 0 && src_x < w;
            const float value = inside ? pixels[(ch * h + src_y) * w + src_x] / 255.0f : 0.0f;
            out[((i * c + ch) * h + y) * w + x] = (value - mean_[ch]) / std_[ch];
          }
        }
      }
      label_out[i] = images_.labels[static_cast<std::size_t>(index)];
    }
  });
  return {images, labels};
}

Batch ImageDataset::range(int64_t begin, int64_t end) const {
  std::vector<int64_t> indices(static_cast<std::size_t>(end - begin));
  for (int64_t i = begin; i < end; ++i) indices[static_cast<std::size_t>(i - begin)] = i;
  return batch(indices);
}

Datasets load_datasets(const DataOptions& options) {
  io::ImageSet train, test;
  std::vector<float> mean, std;
  if (options.dataset == "fashion_mnist") {
    train = io::load_fashion_mnist(options.path, /*train=*/true);
    test = io::load_fashion_mnist(options.path, /*train=*/false);
    mean = kFashionMnistMean;
    std = kFashionMnistStd;
  } else if (options.dataset == "cifar10") {
    train = io::load_cifar10(options.path, /*train=*/true);
    test = io::load_cifar10(options.path, /*train=*/false);
    mean = kCifar10Mean;
    std = kCifar10Std;
  } else {
    throw InputError(fmt::format("data.dataset: expected fashion_mnist or cifar10, found '{}'", options.dataset));
  }
  if (options.normalize) {
    mean = to_floats(options.mean, mean);
    std = to_floats(options.std, std);
  } else {
    mean.assign(mean.size(), 0.0f);
    std.assign(std.size(), 1.0f);
  }
  return {ImageDataset(first_samples(std::move(train), options.train_samples), mean, std),
          ImageDataset(first_samples(std::move(test), options.test_samples), mean, std)};
}

std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) order[static_cast<std::size_t>(i)] = i;
  for (int64_t i = count - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(core::bounded(core::counter_hash(seed, epoch, static_cast<uint64_t>(i)),
                                                      static_cast<uint64_t>(i + 1)));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

}  // namespace bitline::nn
