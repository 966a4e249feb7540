#include "app/macros/ddc_pim.h"

#include "core/ddc_pim/macro.h"

namespace bitline::app {

std::shared_ptr<const core::MacroSpec> DdcPimType::build(const Config& config, const std::string&) {
  core::ddc_pim::Spec spec;
  spec.rows_per_activation = config.rows_per_activation;
  spec.input_bits_per_cycle = static_cast<int>(config.input_bits_per_cycle);
  spec.depthwise_blocks_per_column_group = config.depthwise_blocks_per_column_group;
  return std::make_shared<core::ddc_pim::DdcPimSpec>(spec);
}

std::vector<MacroExample<DdcPimConfig>> DdcPimType::examples() {
  DdcPimConfig wide;
  wide.rows_per_activation = 64;
  wide.input_bits_per_cycle = 2;
  wide.depthwise_blocks_per_column_group = 4;
  return {{"N = 255, bit-serial (the defaults)", DdcPimConfig{}, true},
          {"N = 64, 2 input bits per cycle, 4 depthwise blocks per column group", wide, true}};
}

}  // namespace bitline::app
