// vit: a tiny Vision Transformer (Dosovitskiy et al. 2021), pre-norm, no dropout.
//   patch_embed: QConv2d(in, D, kernel = stride = patch) -> tokens [N, (S/patch)^2, D]
//   prepend the learnable cls token, add the learnable position embedding (both N(0, 0.02^2))
//   blocks.0 .. blocks.(depth-1):
//     x = x + attn.proj(merge(attn.av(softmax(attn.qk(Q, K^T) * head_dim^-0.5), V)))
//           with Q, K, V = split_heads(attn.qkv(norm1(x)))
//     x = x + mlp.fc2(GELU(mlp.fc1(norm2(x))))          (hidden width D * mlp_ratio)
//   norm (LayerNorm) -> head on the cls token.
// The attention products are QMatmul layers on [N, heads, T, head_dim] tensors, so they quantize
// and map onto macros like any other layer.
#include <torch/torch.h>

#include <cmath>

#include <fmt/format.h>

#include "nn/models/zoo.h"
#include "nn/quant_layers.h"

namespace bitline::nn::models {
namespace {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads, double scale) : heads_(heads), scale_(scale) {
    qkv = register_module("qkv", QLinear(QLinearOptions{dim, 3 * dim}));
    qk = register_module("qk", QMatmul());
    av = register_module("av", QMatmul());
    proj = register_module("proj", QLinear(QLinearOptions{dim, dim}));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    const int64_t n = x.size(0), t = x.size(1), d = x.size(2);
    // [N, T, 3D] -> [3, N, heads, T, head_dim]
    auto parts = qkv->forward(x).reshape({n, t, 3, heads_, d / heads_}).permute({2, 0, 3, 1, 4});
    auto q = parts[0], k = parts[1], v = parts[2];
    auto scores = qk->forward(q, k.transpose(-2, -1)) * scale_;
    auto weights = torch::softmax(scores, -1, torch::kFloat);
    auto y = av->forward(weights, v);  // [N, heads, T, head_dim]
    return proj->forward(y.transpose(1, 2).reshape({n, t, d}));
  }

  QLinear qkv{nullptr}, proj{nullptr};
  QMatmul qk{nullptr}, av{nullptr};

 private:
  int64_t heads_;
  double scale_;
};
TORCH_MODULE(Attention);

class MlpBlockImpl : public torch::nn::Module {
 public:
  MlpBlockImpl(int64_t dim, int64_t hidden) {
    fc1 = register_module("fc1", QLinear(QLinearOptions{dim, hidden}));
    fc2 = register_module("fc2", QLinear(QLinearOptions{hidden, dim}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2->forward(torch::gelu(fc1->forward(x))); }

  QLinear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MlpBlock);

class EncoderBlockImpl : public torch::nn::Module {
 public:
  EncoderBlockImpl(int64_t dim, int64_t heads, int64_t mlp_hidden, double attention_scale) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    attn = register_module("attn", Attention(dim, heads, attention_scale));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    mlp = register_module("mlp", MlpBlock(dim, mlp_hidden));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = x + attn->forward(norm1->forward(x));
    return y + mlp->forward(norm2->forward(y));
  }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  MlpBlock mlp{nullptr};
};
TORCH_MODULE(EncoderBlock);

class VisionTransformer : public Model {
 public:
  explicit VisionTransformer(const ModelSpec& spec) {
    const int64_t dim = spec.vit_embed_dim;
    const int64_t grid = spec.image_size / spec.vit_patch_size;
    const int64_t tokens = grid * grid + 1;
    patch_embed_ = register_module(
        "patch_embed",
        QConv2d(QConv2dOptions{spec.in_channels, dim, spec.vit_patch_size, spec.vit_patch_size}));
    cls_token_ = register_parameter("cls_token", torch::randn({1, 1, dim}) * 0.02);
    pos_embed_ = register_parameter("pos_embed", torch::randn({1, tokens, dim}) * 0.02);
    blocks_ = register_module("blocks", torch::nn::ModuleList());
    // Scores are scaled by head_dim^-0.5 (standard) or embed_dim^-0.5 (ASiM's quirk, for parity).
    const int64_t scale_dim = spec.vit_attention_scale == "embed_dim" ? dim : dim / spec.vit_heads;
    const double attention_scale = 1.0 / std::sqrt(static_cast<double>(scale_dim));
    for (int64_t i = 0; i < spec.vit_depth; ++i) {
      blocks_->push_back(EncoderBlock(dim, spec.vit_heads, dim * spec.vit_mlp_ratio, attention_scale));
    }
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    head_ = register_module("head", QLinear(QLinearOptions{dim, spec.num_classes}));
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = patch_embed_->forward(images).flatten(2).transpose(1, 2);  // [N, T-1, D]
    x = torch::cat({cls_token_.expand({x.size(0), -1, -1}), x}, 1) + pos_embed_;
    for (auto& block : *blocks_) x = block->as<EncoderBlockImpl>()->forward(x);
    x = norm_->forward(x);
    return head_->forward(x.select(1, 0));
  }

 private:
  QConv2d patch_embed_{nullptr};
  torch::Tensor cls_token_, pos_embed_;
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  QLinear head_{nullptr};
};

}  // namespace

std::shared_ptr<Model> make_vit(const ModelSpec& spec) {
  if (spec.vit_patch_size < 1) {
    throw_input(fmt::format("model.vit.patch_size: expected a positive patch size, found {}", spec.vit_patch_size));
  }
  if (spec.image_size % spec.vit_patch_size != 0) {
    throw_input(fmt::format("model.vit.patch_size: image size {} is not divisible by patch size {}", spec.image_size,
                            spec.vit_patch_size));
  }
  if (spec.vit_embed_dim < 1) {
    throw_input(fmt::format("model.vit.embed_dim: expected a positive embedding width, found {}", spec.vit_embed_dim));
  }
  if (spec.vit_heads < 1) {
    throw_input(fmt::format("model.vit.heads: expected a positive head count, found {}", spec.vit_heads));
  }
  if (spec.vit_embed_dim % spec.vit_heads != 0) {
    throw_input(fmt::format("model.vit.heads: embed_dim {} is not divisible by {} heads", spec.vit_embed_dim,
                            spec.vit_heads));
  }
  if (spec.vit_depth < 1) {
    throw_input(fmt::format("model.vit.depth: expected at least 1 encoder block, found {}", spec.vit_depth));
  }
  if (spec.vit_mlp_ratio < 1) {
    throw_input(fmt::format("model.vit.mlp_ratio: expected a positive integer ratio, found {}", spec.vit_mlp_ratio));
  }
  return std::make_shared<VisionTransformer>(spec);
}

}  // namespace bitline::nn::models
