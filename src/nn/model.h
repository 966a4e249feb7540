#pragma once
// The model zoo. Every model is trainable on 28x28x1 (Fashion-MNIST) and 32x32x3 (CIFAR-10)
// inputs, and builds its linear, conv and attention products from nn/quant_layers.h.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace bitline::nn {

struct ModelSpec {
  std::string name = "cnn";  // one of model_names()
  int64_t in_channels = 1;
  int64_t image_size = 28;   // square inputs, height = width
  int64_t num_classes = 10;
  double width_multiplier = 1.0;  // channel widths of cnn, lenet5, resnet20, mobilenetv2, efficientnet_b0
  std::vector<int64_t> mlp_hidden_sizes = {256, 128};
  int64_t resnet_depth = 20;       // 6n + 2
  int64_t vit_patch_size = 4;
  int64_t vit_depth = 4;
  int64_t vit_heads = 4;
  int64_t vit_embed_dim = 64;
  int64_t vit_mlp_ratio = 2;
  std::string vit_attention_scale = "head_dim";  // or "embed_dim" (ASiM)
};

class Model : public torch::nn::Module {
 public:
  // Images [N, C, H, W] -> logits [N, num_classes].
  virtual torch::Tensor forward(torch::Tensor images) = 0;
};

const std::vector<std::string>& model_names();
// Throws bitline::InputError for an unknown name or options the model cannot take
// (e.g. resnet depth not 6n+2, image size not divisible by the ViT patch size).
std::shared_ptr<Model> build_model(const ModelSpec& spec);

}  // namespace bitline::nn
