// The helpers core/macro.h gives every macro type: bit-serial input chunks and operand checks.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "core/macro.h"

namespace bitline::core {
namespace {

TEST(InputChunks, CoverEveryInputBitOnceLsbFirstWithTheSignBitAlone) {
  for (int input_bits = 1; input_bits <= 16; ++input_bits) {
    for (bool signed_inputs : {false, true}) {
      if (signed_inputs && input_bits < 2) continue;
      for (int per_cycle = 1; per_cycle <= input_bits; ++per_cycle) {
        const IntegerOperands operands{8, input_bits, signed_inputs, {}};
        const auto chunks = input_chunks(operands, per_cycle);
        std::vector<int> covered(static_cast<std::size_t>(input_bits), 0);
        int next_bit = 0;
        for (std::size_t j = 0; j < chunks.size(); ++j) {
          const auto& chunk = chunks[j];
          EXPECT_EQ(chunk.first_bit, next_bit);
          EXPECT_GE(chunk.bits, 1);
          EXPECT_LE(chunk.bits, per_cycle);
          EXPECT_EQ(chunk.sign, signed_inputs && j + 1 == chunks.size());
          if (chunk.sign) {
            EXPECT_EQ(chunk.bits, 1);
          }
          for (int b = chunk.first_bit; b < chunk.first_bit + chunk.bits; ++b) ++covered.at(static_cast<std::size_t>(b));
          next_bit = chunk.first_bit + chunk.bits;
        }
        EXPECT_EQ(covered, std::vector<int>(static_cast<std::size_t>(input_bits), 1))
            << input_bits << " bits, " << per_cycle << " per cycle, signed " << signed_inputs;
        const int magnitude_bits = signed_inputs ? input_bits - 1 : input_bits;
        EXPECT_EQ(static_cast<int>(chunks.size()), (magnitude_bits + per_cycle - 1) / per_cycle + (signed_inputs ? 1 : 0));
      }
    }
  }
}

TEST(IntegerOperands, OutOfRangeOperandsNameTheField) {
  const auto message = [](IntegerOperands operands, int per_cycle) -> std::string {
    try {
      validate_integer_operands(operands, per_cycle);
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_EQ(message({8, 8, false, {}}, 1), "");
  EXPECT_EQ(message({16, 16, true, {}}, 16), "");
  EXPECT_NE(message({1, 8, false, {}}, 1).find("weight_bits"), std::string::npos);
  EXPECT_NE(message({17, 8, false, {}}, 1).find("weight_bits"), std::string::npos);
  EXPECT_NE(message({8, 1, true, {}}, 1).find("input_bits must be in [1, 16] (signed: [2, 16])"), std::string::npos);
  EXPECT_NE(message({8, 0, false, {}}, 1).find("input_bits"), std::string::npos);
  EXPECT_NE(message({8, 4, false, {}}, 0).find("input_bits_per_cycle must be >= 1"), std::string::npos);
  EXPECT_NE(message({8, 4, false, {}}, 5).find("input_bits_per_cycle must not exceed input_bits"), std::string::npos);
}

}  // namespace
}  // namespace bitline::core
