#include "app/macros/digital_sram.h"

#include "core/digital_sram/digital_sram.h"

namespace bitline::app {

std::shared_ptr<const core::MacroSpec> DigitalSramType::build(const Config& config, const std::string&) {
  core::digital_sram::Spec spec;
  spec.rows_per_activation = config.rows_per_activation;
  spec.input_bits_per_cycle = static_cast<int>(config.input_bits_per_cycle);
  spec.row_mapping = config.row_mapping == "channel_aligned" ? core::RowMapping::ChannelAligned : core::RowMapping::Packed;
  return std::make_shared<core::digital_sram::DigitalSramSpec>(spec);
}

std::vector<MacroExample<DigitalSramConfig>> DigitalSramType::examples() {
  DigitalSramConfig wide;
  wide.rows_per_activation = 64;
  wide.input_bits_per_cycle = 3;
  wide.row_mapping = "channel_aligned";
  return {{"N = 255, bit-serial, packed (the defaults)", DigitalSramConfig{}, true},
          {"N = 64, 3 input bits per cycle, channel-aligned", wide, true}};
}

}  // namespace bitline::app
