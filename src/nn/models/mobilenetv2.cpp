// mobilenetv2 (Sandler et al. 2018) adapted to 28x28 / 32x32 inputs:
//   stem 3x3 stride 1 (32w), stem_bn, ReLU6
//   features.0 .. features.16: inverted residual blocks from the (t, c, n, s) table
//     (1,16,1,1) (6,24,2,1) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1)
//     (ImageNet strides 2 of the stem and the 24-channel stage are 1 here, so a 32x32 input ends
//     at 4x4, a 28x28 input at 4x4 too). Each block: `expand` 1x1 (absent when t = 1), expand_bn,
//     ReLU6; `depthwise` 3x3 (groups = channels), depthwise_bn, ReLU6; `project` 1x1, project_bn;
//     plus the input when stride is 1 and the channel count is unchanged.
//   last_conv 1x1 (1280, scaled only when w > 1), last_bn, ReLU6 -> global average pool -> classifier.
// Channel counts are c * w rounded to a multiple of 8 (torchvision's _make_divisible). Convs have no
// bias (each feeds a BatchNorm).
#include <torch/torch.h>

#include "nn/models/inverted_residual.h"
#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

struct StageConfig {
  int64_t expand_ratio, channels, repeats, stride;
};

class MobileNetV2 : public Model {
 public:
  explicit MobileNetV2(const ModelSpec& spec) {
    static const StageConfig kStages[] = {{1, 16, 1, 1},  {6, 24, 2, 1},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                          {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
    const double w = spec.width_multiplier;
    int64_t in = make_divisible(32 * w);
    const int64_t last = make_divisible(1280 * std::max(1.0, w));
    stem_ = register_module("stem", QConv2d(QConv2dOptions{spec.in_channels, in, 3, 1, 1, 1, 1, false}));
    stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(in));
    features_ = register_module("features", torch::nn::ModuleList());
    for (const auto& stage : kStages) {
      const int64_t out = make_divisible(static_cast<double>(stage.channels) * w);
      for (int64_t i = 0; i < stage.repeats; ++i) {
        InvertedResidualOptions block;
        block.in = in;
        block.out = out;
        block.expanded = in * stage.expand_ratio;
        block.stride = i == 0 ? stage.stride : 1;
        features_->push_back(InvertedResidual(block));
        in = out;
      }
    }
    last_conv_ = register_module("last_conv", QConv2d(QConv2dOptions{in, last, 1, 1, 0, 1, 1, false}));
    last_bn_ = register_module("last_bn", torch::nn::BatchNorm2d(last));
    classifier_ = register_module("classifier", QLinear(QLinearOptions{last, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::nn::functional::relu6(stem_bn_->forward(stem_->forward(images)));
    for (auto& block : *features_) x = block->as<InvertedResidualImpl>()->forward(x);
    x = torch::nn::functional::relu6(last_bn_->forward(last_conv_->forward(x)));
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return classifier_->forward(x);
  }

 private:
  QConv2d stem_{nullptr}, last_conv_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr}, last_bn_{nullptr};
  torch::nn::ModuleList features_{nullptr};
  QLinear classifier_{nullptr};
};

}  // namespace

std::shared_ptr<Model> make_mobilenetv2(const ModelSpec& spec) { return std::make_shared<MobileNetV2>(spec); }

}  // namespace bitline::nn::models
