#pragma once
// The analog SRAM macro as a core::MacroSpec: a configured Spec (its operand fields are set per
// layer by for_operands), which makes Engines, describes its readout, calibrates its ADC full
// scale and gives the area of one macro of the chip.
#include <memory>
#include <string>
#include <vector>

#include "core/analog_sram/engine.h"
#include "core/macro.h"

namespace bitline::core::analog_sram {

class AnalogSramSpec : public core::MacroSpec {
 public:
  explicit AnalogSramSpec(Spec spec) : spec_(std::move(spec)) {}
  // The knobs; weight_bits, input_bits and signed_inputs are those of the last layer it was made
  // for and are replaced by for_operands.
  const Spec& spec() const { return spec_; }

  std::string type() const override { return "analog_sram"; }
  core::OperandKind operand_kind() const override { return core::OperandKind::IntegerCodes; }
  // An Engine; std::invalid_argument (validate's message) for operands the knobs cannot serve.
  std::unique_ptr<core::Macro> for_operands(const core::IntegerOperands& operands) const override;
  void check_operands(const core::IntegerOperands& operands) const override;  // validate()
  // The column ADC: the converter's description (or "N-bit ideal ADC"), a per-column table and
  // variation where there are.
  std::string readout() const override;
  std::vector<core::EventKind> emitted_kinds() const override;
  // With adc.full_scale calibrated: the fraction of the full range that holds the configured
  // percentile of the layer's analog partial sums.
  std::unique_ptr<core::ReadoutCalibration> readout_calibration() const override;
  // Cells, ADCs (one per columns_per_adc columns, as wide as the widest layer's, when any layer
  // converts), row drivers, sense amplifiers, adder trees (one per column, an input per row, when
  // any layer has digital cycles), shift-adders (one per ADC and per adder tree) and accumulators
  // (one per output column of the widest layer's weights).
  cost::MacroInventory macro_inventory(const std::vector<const core::Macro*>& layers, const cost::Hardware& hardware,
                                       const cost::ComponentLibrary& library) const override;

 private:
  Spec spec_;
};

}  // namespace bitline::core::analog_sram
