#include "nn/quant_spec.h"

namespace bitline::nn {

std::string to_string(LayerMode mode) {
  switch (mode) {
    case LayerMode::Float: return "float";
    case LayerMode::Quantized: return "quantized";
    case LayerMode::Simulate: return "simulate";
  }
  return "unknown";
}

}  // namespace bitline::nn
