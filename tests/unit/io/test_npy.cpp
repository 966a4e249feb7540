#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T>
std::string little_endian_bytes(const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());  // the test machines are little-endian
  return bytes;
}

// Builds a .npy file by hand: magic, version, header length (u16 for v1, u32 for v2/v3), the
// dict padded with spaces to a 64-byte boundary and a '\n', then the raw data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t fixed = 8 + length_bytes;
  std::string header = dict;
  while ((fixed + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < length_bytes; ++i) {
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  return out + header + data;
}

class NpyTest : public TempDirTest {
 protected:
  fs::path write_raw(const std::string& bytes, const std::string& name = "array.npy") const {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Writes a hand-built file with the given header dict and data and returns read_npy's error.
  std::string error_reading(const std::string& dict, const std::string& data) const {
    const fs::path path = write_raw(npy_bytes(dict, data));
    return input_error_from([&] { read_npy(path); });
  }
};

// ---- Round trips.

TEST_F(NpyTest, Float32RoundTripKeepsValuesAndShape) {
  const fs::path path = dir_ / "weights.npy";
  const std::vector<float> values = {1.5f, -2.25f, 0.0f, 3e-8f, 1e30f, -7.0f};
  write_npy(path, values, {2, 3});
  const NpyArray array = read_npy(path);
  EXPECT_EQ(array.dtype, DType::Float32);
  EXPECT_THAT(array.shape, ElementsAre(2, 3));
  EXPECT_EQ(array.element_count(), 6);
  EXPECT_EQ(array.to_float32(), values);
}

TEST_F(NpyTest, Int64RoundTripKeepsExtremeValues) {
  const fs::path path = dir_ / "indices.npy";
  const std::vector<int64_t> values = {0, -1, std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  write_npy(path, values, {4});
  const NpyArray array = read_npy(path);
  EXPECT_EQ(array.dtype, DType::Int64);
  EXPECT_THAT(array.shape, ElementsAre(4));
  EXPECT_EQ(array.to_int64(), values);
}

TEST_F(NpyTest, EveryDTypeRoundTripsThroughNpyArray) {
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int8, DType::UInt8, DType::Int16,
                      DType::Int32, DType::Int64}) {
    SCOPED_TRACE(std::string(dtype_name(dtype)));
    NpyArray array{dtype, {3, 1}, {}};
    for (std::size_t i = 0; i < 3 * dtype_size(dtype); ++i) {
      array.data.push_back(static_cast<unsigned char>(i * 7 + 1));
    }
    const fs::path path = dir_ / (std::string(dtype_name(dtype)) + ".npy");
    write_npy(path, array);
    const NpyArray back = read_npy(path);
    EXPECT_EQ(back.dtype, dtype);
    EXPECT_EQ(back.shape, array.shape);
    EXPECT_EQ(back.data, array.data);
  }
}

TEST_F(NpyTest, WrittenFileIsVersion1WithDataAlignedTo64Bytes) {
  const fs::path path = dir_ / "aligned.npy";
  write_npy(path, std::vector<float>{1.0f, 2.0f}, {2});
  const std::string bytes = read_text_file(path);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_length =
      static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  const std::size_t data_offset = 10 + header_length;
  EXPECT_EQ(data_offset % 64, 0u);
  EXPECT_EQ(bytes.size(), data_offset + 8);
  EXPECT_EQ(bytes[data_offset - 1], '\n');
  EXPECT_THAT(bytes.substr(10, header_length),
              HasSubstr("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"));
}

TEST_F(NpyTest, ScalarShapeHasOneElementAndRoundTrips) {
  const fs::path path = dir_ / "scalar.npy";
  write_npy(path, std::vector<float>{42.5f}, {});
  const NpyArray array = read_npy(path);
  EXPECT_TRUE(array.shape.empty());
  EXPECT_EQ(array.element_count(), 1);
  EXPECT_THAT(array.to_float32(), ElementsAre(42.5f));
  EXPECT_THAT(read_text_file(path), HasSubstr("'shape': (), }"));
}

TEST_F(NpyTest, ZeroSizedDimensionHasNoElements) {
  const fs::path path = dir_ / "empty.npy";
  write_npy(path, std::vector<int64_t>{}, {0, 5});
  const NpyArray array = read_npy(path);
  EXPECT_THAT(array.shape, ElementsAre(0, 5));
  EXPECT_EQ(array.element_count(), 0);
  EXPECT_TRUE(array.to_int64().empty());
}

TEST_F(NpyTest, WriteCreatesParentDirectories) {
  const fs::path path = dir_ / "nested" / "deeper" / "x.npy";
  write_npy(path, std::vector<float>{1.0f}, {1});
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(NpyTest, WriteRejectsValueCountNotMatchingShape) {
  EXPECT_THROW(write_npy(dir_ / "x.npy", std::vector<float>{1.0f, 2.0f}, {3}),
               std::invalid_argument);
  EXPECT_THROW(write_npy(dir_ / "y.npy", std::vector<int64_t>{1, 2, 3}, {2, 2}),
               std::invalid_argument);
  EXPECT_THROW(write_npy(dir_ / "z.npy", NpyArray{DType::Int32, {2}, {1, 2, 3}}),
               std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir_ / "x.npy"));
}

// ---- Reading hand-built files.

TEST_F(NpyTest, ReadsEverySupportedDTypeFromHandBuiltBytes) {
  struct Case {
    std::string descr;
    std::string data;
    DType dtype;
    std::vector<float> as_float;
  };
  const std::vector<Case> cases = {
      {"<f4", little_endian_bytes<float>({1.5f, -2.0f}), DType::Float32, {1.5f, -2.0f}},
      {"<f8", little_endian_bytes<double>({0.25, -8.0}), DType::Float64, {0.25f, -8.0f}},
      {"|i1", little_endian_bytes<int8_t>({-3, 127}), DType::Int8, {-3.0f, 127.0f}},
      {"|u1", little_endian_bytes<uint8_t>({250, 0}), DType::UInt8, {250.0f, 0.0f}},
      {"<i2", little_endian_bytes<int16_t>({-300, 32000}), DType::Int16, {-300.0f, 32000.0f}},
      {"<i4", little_endian_bytes<int32_t>({70000, -1}), DType::Int32, {70000.0f, -1.0f}},
      {"<i8",
       little_endian_bytes<int64_t>({-1099511627776, 7}),
       DType::Int64,
       {-1099511627776.0f, 7.0f}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.descr);
    const fs::path path = write_raw(
        npy_bytes("{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': (2,), }", c.data));
    const NpyArray array = read_npy(path);
    EXPECT_EQ(array.dtype, c.dtype);
    EXPECT_THAT(array.shape, ElementsAre(2));
    EXPECT_EQ(array.to_float32(), c.as_float);
    if (c.dtype == DType::Float32 || c.dtype == DType::Float64) continue;  // 1.5 is no integer
    EXPECT_EQ(array.to_int64(), (std::vector<int64_t>{static_cast<int64_t>(c.as_float[0]),
                                                      static_cast<int64_t>(c.as_float[1])}));
  }
}

TEST_F(NpyTest, DTypeNamesAndSizesMatchNumpy) {
  EXPECT_EQ(dtype_name(DType::Float32), "float32");
  EXPECT_EQ(dtype_name(DType::UInt8), "uint8");
  EXPECT_EQ(dtype_name(DType::Int64), "int64");
  EXPECT_EQ(dtype_size(DType::Float64), 8u);
  EXPECT_EQ(dtype_size(DType::Int16), 2u);
  EXPECT_EQ(dtype_size(DType::Int8), 1u);
}

TEST_F(NpyTest, ReadsVersion2And3Headers) {
  const std::string data = little_endian_bytes<int32_t>({1, 2, 3, 4, 5, 6});
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    const fs::path path = write_raw(
        npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }", data, major));
    const NpyArray array = read_npy(path);
    EXPECT_THAT(array.shape, ElementsAre(3, 2));
    EXPECT_THAT(array.to_int64(), ElementsAre(1, 2, 3, 4, 5, 6));
  }
}

TEST_F(NpyTest, AcceptsKeysInAnyOrderDoubleQuotesAndPython2Longs) {
  const fs::path path =
      write_raw(npy_bytes("{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<f4\"}",
                          little_endian_bytes<float>({3.0f, 4.0f})));
  const NpyArray array = read_npy(path);
  EXPECT_THAT(array.shape, ElementsAre(2, 1));
  EXPECT_THAT(array.to_float32(), ElementsAre(3.0f, 4.0f));
}

TEST_F(NpyTest, ToInt64ConvertsIntegralFloats) {
  const fs::path path = dir_ / "f.npy";
  write_npy(path, std::vector<float>{-4.0f, 0.0f, 16777216.0f}, {3});
  EXPECT_THAT(read_npy(path).to_int64(), ElementsAre(-4, 0, 16777216));
}

TEST_F(NpyTest, ToInt64RejectsNonIntegerFloats) {
  const fs::path path = dir_ / "f.npy";
  write_npy(path, std::vector<float>{1.0f, 2.5f}, {2});
  const NpyArray array = read_npy(path);
  const std::string message = input_error_from([&] { array.to_int64(); });
  EXPECT_THAT(message, AllOf(HasSubstr("element 1"), HasSubstr("2.5"), HasSubstr("integer")));

  write_npy(path, std::vector<float>{std::nanf("")}, {1});
  EXPECT_THROW(read_npy(path).to_int64(), InputError);
}

// ---- Malformed files: each error names the file and the problem.

TEST_F(NpyTest, ParsesBytesInMemoryLikeAFile) {
  const std::string bytes = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                                      little_endian_bytes<float>({1.5f, -2.0f}));
  const NpyArray array = parse_npy(bytes, "in-memory");
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(array.to_float32(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_THAT(input_error_from([&] { parse_npy(bytes.substr(0, 20), "in-memory"); }), HasSubstr("in-memory: truncated"));
}

TEST_F(NpyTest, FirstNonFiniteFindsNanAndInfinityInFloatArraysOnly) {
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  EXPECT_EQ(first_non_finite(parse_npy(npy_bytes(dict, little_endian_bytes<double>({1, 2, 3})), "a")), std::nullopt);
  EXPECT_EQ(first_non_finite(parse_npy(npy_bytes(dict, little_endian_bytes<double>({1, -INFINITY, NAN})), "a")), 1);
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_EQ(first_non_finite(parse_npy(npy_bytes(f4, little_endian_bytes<float>({0.f, NAN})), "a")), 1);
  const std::string i4 = "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }";
  EXPECT_EQ(first_non_finite(parse_npy(npy_bytes(i4, little_endian_bytes<int32_t>({-1})), "a")), std::nullopt);
}

TEST_F(NpyTest, AHugeDeclaredShapeIsRefusedBeforeAllocating) {
  // 2^40 float32 elements declared, 8 bytes present: refused by size, nothing allocated for it.
  EXPECT_THAT(input_error_from([&] {
                parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }",
                                    std::string(8, '\0')),
                          "huge.npy");
              }),
              AllOf(HasSubstr("huge.npy: truncated npy data"), HasSubstr("4398046511104 bytes"), HasSubstr("holds 8 bytes")));
}

TEST_F(NpyTest, MissingFileIsReported) {
  const fs::path path = dir_ / "missing.npy";
  EXPECT_THAT(input_error_from([&] { read_npy(path); }),
              AllOf(HasSubstr(path.string()), HasSubstr("cannot open file")));
}

TEST_F(NpyTest, BadMagicShowsFoundBytes) {
  const fs::path path = write_raw(std::string("PK\x03\x04 zip archive", 16));
  EXPECT_THAT(input_error_from([&] { read_npy(path); }),
              AllOf(HasSubstr(path.string()), HasSubstr("magic string \\x93NUMPY"),
                    HasSubstr("found 'PK\\x03\\x04 z'")));
}

TEST_F(NpyTest, EmptyFileIsReportedAsBadMagic) {
  const fs::path path = write_raw("");
  EXPECT_THAT(input_error_from([&] { read_npy(path); }),
              AllOf(HasSubstr(path.string()), HasSubstr("empty file")));
}

TEST_F(NpyTest, UnsupportedVersionIsReported) {
  std::string bytes = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                little_endian_bytes<float>({1.0f}));
  bytes[6] = '\x04';
  const fs::path path = write_raw(bytes);
  EXPECT_THAT(input_error_from([&] { read_npy(path); }),
              AllOf(HasSubstr(path.string()), HasSubstr("unsupported npy format version 4.0"),
                    HasSubstr("1.0, 2.0 or 3.0")));
}

TEST_F(NpyTest, TruncatedHeaderIsReported) {
  const std::string full = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                     little_endian_bytes<float>({1.0f}));
  const fs::path cut_in_header = write_raw(full.substr(0, 30), "cut_in_header.npy");
  EXPECT_THAT(input_error_from([&] { read_npy(cut_in_header); }),
              AllOf(HasSubstr(cut_in_header.string()), HasSubstr("truncated npy header"),
                    HasSubstr("says 118 bytes")));

  const fs::path cut_in_length = write_raw(full.substr(0, 9), "cut_in_length.npy");
  EXPECT_THAT(input_error_from([&] { read_npy(cut_in_length); }),
              AllOf(HasSubstr(cut_in_length.string()), HasSubstr("truncated npy header")));
}

TEST_F(NpyTest, HeaderThatIsNotADictIsReported) {
  const std::string message = error_reading("[1, 2, 3]", "");
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("malformed npy header"),
                             HasSubstr("Python dict"), HasSubstr("[1, 2, 3]")));
}

TEST_F(NpyTest, UnterminatedDictIsReported) {
  const std::string message = error_reading("{'descr': '<f4', 'shape': (2,", "");
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("malformed npy header")));
}

TEST_F(NpyTest, DeeplyNestedHeaderIsRejected) {
  const std::string message = error_reading(
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + std::string(5000, '(') + "}", "");
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("nested brackets")));
}

TEST_F(NpyTest, MissingKeyIsReported) {
  const std::string message = error_reading("{'descr': '<f4', 'fortran_order': False, }", "");
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("found no 'shape'")));
}

TEST_F(NpyTest, BigEndianDTypeIsNamedWithTheSupportedList) {
  const std::string message = error_reading(
      "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0'));
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("'>f4'"), HasSubstr("big-endian"),
                             HasSubstr("<f4 (float32)"), HasSubstr("<i8 (int64)")));
}

TEST_F(NpyTest, UnsupportedDTypesAreNamed) {
  for (const std::string descr : {"|b1", "<c8", "<u4", "<f2", "|S5"}) {
    SCOPED_TRACE(descr);
    const std::string message =
        error_reading("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", "");
    EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("unsupported npy dtype '" + descr),
                               HasSubstr("|u1 (uint8)")));
  }
}

TEST_F(NpyTest, StructuredDTypeIsRejected) {
  const std::string message = error_reading(
      "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }",
      std::string(8, '\0'));
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("structured")));
}

TEST_F(NpyTest, FortranOrderSuggestsAscontiguousarray) {
  const std::string message = error_reading(
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", std::string(16, '\0'));
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("fortran_order: True"),
                             HasSubstr("numpy.ascontiguousarray")));
}

TEST_F(NpyTest, NegativeShapeEntryIsReported) {
  const std::string message =
      error_reading("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "");
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("negative dimension -3")));
}

TEST_F(NpyTest, NonIntegerShapeEntriesAreReported) {
  for (const std::string entry : {"2.5", "'two'", "None", "1e3"}) {
    SCOPED_TRACE(entry);
    const std::string message =
        error_reading("{'descr': '<f4', 'fortran_order': False, 'shape': (" + entry + ",), }", "");
    EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("malformed npy shape"),
                               HasSubstr("non-negative integer")));
  }
}

TEST_F(NpyTest, ShortDataNamesBothSizes) {
  const std::string message = error_reading(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", std::string(20, '\0'));
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("truncated npy data"),
                             HasSubstr("(2, 3) of float32"), HasSubstr("= 24 bytes"),
                             HasSubstr("holds 20 bytes")));
}

TEST_F(NpyTest, LongDataNamesBothSizes) {
  const std::string message = error_reading(
      "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", std::string(10, '\0'));
  EXPECT_THAT(message, AllOf(HasSubstr("array.npy"), HasSubstr("trailing bytes"),
                             HasSubstr("= 6 bytes"), HasSubstr("holds 10 bytes")));
}

}  // namespace
}  // namespace bitline::io
