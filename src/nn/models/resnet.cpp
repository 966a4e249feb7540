// resnet20 (and every CIFAR ResNet of depth 6n+2; He et al. 2016, section 4.2):
//   conv1 3x3 (16w), bn1, ReLU
//   layer1 .. layer3: n BasicBlocks each, widths 16w, 32w, 64w; the first block of layer2 and
//     layer3 has stride 2. BasicBlock: conv1 3x3, bn1, ReLU, conv2 3x3, bn2, + shortcut, ReLU,
//     where the shortcut is identity or, when the shape changes, a 1x1 strided projection
//     `shortcut` + `shortcut_bn` (option B).
//   global average pool -> fc.
// Convs have no bias (each feeds a BatchNorm).
#include <torch/torch.h>

#include <fmt/format.h>

#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

QConv2dOptions conv3x3(int64_t in, int64_t out, int64_t stride) {
  return QConv2dOptions{in, out, 3, stride, 1, 1, 1, false};
}

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", QConv2d(conv3x3(in, out, stride)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(out));
    conv2 = register_module("conv2", QConv2d(conv3x3(out, out, 1)));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      shortcut = register_module("shortcut", QConv2d(QConv2dOptions{in, out, 1, stride, 0, 1, 1, false}));
      shortcut_bn = register_module("shortcut_bn", torch::nn::BatchNorm2d(out));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1->forward(conv1->forward(x)));
    y = bn2->forward(conv2->forward(y));
    auto identity = shortcut ? shortcut_bn->forward(shortcut->forward(x)) : x;
    return torch::relu(y + identity);
  }

  QConv2d conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, shortcut_bn{nullptr};
};
TORCH_MODULE(BasicBlock);

class CifarResNet : public Model {
 public:
  explicit CifarResNet(const ModelSpec& spec) {
    const int64_t blocks_per_stage = (spec.resnet_depth - 2) / 6;
    const int64_t widths[3] = {scale_channels(16, spec.width_multiplier), scale_channels(32, spec.width_multiplier),
                               scale_channels(64, spec.width_multiplier)};
    conv1_ = register_module("conv1", QConv2d(conv3x3(spec.in_channels, widths[0], 1)));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(widths[0]));
    int64_t in = widths[0];
    for (int stage = 0; stage < 3; ++stage) {
      torch::nn::ModuleList blocks;
      for (int64_t b = 0; b < blocks_per_stage; ++b) {
        const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
        blocks->push_back(BasicBlock(in, widths[stage], stride));
        in = widths[stage];
      }
      stages_.push_back(register_module(fmt::format("layer{}", stage + 1), blocks));
    }
    fc_ = register_module("fc", QLinear(QLinearOptions{in, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::relu(bn1_->forward(conv1_->forward(images)));
    for (auto& stage : stages_) {
      for (auto& block : *stage) x = block->as<BasicBlockImpl>()->forward(x);
    }
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc_->forward(x);
  }

 private:
  QConv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<torch::nn::ModuleList> stages_;
  QLinear fc_{nullptr};
};

}  // namespace

std::shared_ptr<Model> make_resnet(const ModelSpec& spec) {
  if (spec.resnet_depth < 8 || (spec.resnet_depth - 2) % 6 != 0) {
    throw_input(fmt::format("model.resnet.depth: expected 6n+2 (8, 14, 20, 32, ...), found {}", spec.resnet_depth));
  }
  return std::make_shared<CifarResNet>(spec);
}

}  // namespace bitline::nn::models
