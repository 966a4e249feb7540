// The DAISM chip beside its baselines (core/daism/chip_comparison.h): each design's events per
// operation counted by hand from its description, the GEMM's totals, and bad settings.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/daism/chip_comparison.h"

namespace bitline::core::daism {
namespace {

DaismMacro bf16_macro(const std::string& variant, int kept_columns = 0) {
  Spec spec;
  spec.format = parse_operand_format("bf16");
  spec.multiplier.operand_bits = spec.format.operand_bits();
  spec.multiplier = parse_short_name(variant, spec.multiplier);
  spec.multiplier.kept_columns = kept_columns;
  return DaismMacro(spec, spec.format.operand_bits());
}

// The library's own technology: no scaling, so prices are the library's figures.
cost::Hardware reference_chip() {
  cost::Hardware hardware;
  hardware.technology = hardware.components.reference;
  hardware.clock_mhz = 500;
  return hardware;
}

const DesignCost& design(const std::vector<DesignCost>& designs, const std::string& name) {
  for (const auto& d : designs) {
    if (d.design == name) return d;
  }
  throw std::logic_error("no design " + name);
}

TEST(DaismChipComparison, DaismPricesTheMacrosOwnEventsOfOneRead) {
  const auto macro = bf16_macro("pc2");
  const auto designs = compare_designs(macro, reference_chip(), {64, 64, 64});
  const auto& d = design(designs, "daism");
  // 256 columns / (16 product + 8 exponent + 1 sign) = 10 products per read; 256 / 11 rows = 23 row groups.
  EXPECT_EQ(d.products_per_operation, 10);
  EXPECT_EQ(d.stored_elements_per_array, 23 * 10);
  EXPECT_EQ(d.events_per_operation, macro.count(ProductShape{1, 10, 1, 1}));
  EXPECT_EQ(d.operations, (64 * 64 * 64 + 9) / 10);
  EXPECT_EQ(d.cycles, std::ceil(static_cast<double>(d.operations) / 64));  // 64 arrays, one read a cycle
  // Writing one stored element: its 11 rows x 25 columns and the one addition making 3A.
  EXPECT_EQ(d.store_events_per_element.count(EventKind::CellWrite), 11 * 25);
  EXPECT_EQ(d.store_events_per_element.count({EventKind::PeripheralAddition, 10}), 1);
}

TEST(DaismChipComparison, BitSerialCountsItsCyclesRowByRow) {
  const auto designs = compare_designs(bf16_macro("pc2"), reference_chip(), {1, 256, 1});
  const auto& d = design(designs, "bit_serial");
  // n = 8, e = 8: 64 mantissa adds + 8 exponent adds + 1 sign XOR (two rows read, one written);
  // 8 tag loads + 26 product rows read out; 8 + 1 carry writes + 17 rows of the driving copy.
  EXPECT_EQ(d.cycles_per_operation, 73 + 34 + 26);
  EXPECT_EQ(d.products_per_operation, 256);
  EXPECT_EQ(d.stored_elements_per_array, 256 / 60 * 256);  // slots of 17 + 17 + 26 rows
  EXPECT_EQ(d.operations, 1);
  EXPECT_EQ(d.events_per_operation.count(EventKind::Sense), (73 + 34) * 256);
  EXPECT_EQ(d.events_per_operation.count(EventKind::CellWrite), (73 + 26) * 256);
  EXPECT_EQ(d.events_per_operation.count(EventKind::CellRead), (2 * 73 + 34) * 256);
  EXPECT_EQ(d.events_per_operation.count(EventKind::RowDrive), 3 * 73 + 34 + 26);
}

TEST(DaismChipComparison, MacArrayEnergyPerProductFromTheLibrary) {
  const auto hardware = reference_chip();
  const auto& c = hardware.components;
  const auto designs = compare_designs(bf16_macro("pc2"), hardware, {16, 16, 16});
  const auto& d = design(designs, "mac_array");
  EXPECT_EQ(d.products_per_operation, 16);  // 256 columns of 16-bit bf16 elements
  EXPECT_EQ(d.operations, 16 * 16 * 16 / 16);
  // Per product: its 16 cells and columns read, an 8 x 8 multiply, a 9-bit exponent add, an 8-bit
  // normalisation and an fp32 addition; per row read, one wordline driver.
  const double per_product = 16 * (c.cell_energy_fj * 1e-3 + c.column_read_energy_pj) +
                             64 * c.multiplier_energy_pj_per_bit_squared + (9 + 8) * c.adder_energy_pj_per_bit +
                             24 * c.float_add_energy_pj_per_significand_bit + c.dac_energy_pj / 16;
  EXPECT_NEAR(d.energy_pj_per_product(), per_product, 1e-9 * per_product);
  EXPECT_NEAR(d.tops_per_w, 2 / (per_product * 1e-12) * 1e-12, 1e-9 * d.tops_per_w);
}

TEST(DaismChipComparison, TruncationPacksMoreProductsPerRead) {
  const auto full = design(compare_designs(bf16_macro("pc2"), reference_chip(), {512, 64, 64}), "daism");
  const auto kept9 = design(compare_designs(bf16_macro("pc2", 9), reference_chip(), {512, 64, 64}), "daism");
  EXPECT_EQ(kept9.products_per_operation, 256 / (9 + 9));
  EXPECT_LT(kept9.cycles, full.cycles);
  EXPECT_LT(kept9.energy_pj_per_product(), full.energy_pj_per_product());
}

TEST(DaismChipComparison, BadSettingsNameTheField) {
  const auto macro = bf16_macro("pc2");
  try {
    compare_designs(macro, reference_chip(), {0, 1, 1});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "gemm m must be >= 1, found 0");
  }
  auto small = reference_chip();
  small.array_rows = 8;
  try {
    compare_designs(macro, small, {1, 1, 1});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("array_rows x array_columns must hold one stored element"), std::string::npos)
        << error.what();
  }
}

TEST(DaismStoreEvents, OneAdditionPerPrecomputedMultiple) {
  const ProductShape shape{4, 3, 2, 5};  // 3 stored elements per K index, K = 10
  EXPECT_EQ(bf16_macro("pc3").store_events(shape).count({EventKind::PeripheralAddition, 11}), 3 * 10 * 3);
  EXPECT_TRUE(bf16_macro("or").store_events(shape).empty());
}

}  // namespace
}  // namespace bitline::core::daism
