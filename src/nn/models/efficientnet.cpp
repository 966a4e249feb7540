// efficientnet_b0 (Tan & Le 2019) for 28x28 / 32x32 inputs:
//   stem 3x3 stride 1 (32w; stride 2 on ImageNet), stem_bn, SiLU
//   features.0 .. features.15: MBConv blocks from the B0 table
//     (expand ratio, kernel, stride, channels, repeats)
//     (1,3,1,16,1) (6,3,2,24,2) (6,5,2,40,2) (6,3,2,80,3) (6,5,1,112,3) (6,5,2,192,4) (6,3,1,320,1)
//     With the stem at stride 1, a 32x32 input ends at 2x2 (32-16-8-4-2) and so does a 28x28 input
//     (28-14-7-4-2), every kernel padded by k/2.
//     Each block: `expand` 1x1 (absent when the ratio is 1), expand_bn, SiLU; `depthwise` kxk
//     (groups = channels), depthwise_bn, SiLU; squeeze-excite `se` (global average pool,
//     `se.reduce` 1x1 to max(1, block input channels / 4), SiLU, `se.expand` 1x1, sigmoid, scale);
//     `project` 1x1, project_bn; plus the input when stride is 1 and the channel count is unchanged.
//     No stochastic depth and no dropout, so training stays deterministic.
//   last_conv 1x1 (4 x the last block's channels = 1280 at w = 1), last_bn, SiLU -> global average
//   pool -> classifier.
// Channel counts are c * w rounded to a multiple of 8 (torchvision's _make_divisible). Convs feeding a
// BatchNorm have no bias; the squeeze-excite convs have one.
#include <torch/torch.h>

#include "nn/models/inverted_residual.h"
#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

struct StageConfig {
  int64_t expand_ratio, kernel, stride, channels, repeats;
};

class EfficientNetB0 : public Model {
 public:
  explicit EfficientNetB0(const ModelSpec& spec) {
    static const StageConfig kStages[] = {{1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                                          {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
    const double w = spec.width_multiplier;
    int64_t in = make_divisible(32 * w);
    stem_ = register_module("stem", QConv2d(QConv2dOptions{spec.in_channels, in, 3, 1, 1, 1, 1, false}));
    stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(in));
    features_ = register_module("features", torch::nn::ModuleList());
    for (const auto& stage : kStages) {
      const int64_t out = make_divisible(static_cast<double>(stage.channels) * w);
      for (int64_t i = 0; i < stage.repeats; ++i) {
        InvertedResidualOptions block;
        block.in = in;
        block.out = out;
        block.expanded = stage.expand_ratio == 1 ? in : make_divisible(static_cast<double>(in * stage.expand_ratio));
        block.kernel = stage.kernel;
        block.stride = i == 0 ? stage.stride : 1;
        block.squeeze = std::max<int64_t>(1, in / 4);
        block.activation = BlockActivation::Silu;
        features_->push_back(InvertedResidual(block));
        in = out;
      }
    }
    const int64_t last = 4 * in;
    last_conv_ = register_module("last_conv", QConv2d(QConv2dOptions{in, last, 1, 1, 0, 1, 1, false}));
    last_bn_ = register_module("last_bn", torch::nn::BatchNorm2d(last));
    classifier_ = register_module("classifier", QLinear(QLinearOptions{last, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::silu(stem_bn_->forward(stem_->forward(images)));
    for (auto& block : *features_) x = block->as<InvertedResidualImpl>()->forward(x);
    x = torch::silu(last_bn_->forward(last_conv_->forward(x)));
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

std::shared_ptr<Model> make_efficientnet_b0(const ModelSpec& spec) { return std::make_shared<EfficientNetB0>(spec); }

}  // namespace bitline::nn::models
