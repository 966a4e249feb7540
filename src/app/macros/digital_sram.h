#pragma once
// The all-digital SRAM macro type (docs/macros/digital_sram.md) in the app: its config section
// (macros[].digital_sram) and its registration traits (app/macros/registry.h).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/config_schema.h"
#include "app/macros/macro_example.h"
#include "core/macro.h"

namespace bitline::app {

struct LayerQuantizationConfig;

struct DigitalSramConfig {
  int64_t rows_per_activation = 255;
  int64_t input_bits_per_cycle = 1;
  std::string row_mapping = "packed";
};
template <class V>
void describe(V& v, DigitalSramConfig& c) {
  v.field("rows_per_activation", c.rows_per_activation,
          Doc("N: rows activated together; each column's adder tree sums their products exactly [assumed default: "
              "the analog macro's 255, for like-for-like comparisons]")
              .unit("rows")
              .range(1, 65536));
  v.field("input_bits_per_cycle", c.input_bits_per_cycle,
          Doc("input bits applied per cycle: 1 = bit-serial, more = bit-parallel").unit("bits").range(1, 16));
  v.field("row_mapping", c.row_mapping,
          Doc("packed: contiguous chunks of N rows [assumed default: nothing to align in an exact adder tree]; "
              "channel_aligned: whole input channels per tile, as the analog macro maps them")
              .choices({"packed", "channel_aligned"}));
}

struct DigitalSramType {
  using Config = DigitalSramConfig;
  static constexpr const char* kName = "digital_sram";
  static constexpr const char* kSummary =
      "all-digital SRAM CiM: bit-serial inputs, exact adder trees over N rows, shift-add (the digital baseline)";
  static constexpr const char* kDocs = "docs/macros/digital_sram.md";
  static std::shared_ptr<const core::MacroSpec> build(const Config& config, const std::string& key);
  static void check(const Config&, const LayerQuantizationConfig&, const std::string&, const std::string&) {}
  static std::vector<MacroExample<Config>> examples();
};

}  // namespace bitline::app
