// lenet5 (LeCun et al. 1998, with ReLU and max-pooling):
//   conv1 5x5 (6w), padding (32 - image_size) / 2 so 28x28 and 32x32 inputs both give 28x28 maps,
//   ReLU, max-pool 2 -> conv2 5x5 (16w), ReLU, max-pool 2 -> flatten -> fc1 120, ReLU -> fc2 84,
//   ReLU -> fc3 num_classes.
#include <torch/torch.h>

#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

int64_t conv1_padding(int64_t image_size) { return std::max<int64_t>(0, (32 - image_size) / 2); }

// Side of conv2's pooled output map.
int64_t final_map_size(int64_t image_size) {
  int64_t s = conv_out_size(image_size, 5, 1, conv1_padding(image_size));
  s /= 2;
  s = conv_out_size(s, 5, 1, 0);
  return s / 2;
}

class LeNet5 : public Model {
 public:
  explicit LeNet5(const ModelSpec& spec) {
    const int64_t c1 = scale_channels(6, spec.width_multiplier);
    const int64_t c2 = scale_channels(16, spec.width_multiplier);
    const int64_t side = final_map_size(spec.image_size);
    conv1_ = register_module("conv1", QConv2d(QConv2dOptions{spec.in_channels, c1, 5, 1, conv1_padding(spec.image_size)}));
    conv2_ = register_module("conv2", QConv2d(QConv2dOptions{c1, c2, 5}));
    fc1_ = register_module("fc1", QLinear(QLinearOptions{c2 * side * side, 120}));
    fc2_ = register_module("fc2", QLinear(QLinearOptions{120, 84}));
    fc3_ = register_module("fc3", QLinear(QLinearOptions{84, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::max_pool2d(torch::relu(conv1_->forward(images)), 2);
    x = torch::max_pool2d(torch::relu(conv2_->forward(x)), 2);
    x = torch::relu(fc1_->forward(x.flatten(1)));
    x = torch::relu(fc2_->forward(x));
    return fc3_->forward(x);
  }

 private:
  QConv2d conv1_{nullptr}, conv2_{nullptr};
  QLinear fc1_{nullptr}, fc2_{nullptr}, fc3_{nullptr};
};

}  // namespace

std::shared_ptr<Model> make_lenet5(const ModelSpec& spec) {
  // The padding grows as the image shrinks, so every positive image size leaves a map of at least 4x4.
  return std::make_shared<LeNet5>(spec);
}

}  // namespace bitline::nn::models
