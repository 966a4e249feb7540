#pragma once
// The DAISM macro type (docs/macros/daism.md) in the app: its config section (macros[].daism) and
// its registration traits (app/macros/registry.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config_schema.h"
#include "app/macros/macro_example.h"
#include "core/macro.h"

namespace bitline::app {

struct LayerQuantizationConfig;

struct DaismConfig {
  std::string format = "bf16";
  std::string variant = "precomputed_digits";
  int64_t k = 2;
  std::optional<int64_t> kept_columns;
  std::string rounding = "toward_zero";
  std::string accumulation = "fp32";
  std::string stored_operand = "weights";
  std::vector<std::string> train_products = {"forward", "input_gradient", "weight_gradient"};
};
template <class V>
void describe(V& v, DaismConfig& c) {
  v.field("format", c.format,
          Doc("operand format: bf16 (1-8-7, the paper's), fp16, fp32 (floats: the layer's fp32 operands rounded to "
              "it, nearest even), int8 (the quantizer's integer codes in sign-magnitude [assumed: the paper's integer "
              "support is unconfirmed])")
              .choices({"bf16", "fp16", "fp32", "int8"}));
  v.field("variant", c.variant,
          Doc("multiplier: exact; or (one row per multiplier bit, their OR); precomputed_digits (k-bit digits, rows of "
              "A x digit: PC2 = k 2, PC3 = k 3 [assumed reading]); precomputed_top (the top k bits exact, the rest "
              "ORed [the other reading])")
              .choices({"exact", "or", "precomputed_digits", "precomputed_top"}));
  v.field("k", c.k,
          Doc("precomputed_digits: digit width; precomputed_top: exact top bits; ignored by exact and or")
              .unit("bits")
              .range(1, 24));
  v.field("kept_columns", c.kept_columns,
          Doc("product columns sensed from the top, of 2n (n: mantissa bits with the hidden one, 8 for bf16): 9 = "
              "mantissa + 1 normalisation bit; null = all 2n")
              .unit("columns")
              .range(1, 48));
  v.field("rounding", c.rounding,
          Doc("of the kept product bits: toward_zero (the OR datapath has no rounder [assumed default]) or "
              "nearest_even")
              .choices({"toward_zero", "nearest_even"}));
  v.field("accumulation", c.accumulation,
          Doc("format of the products' running sum, added in K order [assumed default: fp32, the usual bf16 "
              "training choice]")
              .choices({"fp32", "bf16", "fp16"}));
  v.field("stored_operand", c.stored_operand,
          Doc("the forward product's operand held in the array (the other drives the wordlines) [assumed default: "
              "weights]; the gradient products store w (input gradient) and x (weight gradient)")
              .choices({"weights", "inputs"}));
  v.field("train_products", c.train_products,
          Doc("products of a training step run on the multiplier (the others in exact fp32); floating formats only")
              .choices({"forward", "input_gradient", "weight_gradient"}));
}

struct DaismType {
  using Config = DaismConfig;
  static constexpr const char* kName = "daism";
  static constexpr const char* kSummary =
      "DAISM digital approximate in-SRAM multiplier: OR of multi-row reads, precomputed digits, truncation; bf16 "
      "training and inference";
  static constexpr const char* kDocs = "docs/macros/daism.md";
  static std::shared_ptr<const core::MacroSpec> build(const Config& config, const std::string& key);
  static void check(const Config&, const LayerQuantizationConfig&, const std::string&, const std::string&) {}
  static std::vector<MacroExample<Config>> examples();
};

}  // namespace bitline::app
