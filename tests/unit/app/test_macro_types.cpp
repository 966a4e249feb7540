// DESIGN.md's invariants, checked for every registered macro type (app/macros/registry.h) on each of
// its examples, a few product shapes and operand widths. A type registered later is covered by
// these tests as it is.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
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
const std::vector<core::IntegerOperands> kOperands = {{8, 8, false}, {4, 6, true}, {2, 3, false}};

// Codes on the quantizer's grids: weights symmetric two's complement, inputs unsigned or symmetric.
std::vector<int32_t> random_codes(std::mt19937& rng, int64_t count, int bits, bool is_signed) {
  const int32_t top = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  std::uniform_int_distribution<int32_t> code(is_signed ? -top : 0, top);
  std::vector<int32_t> codes(static_cast<std::size_t>(count));
  for (auto& value : codes) value = code(rng);
  return codes;
}

struct Product {
  std::vector<float> out;
  core::Events events;
};

Product run(const core::Macro& macro, const core::ProductShape& shape, const std::vector<int32_t>& x,
            const std::vector<int32_t>& w, uint64_t first_sample = 0) {
  Product product{std::vector<float>(static_cast<std::size_t>(shape.rows * shape.cols)), {}};
  macro.forward(shape, x.data(), w.data(), {7, first_sample, 1}, product.out.data(), &product.events);
  return product;
}

std::string what(const Case& c, const core::ProductShape& shape, const core::IntegerOperands& operands) {
  return c.type + " (" + c.example + "), shape " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + "x" +
         std::to_string(shape.channels) + "x" + std::to_string(shape.kernel_area) + ", W" +
         std::to_string(operands.weight_bits) + "A" + std::to_string(operands.input_bits) +
         (operands.signed_inputs ? " signed" : "");
}

TEST(MacroTypes, EveryTypeHasALosslessExampleAndADocsPage) {
  std::vector<std::string> lossless;
  for (const auto& c : every_example()) {
    if (c.lossless) lossless.push_back(c.type);
  }
  for (const auto& type : macro_types()) {
    EXPECT_NE(std::find(lossless.begin(), lossless.end(), type.name), lossless.end()) << type.name;
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(BITLINE_SOURCE_DIR) / type.docs)) << type.docs;
  }
}

TEST(MacroTypes, CountEqualsTheRecordedEventsOfDeclaredKinds) {  // DESIGN.md invariant 2
  std::mt19937 rng(11);
  for (const auto& c : every_example()) {
    const auto declared = c.spec->emitted_kinds();
    for (const auto& operands : kOperands) {
      const auto macro = c.spec->for_operands(operands);
      for (const auto& shape : kShapes) {
        const auto x = random_codes(rng, shape.rows * shape.depth(), operands.input_bits, operands.signed_inputs);
        const auto w = random_codes(rng, shape.cols * shape.depth(), operands.weight_bits, true);
        const auto product = run(*macro, shape, x, w);
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
    for (const auto& operands : kOperands) {
      const auto macro = c.spec->for_operands(operands);
      EXPECT_TRUE(macro->lossless()) << c.type << " " << c.example;
      for (const auto& shape : kShapes) {
        const auto x = random_codes(rng, shape.rows * shape.depth(), operands.input_bits, operands.signed_inputs);
        const auto w = random_codes(rng, shape.cols * shape.depth(), operands.weight_bits, true);
        const auto product = run(*macro, shape, x, w);
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

TEST(MacroTypes, ResultsDoNotDependOnThreadsOrBatchSplit) {  // DESIGN.md invariant 4
  std::mt19937 rng(13);
  const core::ProductShape shape{12, 5, 40, 9};
  const core::IntegerOperands operands{8, 8, false};
  for (const auto& c : every_example()) {
    const auto macro = c.spec->for_operands(operands);
    const auto x = random_codes(rng, shape.rows * shape.depth(), operands.input_bits, operands.signed_inputs);
    const auto w = random_codes(rng, shape.cols * shape.depth(), operands.weight_bits, true);
    omp_set_num_threads(1);
    const auto one_thread = run(*macro, shape, x, w);
    omp_set_num_threads(2);
    const auto two_threads = run(*macro, shape, x, w);
    EXPECT_EQ(one_thread.out, two_threads.out) << c.type << " " << c.example;
    // Rows are samples here (one row per sample): rows [0, 5) and [5, 12) as two batches.
    const core::ProductShape head{5, shape.cols, shape.channels, shape.kernel_area};
    const core::ProductShape tail{7, shape.cols, shape.channels, shape.kernel_area};
    const auto split = static_cast<std::ptrdiff_t>(5 * shape.depth());
    auto first = run(*macro, head, std::vector<int32_t>(x.begin(), x.begin() + split), w, 0);
    const auto second = run(*macro, tail, std::vector<int32_t>(x.begin() + split, x.end()), w, 5);
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
