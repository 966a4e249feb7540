// DESIGN.md's invariants, checked for every registered macro type (app/macros/registry.h) on each of
// its examples, a few product shapes and operand widths. A type registered later is covered by
// these tests as it is.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/macros/registry.h"
#include "core/error.h"
#include "core/macro.h"

namespace bitline::app {
namespace {

struct Case {
  std::string type, example;
  std::shared_ptr<const core::MacroSpec> spec;
  bool lossless = false;
};

// Every example of every registered type, built as the config would build it.
std::vector<Case> every_example() {
  std::vector<Case> cases;
  for_each_macro_type([&](auto type, auto) {
    using Type = decltype(type);
    for (const auto& example : Type::examples()) {
      cases.push_back({Type::kName, example.name, Type::build(example.config, Type::kName), example.lossless});
    }
  });
  return cases;
}

// Products of a linear layer (one tile or several), a 3x3 conv and a conv wide enough for several
// channel-aligned tiles.
const std::vector<core::ProductShape> kShapes = {{5, 3, 37, 1}, {4, 6, 300, 1}, {7, 4, 6, 9}, {3, 5, 40, 9}};
const std::vector<core::IntegerOperands> kOperands = {{8, 8, false, {}}, {4, 6, true, {}}, {2, 3, false, {}}};

// Codes on the quantizer's grids: weights symmetric two's complement, inputs unsigned or symmetric.
std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int bits, bool is_signed) {
  const int32_t top = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  std::uniform_int_distribution<int32_t> code(is_signed ? -top : 0, top);
  std::vector<int32_t> codes(static_cast<std::size_t>(count));
  for (auto& value : codes) value = code(rng);
  return codes;
}

// The operands of a product in the macro's kind: integer codes, or fp32 values (floating-point macros).
struct Operands {
  std::vector<int32_t> x_codes, w_codes;
  std::vector<float> x_values, w_values;
  // Rows [first, last) of x (depth elements each), w unchanged.
  Operands rows(int64_t first, int64_t last, int64_t depth) const {
    Operands part = *this;
    if (!x_codes.empty()) part.x_codes.assign(x_codes.begin() + first * depth, x_codes.begin() + last * depth);
    if (!x_values.empty()) part.x_values.assign(x_values.begin() + first * depth, x_values.begin() + last * depth);
    return part;
  }
};

Operands random_operands(std::mt19937& rng, const core::MacroSpec& spec, const core::ProductShape& shape,
                         const core::IntegerOperands& operands) {
  Operands result;
  if (spec.operand_kind() == core::OperandKind::FloatingPoint) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    result.x_values.resize(static_cast<std::size_t>(shape.rows * shape.depth()));
    result.w_values.resize(static_cast<std::size_t>(shape.cols * shape.depth()));
    for (auto& value : result.x_values) value = normal(rng);
    for (auto& value : result.w_values) value = normal(rng);
  } else {
    result.x_codes = random_codes(rng, shape.rows * shape.depth(), operands.input_bits, operands.signed_inputs);
    result.w_codes = random_codes(rng, shape.cols * shape.depth(), operands.weight_bits, true);
  }
  return result;
}

struct Product {
  std::vector<float> out;
  core::Events events;
};

Product run(const core::Macro& macro, const core::ProductShape& shape, const Operands& operands, uint64_t first_sample = 0) {
  Product product{std::vector<float>(static_cast<std::size_t>(shape.rows * shape.cols)), {}};
  const core::NoiseKey key{7, first_sample, 1};
  if (!operands.x_values.empty()) {
    macro.forward(shape, operands.x_values.data(), operands.w_values.data(), key, product.out.data(), &product.events);
  } else {
    macro.forward(shape, operands.x_codes.data(), operands.w_codes.data(), key, product.out.data(), &product.events);
  }
  return product;
}

std::string what(const Case& c, const core::ProductShape& shape, const core::IntegerOperands& operands) {
  return c.type + " (" + c.example + "), shape " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + "x" +
         std::to_string(shape.channels) + "x" + std::to_string(shape.kernel_area) + ", W" +
         std::to_string(operands.weight_bits) + "A" + std::to_string(operands.input_bits) +
         (operands.signed_inputs ? " signed" : "");
}

// Types that take integer codes have a lossless case (DESIGN.md's table); floating-point-only types
// (sot_mram_fp: every operation rounds) have none.
TEST(MacroTypes, EveryIntegerCodeTypeHasALosslessExampleAndEveryTypeADocsPage) {
  std::vector<std::string> lossless, integer_code;
  for (const auto& c : every_example()) {
    if (c.lossless) lossless.push_back(c.type);
    if (c.spec->operand_kind() == core::OperandKind::IntegerCodes) integer_code.push_back(c.type);
  }
  for (const auto& type : macro_types()) {
    const bool takes_codes = std::find(integer_code.begin(), integer_code.end(), type.name) != integer_code.end();
    if (takes_codes) {
      EXPECT_NE(std::find(lossless.begin(), lossless.end(), type.name), lossless.end()) << type.name;
    }
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(BITLINE_SOURCE_DIR) / type.docs)) << type.docs;
  }
}

// The training products of every type that has them: each records the forward product's MACs and is near the exact fp32 product: a gross check
// (wrong operand, index or sign) that holds for approximate multipliers too (DAISM's products are
// within half of the exact ones); the bit-level checks are the core tests'. The weight update moves
// each weight by about -lr · g.
TEST(MacroTypes, TrainingProductsCountTheirEventsAndApproximateTheExactGradients) {
  std::mt19937 rng(15);
  const core::IntegerOperands operands{8, 8, false, {}};
  for (const auto& c : every_example()) {
    if (c.spec->operand_kind() != core::OperandKind::FloatingPoint) continue;
    const auto macro = core::macro_for_layer(*c.spec, operands);
    const auto products = macro->training_products();
    for (const auto& shape : kShapes) {
      const auto both = random_operands(rng, *c.spec, shape, operands);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> dy(static_cast<std::size_t>(shape.rows * shape.cols));
      for (auto& value : dy) value = normal(rng);
      const core::NoiseKey key{7, 0, 1};
      const int64_t depth = shape.depth();
      const double relative = 0.5;  // of the sum of the terms' magnitudes
      if (products.input_gradient) {
        std::vector<float> dx(static_cast<std::size_t>(shape.rows * depth));
        core::Events events;
        macro->input_gradient(shape, dy.data(), both.w_values.data(), key, dx.data(), &events);
        EXPECT_EQ(shape.rows * shape.cols * depth, events.total(core::EventKind::Mac)) << c.type << " " << c.example;
        for (int64_t r = 0; r < shape.rows; ++r) {
          for (int64_t k = 0; k < depth; ++k) {
            double exact = 0, magnitude = 0;
            for (int64_t o = 0; o < shape.cols; ++o) {
              const double term = double{dy[r * shape.cols + o]} * both.w_values[o * depth + k];
              exact += term;
              magnitude += std::fabs(term);
            }
            ASSERT_NEAR(exact, dx[r * depth + k], relative * magnitude + 1e-6) << c.type << " " << c.example;
          }
        }
      }
      if (products.weight_gradient) {
        std::vector<float> dw(static_cast<std::size_t>(shape.cols * depth));
        core::Events events;
        macro->weight_gradient(shape, dy.data(), both.x_values.data(), key, dw.data(), &events);
        EXPECT_EQ(shape.rows * shape.cols * depth, events.total(core::EventKind::Mac)) << c.type << " " << c.example;
        for (int64_t o = 0; o < shape.cols; ++o) {
          for (int64_t k = 0; k < depth; ++k) {
            double exact = 0, magnitude = 0;
            for (int64_t r = 0; r < shape.rows; ++r) {
              const double term = double{dy[r * shape.cols + o]} * both.x_values[r * depth + k];
              exact += term;
              magnitude += std::fabs(term);
            }
            ASSERT_NEAR(exact, dw[o * depth + k], relative * magnitude + 1e-6) << c.type << " " << c.example;
          }
        }
      }
      if (products.weight_update) {
        auto w = both.w_values;
        std::vector<float> gradient(w.size());
        for (auto& value : gradient) value = normal(rng);
        core::Events events;
        macro->update_weights(static_cast<int64_t>(w.size()), w.data(), gradient.data(), 0.125, &events);
        EXPECT_FALSE(events.empty()) << c.type << " " << c.example;
        for (std::size_t i = 0; i < w.size(); ++i) {
          const double exact = double{both.w_values[i]} - 0.125 * gradient[i];
          ASSERT_NEAR(exact, w[i], relative * (std::fabs(both.w_values[i]) + std::fabs(0.125 * gradient[i])))
              << c.type << " " << c.example;
        }
      }
    }
  }
}

// DESIGN.md invariant 2, as wiring: forward records what count() says, of declared kinds. Most types'
// forward adds count() itself, so this does not check that count() is right: the hand-derived counts of
// tests/unit/core/test_event_counts.cpp and the analog reference path's counting do (docs/testing.md).
TEST(MacroTypes, ForwardRecordsItsCountOfDeclaredKinds) {
  std::mt19937 rng(11);
  for (const auto& c : every_example()) {
    const auto declared = c.spec->emitted_kinds();
    for (const auto& operands : kOperands) {
      const auto macro = core::macro_for_layer(*c.spec, operands);
      for (const auto& shape : kShapes) {
        const auto product = run(*macro, shape, random_operands(rng, *c.spec, shape, operands));
        EXPECT_TRUE(product.events == macro->count(shape)) << what(c, shape, operands);
        EXPECT_EQ(product.events.total(core::EventKind::Mac) > 0, true) << what(c, shape, operands);
        for (const auto& [type, count] : product.events.entries()) {
          EXPECT_NE(std::find(declared.begin(), declared.end(), type.kind), declared.end())
              << core::describe(type) << " is not declared by " << c.type;
        }
        const auto footprint = macro->footprint(shape);
        for (const auto& tile : footprint.row_tiles) {
          EXPECT_LE(tile.end - tile.begin, footprint.rows_per_tile) << what(c, shape, operands);
          EXPECT_LE(tile.end, shape.depth()) << what(c, shape, operands);
        }
      }
    }
  }
}

TEST(MacroTypes, LosslessExamplesEqualTheIntegerReferenceBitForBit) {  // DESIGN.md invariant 3
  std::mt19937 rng(12);
  for (const auto& c : every_example()) {
    if (!c.lossless) continue;
    ASSERT_EQ(c.spec->operand_kind(), core::OperandKind::IntegerCodes) << c.type << " " << c.example;
    for (const auto& operands : kOperands) {
      const auto macro = c.spec->for_operands(operands);
      EXPECT_TRUE(macro->lossless()) << c.type << " " << c.example;
      for (const auto& shape : kShapes) {
        const auto both = random_operands(rng, *c.spec, shape, operands);
        const auto& x = both.x_codes;
        const auto& w = both.w_codes;
        const auto product = run(*macro, shape, both);
        for (int64_t r = 0; r < shape.rows; ++r) {
          for (int64_t o = 0; o < shape.cols; ++o) {
            int64_t exact = 0;
            for (int64_t k = 0; k < shape.depth(); ++k) {
              exact += int64_t{x[static_cast<std::size_t>(r * shape.depth() + k)]} * w[static_cast<std::size_t>(o * shape.depth() + k)];
            }
            ASSERT_EQ(product.out[static_cast<std::size_t>(r * shape.cols + o)], static_cast<float>(exact))
                << what(c, shape, operands) << ", output " << r << "," << o;
          }
        }
      }
    }
  }
}

TEST(MacroTypes, TypesThatStorePairsComputePairedProductsExactlyAndCountThem) {  // DESIGN.md invariants 2, 3
  std::mt19937 rng(14);
  for (const auto& c : every_example()) {
    if (!c.spec->stores_complementary_pairs()) continue;
    for (auto operands : kOperands) {
      for (const auto& shape : kShapes) {
        operands.column_pairs = {core::PairEncoding::TwosComplement, shape.cols / 2, false};
        auto both = random_operands(rng, *c.spec, shape, operands);
        for (int64_t p = 0; p < shape.cols / 2; ++p) {  // column 2p + 1 holds the complement of column 2p
          for (int64_t k = 0; k < shape.depth(); ++k) {
            both.w_codes[static_cast<std::size_t>((2 * p + 1) * shape.depth() + k)] =
                -both.w_codes[static_cast<std::size_t>(2 * p * shape.depth() + k)] - 1;
          }
        }
        const auto macro = c.spec->for_operands(operands);
        const auto product = run(*macro, shape, both);
        EXPECT_TRUE(product.events == macro->count(shape)) << what(c, shape, operands);
        for (int64_t r = 0; r < shape.rows; ++r) {
          for (int64_t o = 0; o < shape.cols; ++o) {
            int64_t exact = 0;
            for (int64_t k = 0; k < shape.depth(); ++k) {
              exact += int64_t{both.x_codes[static_cast<std::size_t>(r * shape.depth() + k)]} *
                       both.w_codes[static_cast<std::size_t>(o * shape.depth() + k)];
            }
            ASSERT_EQ(product.out[static_cast<std::size_t>(r * shape.cols + o)], static_cast<float>(exact))
                << what(c, shape, operands) << ", paired, output " << r << "," << o;
          }
        }
      }
    }
  }
}

TEST(MacroTypes, ResultsDoNotDependOnThreadsOrBatchSplit) {  // DESIGN.md invariant 4
  std::mt19937 rng(13);
  const core::ProductShape shape{12, 5, 40, 9};
  const core::IntegerOperands operands{8, 8, false, {}};
  for (const auto& c : every_example()) {
    const auto macro = core::macro_for_layer(*c.spec, operands);
    const auto both = random_operands(rng, *c.spec, shape, operands);
    omp_set_num_threads(1);
    const auto one_thread = run(*macro, shape, both);
    omp_set_num_threads(2);
    const auto two_threads = run(*macro, shape, both);
    EXPECT_EQ(one_thread.out, two_threads.out) << c.type << " " << c.example;
    // Rows are samples here (one row per sample): rows [0, 5) and [5, 12) as two batches.
    const core::ProductShape head{5, shape.cols, shape.channels, shape.kernel_area};
    const core::ProductShape tail{7, shape.cols, shape.channels, shape.kernel_area};
    auto first = run(*macro, head, both.rows(0, 5, shape.depth()), 0);
    const auto second = run(*macro, tail, both.rows(5, 12, shape.depth()), 5);
    first.out.insert(first.out.end(), second.out.begin(), second.out.end());
    EXPECT_EQ(first.out, one_thread.out) << c.type << " " << c.example;
  }
}

TEST(MacroTypes, AnUnknownTypeIsAnErrorListingTheRegisteredOnes) {
  std::string listing;
  for (const auto& name : macro_type_names()) listing += (listing.empty() ? "" : ", ") + name;
  try {
    parse_config("macros: [{name: m, type: no_such_macro}]\n", "types.yaml");
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("key 'macros[0].type': expected one of " + listing + ", found 'no_such_macro'"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace bitline::app
