#pragma once
// Internal to the model zoo: the inverted-residual (MBConv) block that mobilenetv2 and
// efficientnet_b0 share:
//   `expand` 1x1 (absent when it would not widen), expand_bn, activation;
//   `depthwise` kxk (groups = channels, padding k/2), depthwise_bn, activation;
//   optional squeeze-excite `se` (global average pool, `se.reduce` 1x1, SiLU, `se.expand` 1x1,
//   sigmoid, scale);
//   `project` 1x1, project_bn; plus the input when stride is 1 and the channel count is unchanged.
// Convs that feed a BatchNorm have no bias; the squeeze-excite convs have one.
#include <torch/torch.h>

#include "nn/quant_layers.h"

namespace bitline::nn::models {

enum class BlockActivation { Relu6, Silu };

inline torch::Tensor activate(BlockActivation activation, const torch::Tensor& x) {
  return activation == BlockActivation::Relu6 ? torch::nn::functional::relu6(x) : torch::silu(x);
}

struct InvertedResidualOptions {
  int64_t in = 0, out = 0;
  int64_t expanded = 0;  // channels after the 1x1 expansion; equal to `in`: no expansion
  int64_t kernel = 3, stride = 1;
  int64_t squeeze = 0;   // squeeze-excite channels; 0: no squeeze-excite
  BlockActivation activation = BlockActivation::Relu6;
};

class SqueezeExciteImpl : public torch::nn::Module {
 public:
  SqueezeExciteImpl(int64_t channels, int64_t squeezed) {
    reduce = register_module("reduce", QConv2d(QConv2dOptions{channels, squeezed, 1}));
    expand = register_module("expand", QConv2d(QConv2dOptions{squeezed, channels, 1}));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto s = torch::adaptive_avg_pool2d(x, {1, 1});
    s = torch::silu(reduce->forward(s));
    s = torch::sigmoid(expand->forward(s));
    return x * s;
  }

  QConv2d reduce{nullptr}, expand{nullptr};
};
TORCH_MODULE(SqueezeExcite);

class InvertedResidualImpl : public torch::nn::Module {
 public:
  explicit InvertedResidualImpl(const InvertedResidualOptions& o)
      : activation_(o.activation), use_residual_(o.stride == 1 && o.in == o.out) {
    if (o.expanded != o.in) {
      expand = register_module("expand", QConv2d(QConv2dOptions{o.in, o.expanded, 1, 1, 0, 1, 1, false}));
      expand_bn = register_module("expand_bn", torch::nn::BatchNorm2d(o.expanded));
    }
    depthwise = register_module(
        "depthwise", QConv2d(QConv2dOptions{o.expanded, o.expanded, o.kernel, o.stride, o.kernel / 2, 1, o.expanded, false}));
    depthwise_bn = register_module("depthwise_bn", torch::nn::BatchNorm2d(o.expanded));
    if (o.squeeze > 0) se = register_module("se", SqueezeExcite(o.expanded, o.squeeze));
    project = register_module("project", QConv2d(QConv2dOptions{o.expanded, o.out, 1, 1, 0, 1, 1, false}));
    project_bn = register_module("project_bn", torch::nn::BatchNorm2d(o.out));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = x;
    if (expand) y = activate(activation_, expand_bn->forward(expand->forward(y)));
    y = activate(activation_, depthwise_bn->forward(depthwise->forward(y)));
    if (se) y = se->forward(y);
    y = project_bn->forward(project->forward(y));
    return use_residual_ ? x + y : y;
  }

  QConv2d expand{nullptr}, depthwise{nullptr}, project{nullptr};
  torch::nn::BatchNorm2d expand_bn{nullptr}, depthwise_bn{nullptr}, project_bn{nullptr};
  SqueezeExcite se{nullptr};

 private:
  BlockActivation activation_;
  bool use_residual_;
};
TORCH_MODULE(InvertedResidual);

}  // namespace bitline::nn::models
