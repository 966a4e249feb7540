#pragma once
// Image datasets held in memory as uint8, turned into normalized float batches on demand.
// Augmentation and epoch order are pure functions of (seed, epoch, image index), so a run gives
// the same batches whatever the thread count, and a resumed run continues exactly.
#include <torch/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "io/image_set.h"

namespace bitline::nn {

struct AugmentOptions {
  int64_t random_crop_padding_px = 0;
  bool horizontal_flip = false;
  bool enabled() const { return random_crop_padding_px > 0 || horizontal_flip; }
};

struct DataOptions {
  std::string dataset = "fashion_mnist";  // fashion_mnist | cifar10
  std::filesystem::path path = "/usr/share/datasets/fashion-mnist";
  std::optional<int64_t> train_samples, test_samples;
  bool normalize = true;
  std::optional<std::vector<double>> mean, std;  // null = the dataset's standard statistics
  AugmentOptions augment;
};

struct Batch {
  torch::Tensor images;  // float [N, C, H, W]
  torch::Tensor labels;  // int64 [N]
};

class ImageDataset {
 public:
  ImageDataset(io::ImageSet images, std::vector<float> mean, std::vector<float> std);
  int64_t size() const { return images_.count; }
  int64_t channels() const { return images_.channels; }
  int64_t image_size() const { return images_.height; }
  // Images of `indices` in that order; augmented (keyed by seed, epoch, index) when `augment` is set.
  Batch batch(const std::vector<int64_t>& indices, const AugmentOptions* augment = nullptr, uint64_t seed = 0,
              int64_t epoch = 0) const;
  // Consecutive images [begin, end), not augmented.
  Batch range(int64_t begin, int64_t end) const;

 private:
  io::ImageSet images_;
  std::vector<float> mean_, std_;
};

struct Datasets {
  ImageDataset train, test;
};

// Loads and checks the dataset; throws InputError naming the path (and the Debian package that
// provides Fashion-MNIST) when it is missing or malformed.
Datasets load_datasets(const DataOptions& options);

// A permutation of [0, count) that depends only on (seed, epoch): Fisher-Yates on counter hashes.
std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch);

}  // namespace bitline::nn
