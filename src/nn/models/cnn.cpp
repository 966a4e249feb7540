// cnn: the default small, fast CNN (Fashion-MNIST in a few epochs). Pooling after every conv keeps
// it cheap; the last pool keeps a 3x3 (28x28 input) or 4x4 (32x32) map instead of a global average,
// which would throw away the spatial layout the classifier needs.
//
//   layer  op                                  output (28x28x1 input)   MACs per image (w = 1)
//   conv1  3x3 pad 1, 16w, BN, ReLU, maxpool 2 16 x 14 x 14              28*28*16*9      =   112,896
//   conv2  3x3 pad 1, 32w, BN, ReLU, maxpool 2 32 x 7 x 7                14*14*32*16*9   =   903,168
//   conv3  3x3 pad 1, 64w, BN, ReLU, maxpool 2 64 x 3 x 3                7*7*64*32*9     =   903,168
//   fc1    576 -> 128, ReLU                                                               73,728
//   fc2    128 -> num_classes                                                              1,280
//                                                                        total           1,994,240
// Convs feeding a BatchNorm have no bias.
#include <torch/torch.h>

#include <fmt/format.h>

#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

class Cnn : public Model {
 public:
  explicit Cnn(const ModelSpec& spec) {
    const int64_t c1 = scale_channels(16, spec.width_multiplier);
    const int64_t c2 = scale_channels(32, spec.width_multiplier);
    const int64_t c3 = scale_channels(64, spec.width_multiplier);
    const int64_t side = spec.image_size / 2 / 2 / 2;
    conv1_ = register_module("conv1", QConv2d(QConv2dOptions{spec.in_channels, c1, 3, 1, 1, 1, 1, false}));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(c1));
    conv2_ = register_module("conv2", QConv2d(QConv2dOptions{c1, c2, 3, 1, 1, 1, 1, false}));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(c2));
    conv3_ = register_module("conv3", QConv2d(QConv2dOptions{c2, c3, 3, 1, 1, 1, 1, false}));
    bn3_ = register_module("bn3", torch::nn::BatchNorm2d(c3));
    fc1_ = register_module("fc1", QLinear(QLinearOptions{c3 * side * side, 128}));
    fc2_ = register_module("fc2", QLinear(QLinearOptions{128, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::max_pool2d(torch::relu(bn1_->forward(conv1_->forward(images))), 2);
    x = torch::max_pool2d(torch::relu(bn2_->forward(conv2_->forward(x))), 2);
    x = torch::max_pool2d(torch::relu(bn3_->forward(conv3_->forward(x))), 2);
    x = torch::relu(fc1_->forward(x.flatten(1)));
    return fc2_->forward(x);
  }

 private:
  QConv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  QLinear fc1_{nullptr}, fc2_{nullptr};
};

}  // namespace

std::shared_ptr<Model> make_cnn(const ModelSpec& spec) {
  if (spec.image_size < 8) {
    throw_input(fmt::format("model.image_size: cnn pools three times by 2 and needs images of at least 8x8 "
                            "pixels, found {}x{}",
                            spec.image_size, spec.image_size));
  }
  return std::make_shared<Cnn>(spec);
}

}  // namespace bitline::nn::models
