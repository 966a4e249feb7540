// mlp: flatten -> fc1 .. fcK (QLinear + ReLU, sizes from model.mlp.hidden_sizes) -> head.
#include <torch/torch.h>

#include <fmt/format.h>

#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

class Mlp : public Model {
 public:
  explicit Mlp(const ModelSpec& spec) {
    int64_t features = spec.in_channels * spec.image_size * spec.image_size;
    for (size_t i = 0; i < spec.mlp_hidden_sizes.size(); ++i) {
      const int64_t width = spec.mlp_hidden_sizes[i];
      hidden_.push_back(register_module(fmt::format("fc{}", i + 1), QLinear(QLinearOptions{features, width})));
      features = width;
    }
    head_ = register_module("head", QLinear(QLinearOptions{features, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = images.flatten(1);
    for (auto& fc : hidden_) x = torch::relu(fc->forward(x));
    return head_->forward(x);
  }

 private:
  std::vector<QLinear> hidden_;
  QLinear head_{nullptr};
};

}  // namespace

std::shared_ptr<Model> make_mlp(const ModelSpec& spec) {
  for (size_t i = 0; i < spec.mlp_hidden_sizes.size(); ++i) {
    if (spec.mlp_hidden_sizes[i] < 1) {
      throw_input(fmt::format("model.mlp.hidden_sizes[{}]: expected a positive layer width, found {}", i,
                              spec.mlp_hidden_sizes[i]));
    }
  }
  return std::make_shared<Mlp>(spec);
}

}  // namespace bitline::nn::models
