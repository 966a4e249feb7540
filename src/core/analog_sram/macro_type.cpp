#include "core/analog_sram/macro_type.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/analog_sram/calibration.h"

namespace bitline::core::analog_sram {
namespace {

using core::EventKind;
using cost::Part;

// The calibrated ADC full scale (FullScale::Calibrated) from a calibration pass's products.
class FullScaleCalibration : public core::ReadoutCalibration {
 public:
  explicit FullScaleCalibration(Spec base) : base_(std::move(base)) {}
  void add(const core::Macro& macro, const ProductShape& shape, const int32_t* x, const int32_t* w) override {
    statistics_.add(dynamic_cast<const Engine&>(macro).spec(), shape, x, w);
  }
  std::shared_ptr<const core::MacroSpec> finish() const override {
    Spec calibrated = base_;
    calibrated.calibrated_fraction = statistics_.full_scale_fraction(base_.calibration_percentile, base_.adc_levels());
    return std::make_shared<AnalogSramSpec>(calibrated);
  }

 private:
  Spec base_;
  MacStatistics statistics_;
};

bool has_kind(const std::vector<Cycle>& cycles, bool converted) {
  for (const auto& cycle : cycles) {
    if ((cycle.kind != CycleKind::Digital) == converted) return true;
  }
  return false;
}

}  // namespace

namespace {

Spec with_operands(Spec spec, const core::IntegerOperands& operands) {
  spec.weight_bits = operands.weight_bits;
  spec.input_bits = operands.input_bits;
  spec.signed_inputs = operands.signed_inputs;
  return spec;
}

}  // namespace

std::unique_ptr<core::Macro> AnalogSramSpec::for_operands(const core::IntegerOperands& operands) const {
  return std::make_unique<Engine>(with_operands(spec_, operands));  // validates
}

void AnalogSramSpec::check_operands(const core::IntegerOperands& operands) const {
  validate(with_operands(spec_, operands));
}

std::string AnalogSramSpec::readout() const {
  std::ostringstream out;
  if (spec_.converter) {
    out << spec_.converter->description();
  } else {
    out << spec_.adc_bits << "-bit ideal ADC";
  }
  if (!spec_.column_converters.empty()) {
    out << " (column 0 of a per-column table of " << spec_.column_converters.size() << " columns)";
  }
  if (spec_.variation.any()) {
    out << ", per-column gain sigma " << 100 * spec_.variation.gain_sigma << " %, offset sigma "
        << spec_.variation.offset_sigma_lsb << " LSB, chip " << spec_.variation.chip_seed;
  }
  return out.str();
}

std::vector<core::EventKind> AnalogSramSpec::emitted_kinds() const {
  return {EventKind::Mac,          EventKind::ArrayActivation,   EventKind::RowDrive,   EventKind::CellRead,
          EventKind::AdcConversion, EventKind::DigitalCycle,     EventKind::AdderTreeAddition,
          EventKind::VotedCycle,   EventKind::ShiftAdd,          EventKind::Accumulation};
}

std::unique_ptr<core::ReadoutCalibration> AnalogSramSpec::readout_calibration() const {
  if (spec_.full_scale != FullScale::Calibrated) return nullptr;
  return std::make_unique<FullScaleCalibration>(spec_);
}

cost::MacroInventory AnalogSramSpec::macro_inventory(const std::vector<const core::Macro*>& layers,
                                                     const cost::Hardware& hardware, const cost::ComponentLibrary& c) const {
  // One chip design serves every layer: its ADCs are as wide as the widest layer's.
  int adc_bits = 1, weight_bits = 1;
  bool converts = false, digital = false;
  for (const core::Macro* layer : layers) {
    const auto& engine = dynamic_cast<const Engine&>(*layer);
    converts = converts || has_kind(engine.cycles(), true);
    digital = digital || has_kind(engine.cycles(), false);
    adc_bits = std::max(adc_bits, engine.spec().adc_bits);
    weight_bits = std::max(weight_bits, engine.spec().weight_bits);
  }
  const auto rows = static_cast<double>(hardware.array_rows), columns = static_cast<double>(hardware.array_columns);
  const double adcs = converts ? std::ceil(columns / static_cast<double>(hardware.columns_per_adc)) : 0.0;
  cost::MacroInventory inventory = cost::array_inventory(hardware, c);
  inventory[static_cast<int>(Part::Adc)] = {adcs, std::ldexp(c.adc_area_um2_per_level, adc_bits)};
  inventory[static_cast<int>(Part::AdderTree)] = {digital ? columns * rows : 0.0, c.adder_area_um2_per_bit};
  inventory[static_cast<int>(Part::ShiftAdd)] = {adcs + (digital ? columns : 0.0), c.shift_add_area_um2};
  inventory[static_cast<int>(Part::Accumulator)] = {std::floor(columns / weight_bits), c.accumulator_area_um2};
  return inventory;
}

}  // namespace bitline::core::analog_sram
