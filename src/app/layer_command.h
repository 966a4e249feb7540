#pragma once
// `bitline layer`: one conv2d or linear layer on the user's .npy tensors, in float, quantized or
// simulate mode, so that bitline can be checked against other references and measurements.
#include <string>

namespace bitline::app {

struct LayerCommandOptions {
  std::string config_path, input_path, weight_path, bias_path, output_path;
  bool allow_non_finite = false;  // run on NaN or infinite tensor values instead of refusing them
};

int run_layer_command(const LayerCommandOptions& options);

}  // namespace bitline::app
