// The sot_mram_fp macro: its three training products and the update equal the functional model on
// the operands rounded to the format; count equals the recorded events; the expected primitive
// counts and the logic families' costs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/sot_mram/fp_format.h"
#include "core/sot_mram/macro.h"
#include "core/sot_mram/training_cost.h"

namespace bitline::core::sot_mram {
namespace {

std::vector<float> normal_values(std::mt19937& rng, int64_t count) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& v : values) v = normal(rng);
  return values;
}

std::vector<float> rounded(std::vector<float> values, const NumberFormat& format) {
  for (auto& v : values) v = to_format(v, format);
  return values;
}

std::unique_ptr<Macro> macro_of(const Spec& spec) { return SotMramFpSpec(spec).for_format(spec.engine.format); }

TEST(SotMramMacro, TheThreeProductsAndTheUpdateEqualTheFunctionalModel) {
  std::mt19937 rng(5);
  for (const Rounding rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
    for (const NumberFormat format : {NumberFormat{8, 7}, NumberFormat{5, 10}, NumberFormat{8, 23}}) {
      Spec spec;
      spec.engine = {format, rounding, ExponentDifference::Search};
      const auto macro = macro_of(spec);
      const ProductShape shape{6, 5, 4, 9};  // a 3x3 conv: K = 36
      const int64_t depth = shape.depth();
      const auto x = normal_values(rng, shape.rows * depth), w = normal_values(rng, shape.cols * depth);
      const auto dy = normal_values(rng, shape.rows * shape.cols);
      const auto xr = rounded(x, format), wr = rounded(w, format), dyr = rounded(dy, format);

      std::vector<float> y(static_cast<std::size_t>(shape.rows * shape.cols)), y_ref(y.size());
      Events events;
      macro->forward(shape, x.data(), w.data(), {}, y.data(), &events);
      EXPECT_TRUE(events == macro->count(shape));
      fp_gemm_reference(format, rounding, shape.rows, shape.cols, depth, xr.data(), wr.data(), y_ref.data(),
                        StoredLayout::ByElement);
      EXPECT_EQ(y_ref, y);

      // dx [rows, K]: summed over the output columns in order; dw [cols, K]: over the rows in order.
      std::vector<float> dx(static_cast<std::size_t>(shape.rows * depth)), dx_ref(dx.size());
      events = {};
      macro->input_gradient(shape, dy.data(), w.data(), {}, dx.data(), &events);
      EXPECT_TRUE(events == macro->count(shape));
      fp_gemm_reference(format, rounding, shape.rows, depth, shape.cols, dyr.data(), wr.data(), dx_ref.data(),
                        StoredLayout::ByDepth);
      EXPECT_EQ(dx_ref, dx);

      std::vector<float> dw(static_cast<std::size_t>(shape.cols * depth));
      events = {};
      macro->weight_gradient(shape, dy.data(), x.data(), {}, dw.data(), &events);
      EXPECT_TRUE(events == macro->count(shape));
      for (int64_t o = 0; o < shape.cols; ++o) {
        for (int64_t k = 0; k < depth; ++k) {
          float sum = 0.0f;
          for (int64_t r = 0; r < shape.rows; ++r) {
            sum = add(sum, multiply(dyr[r * shape.cols + o], xr[r * depth + k], format, rounding), format, rounding);
          }
          ASSERT_EQ(sum, dw[o * depth + k]) << o << ", " << k;
        }
      }

      auto updated = w;
      events = {};
      macro->update_weights(static_cast<int64_t>(updated.size()), updated.data(), dw.data(), 0.05, &events);
      const float step = to_format(-0.05f, format);
      for (std::size_t i = 0; i < w.size(); ++i) {
        ASSERT_EQ(add(wr[i], multiply(step, dw[i], format, rounding), format, rounding), updated[i]);
      }
      EXPECT_EQ(static_cast<int64_t>(w.size()), events.total(EventKind::InMemoryFloatMultiplication));
      EXPECT_EQ(static_cast<int64_t>(w.size()), events.total(EventKind::InMemoryFloatAddition));
    }
  }
}

TEST(SotMramMacro, ExpectedCountsLieBetweenTheMultipliersExtremes) {
  const EngineOptions bf16{{8, 7}, Rounding::TowardZero, ExponentDifference::Search};
  const auto expected = expected_counts(bf16);
  const auto full_adds = expected.multiply[static_cast<int>(Primitive::FullAdd)];
  const auto fewest = run_multiply(1.0f, 1.0f, bf16).counts[Primitive::FullAdd];
  const auto most = run_multiply(1.9921875f, 1.9921875f, bf16).counts[Primitive::FullAdd];
  EXPECT_GT(full_adds, fewest);
  EXPECT_LT(full_adds, most);
  // About half of the 7 stored multiplier bits are ones: each adds 8 full adds.
  EXPECT_NEAR(fewest + 3.5 * 8, full_adds, 8.0);
  EXPECT_EQ(1.0, expected.add[static_cast<int>(Primitive::Search)]);  // every sampled add searches once
}

TEST(SotMramMacro, TheNorBaselinePaysForEveryPrimitiveInNorCycles) {
  Spec nor;
  nor.logic = Logic::MagicNor;
  EXPECT_THROW(validate(nor), std::invalid_argument) << "magic_nor has no search";
  nor.engine.exponent_difference = ExponentDifference::Subtract;
  Spec mram;
  const auto nor_macro = macro_of(nor), mram_macro = macro_of(mram);
  const auto& n = dynamic_cast<const SotMramFpMacro&>(*nor_macro);
  const auto& m = dynamic_cast<const SotMramFpMacro&>(*mram_macro);
  // The same multiply program: its cycles are its primitives' counts times each family's cycles.
  double nor_cycles = 0;
  for (int k = 0; k < kPrimitiveCount; ++k) nor_cycles += n.counts().multiply[k] * n.costs().by_primitive[k].cycles;
  EXPECT_DOUBLE_EQ(nor_cycles, n.multiply_cycles());
  EXPECT_EQ(n.counts().multiply, m.counts().multiply);
  EXPECT_GT(n.multiply_cycles(), 4 * m.multiply_cycles());  // 18-cycle full adds against 3-cycle ones
  EXPECT_EQ(18.0, n.costs()[Primitive::FullAdd].cycles);    // AritPIM: 9 NOR + 9 INIT
}

// One linear layer by hand: 2 outputs of K = 3, a batch of 4, on a chip of 2 blocks of 3 rows (6 lanes).
TEST(SotMramMacro, ATrainingIterationCostsItsWavesOfPrograms) {
  const Spec spec;  // bf16: a value is 16 bits
  const auto macro_ptr = SotMramFpSpec(spec).for_format(spec.engine.format);
  const auto& macro = dynamic_cast<const SotMramFpMacro&>(*macro_ptr);
  EngineChip chip;
  chip.block_rows = 3;
  chip.block_columns = 8;
  chip.blocks = 2;
  const std::vector<TrainingLayer> layers = {{"fc", {1, 2, 3, 1}, 1, true}};
  const auto cost = training_cost(macro, chip, layers, 4);
  const double ns = macro.costs().cycle_ns, copy = macro.costs()[Primitive::Copy].cycles;
  const double mul = macro.multiply_cycles(), add = macro.add_cycles();
  // Forward: 24 MACs in ceil(24 / 6) = 4 waves of a multiply and a 16-bit copy; 8 outputs of 3 terms:
  // ceil(8 / 6) = 2 waves of 3 adds.
  const auto& forward = cost.phases[static_cast<int>(TrainingPhase::Forward)];
  EXPECT_DOUBLE_EQ((4 * (mul + 16 * copy) + 2 * 3 * add) * ns, forward.latency_ns);
  EXPECT_DOUBLE_EQ(24, forward.multiplies);
  EXPECT_DOUBLE_EQ(24 * 16, forward.copies);
  // Input gradient: 12 outputs of 2 terms: 2 waves of 2 adds. Weight gradient: 6 outputs of 4 terms.
  EXPECT_DOUBLE_EQ((4 * (mul + 16 * copy) + 2 * 2 * add) * ns,
                   cost.phases[static_cast<int>(TrainingPhase::InputGradient)].latency_ns);
  EXPECT_DOUBLE_EQ((4 * (mul + 16 * copy) + 1 * 4 * add) * ns,
                   cost.phases[static_cast<int>(TrainingPhase::WeightGradient)].latency_ns);
  // The update: 6 weights, one wave of a multiply and an add.
  EXPECT_DOUBLE_EQ((mul + add) * ns, cost.phases[static_cast<int>(TrainingPhase::Update)].latency_ns);
  const double energy = 3 * 24 * (macro.multiply_energy_pj() + macro.add_energy_pj()) +
                        3 * 24 * 16 * macro.costs()[Primitive::Copy].energy_fj * 1e-3 +
                        6 * (macro.multiply_energy_pj() + macro.add_energy_pj());
  EXPECT_NEAR(energy, cost.total.energy_pj, 1e-9 * energy);
  // Area: 48 cells of 60 F^2 at 28 nm over the 95.1 % crossbar share.
  EXPECT_NEAR(48 * 60 * 0.028 * 0.028 / 0.951 * 1e-6, cost.area_mm2, 1e-15);
}

}  // namespace
}  // namespace bitline::core::sot_mram
