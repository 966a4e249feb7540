#pragma once
// The SOT-MRAM FP PIM macro type (docs/macros/sot_mram_fp.md) in the app: its config section
// (macros[].sot_mram_fp) and its registration traits (app/macros/registry.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config_schema.h"
#include "app/macros/macro_example.h"
#include "core/macro.h"
#include "core/sot_mram/macro.h"

namespace bitline::app {

struct LayerQuantizationConfig;

// The device figures behind the primitives' costs: the core's struct (its defaults and sources are in
// core/sot_mram/macro.h), as an app type so that describe() is found beside it.
struct SotMramDeviceConfig : core::sot_mram::DeviceFigures {};
template <class V>
void describe(V& v, SotMramDeviceConfig& c) {
  v.field("read_energy_fj", c.read_energy_fj,
          Doc("sot_mram: energy of one read of a column's cells (a sense, the full add's multi-row read) [assumed: no "
              "published per-bit SOT read energy was found]")
              .unit("fJ")
              .range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
  v.field("write_energy_fj", c.write_energy_fj,
          Doc("sot_mram: energy of one SOT write pulse (imec 2023: below 100 fJ per bit, a news report)").unit("fJ").range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
  v.field("cycle_ns", c.cycle_ns,
          Doc("sot_mram: one read or write per cycle (Huang et al., Nature Electronics 2025: 1 ns SOT switching)")
              .unit("ns")
              .range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
  v.field("cell_area_f2", c.cell_area_f2,
          Doc("sot_mram: area of one 2T-2MTJ cell [assumed, low confidence: an NVSim SOT cell file of 60.61 F^2]")
              .unit("F^2")
              .range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
  v.field("nor_energy_fj", c.nor_energy_fj,
          Doc("magic_nor: energy of one NOR, NOT or INIT cycle per row (6.4 fJ: the RACER/ConvPIM figure)")
              .unit("fJ")
              .range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
  v.field("nor_cycle_ns", c.nor_cycle_ns,
          Doc("magic_nor: one gate per cycle (FloatPIM: 1 ns memristor switching; ConvPIM uses 3 ns)").unit("ns").range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
  v.field("nor_cell_area_f2", c.nor_cell_area_f2,
          Doc("magic_nor: area of one crossbar cell [assumed: 4 F^2, a 1R crossbar]").unit("F^2").range(core::cost::kMinComponentFigure, core::cost::kMaxComponentFigure));
}

struct SotMramFpConfig {
  std::string format = "bf16";
  int64_t exponent_bits = 8;
  int64_t mantissa_bits = 7;
  std::string rounding = "toward_zero";
  std::string logic = "sot_mram";
  std::optional<std::string> exponent_difference;
  std::vector<std::string> train_products = {"forward", "input_gradient", "weight_gradient", "weight_update"};
  SotMramDeviceConfig device;
};
template <class V>
void describe(V& v, SotMramFpConfig& c) {
  v.field("format", c.format,
          Doc("number format of every operand, product, sum and stored weight: bf16 (1-8-7), fp16 (1-5-10), fp32 "
              "(1-8-23), or custom (exponent_bits, mantissa_bits) [the paper's format is unknown]")
              .choices({"bf16", "fp16", "fp32", "custom"}));
  v.field("exponent_bits", c.exponent_bits, Doc("format custom: exponent bits").unit("bits").range(2, 8));
  v.field("mantissa_bits", c.mantissa_bits,
          Doc("format custom: stored mantissa bits (without the hidden one)").unit("bits").range(1, 23));
  v.field("rounding", c.rounding,
          Doc("of products and sums: toward_zero (truncation, the shift-and-add datapath's [assumed default]; an add "
              "loses the smaller operand's bits past one guard bit) or nearest_even (correctly rounded)")
              .choices({"toward_zero", "nearest_even"}));
  v.field("logic", c.logic,
          Doc("sot_mram (the paper's cell: full add in one multi-row read, free complement, in-memory exponent search) "
              "or magic_nor (the FloatPIM-style baseline: ReRAM, stateful NOR/NOT only)")
              .choices({"sot_mram", "magic_nor"}));
  v.field("exponent_difference", c.exponent_difference,
          Doc("how an add finds the exponent difference: search (one in-memory search read) or subtract (e + 1 full "
              "adds); null = search on sot_mram, subtract on magic_nor")
              .choices({"search", "subtract"}));
  v.field("train_products", c.train_products,
          Doc("what of a training step runs on the macro (the rest in exact fp32 on the host): forward, "
              "input_gradient, weight_gradient, weight_update (plain SGD in place, in the format)")
              .choices({"forward", "input_gradient", "weight_gradient", "weight_update"}));
  v.section("device", c.device, Doc("device figures behind the primitives' cycles and energies"));
}

struct SotMramFpType {
  using Config = SotMramFpConfig;
  static constexpr const char* kName = "sot_mram_fp";
  static constexpr const char* kSummary =
      "SOT-MRAM floating-point digital PIM for training: FP multiply and add as in-memory programs of bit "
      "primitives (or MAGIC NOR, the FloatPIM-style baseline)";
  static constexpr const char* kDocs = "docs/macros/sot_mram_fp.md";
  static std::shared_ptr<const core::MacroSpec> build(const Config& config, const std::string& key);
  static void check(const Config&, const LayerQuantizationConfig&, const std::string&, const std::string&) {}
  static std::vector<MacroExample<Config>> examples();
};

}  // namespace bitline::app
