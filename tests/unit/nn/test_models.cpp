// The model zoo: every model builds for both dataset shapes, trains (gradients reach every
// parameter), exposes uniquely and stably named quant layers, and rejects impossible options with
// an InputError naming the config key.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "nn/model.h"
#include "nn/quant_layers.h"

namespace bitline::nn {
namespace {

struct InputKind {
  int64_t channels;
  int64_t size;
};

const InputKind kFashionMnist{1, 28};
const InputKind kCifar{3, 32};

// A spec for `name` on `input`, with the big models narrowed so the suite stays fast.
ModelSpec spec_for(const std::string& name, const InputKind& input) {
  ModelSpec spec;
  spec.name = name;
  spec.in_channels = input.channels;
  spec.image_size = input.size;
  spec.num_classes = 10;
  if (name == "mobilenetv2" || name == "efficientnet_b0" || name == "resnet20") spec.width_multiplier = 0.25;
  if (name == "vit") {
    spec.vit_depth = 2;
    spec.vit_embed_dim = 32;
  }
  return spec;
}

std::vector<std::string> layer_names(torch::nn::Module& model) {
  std::vector<std::string> names;
  for (const auto& [name, layer] : quant_layers(model)) names.push_back(name);
  return names;
}

bool all_finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

class ModelZooTest : public ::testing::TestWithParam<std::tuple<std::string, InputKind>> {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
  ModelSpec spec() const { return spec_for(std::get<0>(GetParam()), std::get<1>(GetParam())); }
  torch::Tensor images(int64_t batch) const {
    const auto& input = std::get<1>(GetParam());
    return torch::randn({batch, input.channels, input.size, input.size});
  }
};

TEST_P(ModelZooTest, ForwardMapsABatchToFiniteLogitsPerClass) {
  auto model = build_model(spec());
  auto logits = model->forward(images(2));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_TRUE(all_finite(logits));
}

TEST_P(ModelZooTest, EvalModeForwardGivesFiniteLogits) {
  auto model = build_model(spec());
  model->eval();
  torch::NoGradGuard no_grad;
  auto logits = model->forward(images(2));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_TRUE(all_finite(logits));
}

TEST_P(ModelZooTest, SgdStepSendsFiniteGradientsToEveryParameter) {
  auto model = build_model(spec());
  model->train();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  optimizer.zero_grad();
  auto loss = torch::nn::functional::cross_entropy(model->forward(images(2)), torch::tensor({3, 7}));
  loss.backward();
  ASSERT_FALSE(model->named_parameters().is_empty());
  for (const auto& param : model->named_parameters()) {
    ASSERT_TRUE(param.value().grad().defined()) << param.key() << " got no gradient";
    EXPECT_TRUE(all_finite(param.value().grad())) << param.key();
  }
  optimizer.step();
  for (const auto& param : model->named_parameters()) EXPECT_TRUE(all_finite(param.value())) << param.key();
}

TEST_P(ModelZooTest, QuantLayersAreNonEmptyUniquelyNamedAndStableAcrossConstructions) {
  auto first = build_model(spec());
  auto second = build_model(spec());
  const auto names = layer_names(*first);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(layer_names(*second), names);
  for (const auto& [name, layer] : quant_layers(*first)) EXPECT_EQ(layer->layer_name(), name);
}

TEST_P(ModelZooTest, QuantizedModeAfterCalibrationGivesFiniteLogits) {
  auto model = build_model(spec());
  model->eval();
  torch::NoGradGuard no_grad;
  set_observer_phase(*model, ObserverPhase::Calibrate);
  model->forward(images(2));
  set_observer_phase(*model, ObserverPhase::Frozen);
  LayerQuantSpec quantized;
  quantized.mode = LayerMode::Quantized;
  for (auto& [name, layer] : quant_layers(*model)) layer->set_spec(quantized);
  auto logits = model->forward(images(2));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_TRUE(all_finite(logits));
}

std::vector<std::tuple<std::string, InputKind>> all_models_and_inputs() {
  std::vector<std::tuple<std::string, InputKind>> cases;
  for (const auto& name : model_names()) {
    cases.emplace_back(name, kFashionMnist);
    cases.emplace_back(name, kCifar);
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelZooTest, ::testing::ValuesIn(all_models_and_inputs()),
                         [](const auto& info) {
                           const auto& input = std::get<1>(info.param);
                           return std::get<0>(info.param) + "_" + std::to_string(input.channels) + "x" +
                                  std::to_string(input.size) + "x" + std::to_string(input.size);
                         });

// ---- per-model structure ------------------------------------------------------------------------

class ModelStructureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    torch::manual_seed(0);
  }
  static std::map<std::string, std::shared_ptr<QuantLayer>> layers_by_name(Model& model) {
    std::map<std::string, std::shared_ptr<QuantLayer>> out;
    for (const auto& [name, layer] : quant_layers(model)) out[name] = layer;
    return out;
  }
};

TEST_F(ModelStructureTest, ModelNamesListsTheSevenZooModels) {
  EXPECT_EQ(model_names(), (std::vector<std::string>{"mlp", "lenet5", "cnn", "resnet20", "mobilenetv2",
                                                     "efficientnet_b0", "vit"}));
}

TEST_F(ModelStructureTest, VitAttentionProductsAreMatmulLayersInEveryBlock) {
  auto spec = spec_for("vit", kFashionMnist);
  auto model = build_model(spec);
  auto layers = layers_by_name(*model);
  for (int64_t i = 0; i < spec.vit_depth; ++i) {
    const std::string prefix = "blocks." + std::to_string(i) + ".attn.";
    for (const char* product : {"qk", "av"}) {
      ASSERT_TRUE(layers.count(prefix + product)) << prefix + product;
      EXPECT_EQ(layers[prefix + product]->kind(), "matmul");
    }
    for (const char* linear : {"qkv", "proj"}) {
      ASSERT_TRUE(layers.count(prefix + linear)) << prefix + linear;
      EXPECT_EQ(layers[prefix + linear]->kind(), "linear");
    }
    EXPECT_TRUE(layers.count("blocks." + std::to_string(i) + ".mlp.fc1"));
    EXPECT_TRUE(layers.count("blocks." + std::to_string(i) + ".mlp.fc2"));
  }
  EXPECT_EQ(layers.at("patch_embed")->kind(), "conv2d");
  EXPECT_EQ(layers.at("head")->kind(), "linear");
}

TEST_F(ModelStructureTest, MobileNetV2HasDepthwiseConvolutions) {
  auto model = build_model(spec_for("mobilenetv2", kCifar));
  auto layers = layers_by_name(*model);
  ASSERT_TRUE(layers.count("features.3.depthwise"));
  auto conv = std::dynamic_pointer_cast<QConv2dImpl>(layers["features.3.depthwise"]);
  ASSERT_TRUE(conv);
  EXPECT_GT(conv->options().groups, 1);
  EXPECT_EQ(conv->options().groups, conv->options().in_channels);
  EXPECT_TRUE(layers.count("features.3.expand"));
  EXPECT_TRUE(layers.count("features.3.project"));
  EXPECT_FALSE(layers.count("features.0.expand")) << "t = 1 blocks have no expansion conv";
  EXPECT_FALSE(layers.count("features.3.se.reduce")) << "mobilenetv2 blocks have no squeeze-excite";
}

TEST_F(ModelStructureTest, EfficientNetBlocksHaveSqueezeExciteConvolutions) {
  auto model = build_model(spec_for("efficientnet_b0", kCifar));
  auto layers = layers_by_name(*model);
  for (const char* name : {"features.1.expand", "features.1.depthwise", "features.1.se.reduce",
                           "features.1.se.expand", "features.1.project", "features.15.project", "classifier"}) {
    EXPECT_TRUE(layers.count(name)) << name;
  }
}

TEST_F(ModelStructureTest, ResNet20HasNineteenConvsTwoProjectionShortcutsAndAClassifier) {
  auto model = build_model(spec_for("resnet20", kCifar));
  auto layers = layers_by_name(*model);
  EXPECT_EQ(layers.size(), 22u);
  for (const char* name : {"conv1", "layer1.0.conv1", "layer1.2.conv2", "layer2.0.shortcut", "layer3.0.shortcut",
                           "layer3.2.conv2", "fc"}) {
    EXPECT_TRUE(layers.count(name)) << name;
  }
  EXPECT_FALSE(layers.count("layer1.0.shortcut")) << "identity shortcut where the shape is unchanged";
}

TEST_F(ModelStructureTest, ResNetDepthSetsBlocksPerStage) {
  ModelSpec spec = spec_for("resnet20", kCifar);
  spec.resnet_depth = 8;
  auto model = build_model(spec);
  EXPECT_EQ(layers_by_name(*model).size(), 10u);  // 7 convs + 2 shortcuts + fc
}

TEST_F(ModelStructureTest, MlpLayersFollowTheHiddenSizes) {
  ModelSpec spec = spec_for("mlp", kFashionMnist);
  spec.mlp_hidden_sizes = {64, 32, 16};
  auto model = build_model(spec);
  EXPECT_EQ(layer_names(*model), (std::vector<std::string>{"fc1", "fc2", "fc3", "head"}));
}

TEST_F(ModelStructureTest, CnnCostsAtMostTwoMillionMacsPerFashionMnistImage) {
  auto model = build_model(spec_for("cnn", kFashionMnist));
  model->eval();
  torch::NoGradGuard no_grad;
  model->forward(torch::randn({1, 1, 28, 28}));
  int64_t macs = 0;
  std::vector<std::string> names;
  for (const auto& [name, layer] : quant_layers(*model)) {
    macs += layer->last_macs_per_sample();
    names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "conv2", "conv3", "fc1", "fc2"}));
  EXPECT_EQ(macs, 1994240);
  EXPECT_LE(macs, 2'000'000);
}

TEST_F(ModelStructureTest, WidthMultiplierScalesConvChannels) {
  ModelSpec spec = spec_for("cnn", kFashionMnist);
  spec.width_multiplier = 0.5;
  auto model = build_model(spec);
  auto conv1 = std::dynamic_pointer_cast<QConv2dImpl>(layers_by_name(*model).at("conv1"));
  ASSERT_TRUE(conv1);
  EXPECT_EQ(conv1->options().out_channels, 8);
}

// ---- invalid options ------------------------------------------------------------------------------

void expect_input_error(const ModelSpec& spec, const std::string& key, const std::string& detail = "") {
  try {
    build_model(spec);
    ADD_FAILURE() << "expected InputError naming " << key;
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(key), std::string::npos) << message;
    if (!detail.empty()) {
      EXPECT_NE(message.find(detail), std::string::npos) << message;
    }
  }
}

TEST(ModelOptionsTest, UnknownModelNameThrowsInputErrorListingTheModels) {
  ModelSpec spec;
  spec.name = "resnet";
  expect_input_error(spec, "model.name", "unknown model 'resnet'; expected one of mlp, lenet5, cnn");
}

TEST(ModelOptionsTest, ResNetDepthNotSixNPlusTwoThrowsInputError) {
  ModelSpec spec = spec_for("resnet20", kCifar);
  spec.resnet_depth = 21;
  expect_input_error(spec, "model.resnet.depth", "found 21");
  spec.resnet_depth = 2;
  expect_input_error(spec, "model.resnet.depth");
}

TEST(ModelOptionsTest, VitPatchSizeNotDividingTheImageThrowsInputError) {
  ModelSpec spec = spec_for("vit", kFashionMnist);
  spec.vit_patch_size = 5;
  expect_input_error(spec, "model.vit.patch_size", "image size 28 is not divisible by patch size 5");
}

TEST(ModelOptionsTest, VitHeadsNotDividingTheEmbeddingThrowsInputError) {
  ModelSpec spec = spec_for("vit", kFashionMnist);
  spec.vit_embed_dim = 64;
  spec.vit_heads = 5;
  expect_input_error(spec, "model.vit.heads", "embed_dim 64 is not divisible by 5 heads");
}

TEST(ModelOptionsTest, NonPositiveWidthMultiplierThrowsInputError) {
  for (double w : {0.0, -1.0}) {
    ModelSpec spec = spec_for("cnn", kFashionMnist);
    spec.width_multiplier = w;
    expect_input_error(spec, "model.width_multiplier");
  }
}

TEST(ModelOptionsTest, NonPositiveShapesThrowInputError) {
  ModelSpec spec = spec_for("cnn", kFashionMnist);
  spec.num_classes = 0;
  expect_input_error(spec, "model.num_classes");
  spec = spec_for("cnn", kFashionMnist);
  spec.in_channels = 0;
  expect_input_error(spec, "model.in_channels");
  spec = spec_for("cnn", kFashionMnist);
  spec.image_size = 4;
  expect_input_error(spec, "model.image_size");
  spec = spec_for("mlp", kFashionMnist);
  spec.mlp_hidden_sizes = {128, 0};
  expect_input_error(spec, "model.mlp.hidden_sizes[1]");
}

}  // namespace
}  // namespace bitline::nn
