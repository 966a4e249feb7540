#pragma once
// The DDC-PIM macro type (docs/macros/ddc_pim.md) in the app: its config section
// (macros[].ddc_pim) and its registration traits (app/macros/registry.h). Which layers are paired
// and how their codes are encoded is the network's (train.fcc), not the macro's.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/config_schema.h"
#include "app/macros/macro_example.h"
#include "core/macro.h"

namespace bitline::app {

struct LayerQuantizationConfig;

struct DdcPimConfig {
  int64_t rows_per_activation = 255;
  int64_t input_bits_per_cycle = 1;
  int64_t depthwise_blocks_per_column_group = 1;
};
template <class V>
void describe(V& v, DdcPimConfig& c) {
  v.field("rows_per_activation", c.rows_per_activation,
          Doc("N: rows activated together; the Q-side and Q̄-side adder trees of each column sum their products "
              "exactly [assumed default: digital_sram's 255, so the two compare like for like]")
              .unit("rows")
              .range(1, 65536));
  v.field("input_bits_per_cycle", c.input_bits_per_cycle,
          Doc("input bits applied per cycle: 1 = bit-serial [assumed default]").unit("bits").range(1, 16));
  v.field("depthwise_blocks_per_column_group", c.depthwise_blocks_per_column_group,
          Doc("depthwise layers: channel blocks of k² rows that one column group holds, each read out by its own "
              "segment of the adder tree (the reconfigurable unit); 1 = block-diagonal placement only, as in "
              "digital_sram [assumed default: the paper's packing factor is unknown]")
              .unit("blocks")
              .range(1, 65536));
}

struct DdcPimType {
  using Config = DdcPimConfig;
  static constexpr const char* kName = "ddc_pim";
  static constexpr const char* kSummary =
      "DDC-PIM: digital SRAM CiM storing complementary filter pairs on Q and Q̄ of one 6T cell, dual broadcast for depthwise";
  static constexpr const char* kDocs = "docs/macros/ddc_pim.md";
  static std::shared_ptr<const core::MacroSpec> build(const Config& config, const std::string& key);
  static void check(const Config&, const LayerQuantizationConfig&, const std::string&, const std::string&) {}
  static std::vector<MacroExample<Config>> examples();
};

}  // namespace bitline::app
