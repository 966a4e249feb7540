#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "io/tensor_archive.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

using ::testing::HasSubstr;

StoredTensor f32(std::vector<int64_t> shape, std::vector<float> values) {
  StoredTensor tensor{TensorDType::F32, std::move(shape), std::string(values.size() * 4, '\0')};
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

// An archive's bytes with a hand-written JSON header and data section.
std::string raw_archive(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string error_of(const std::string& bytes) {
  return input_error_from([&] { parse_tensor_archive(bytes, "a.ckpt"); });
}

TEST(TensorArchive, RoundTripsTensorsAndMetadataInTheSafetensorsLayout) {
  TensorArchive archive;
  archive.metadata = {{"stage", "float"}, {"note", "ünïcode"}};
  archive.tensors["b"] = f32({2, 2}, {1, 2, 3, 4});
  archive.tensors["a"] = {TensorDType::I64, {}, std::string(8, '\x07')};
  archive.tensors["empty"] = {TensorDType::U8, {0, 3}, ""};
  const std::string bytes = serialize_tensor_archive(archive);
  // safetensors: u64 header length, JSON header with offsets into the data that follows.
  uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  const std::string header = bytes.substr(8, header_length);
  EXPECT_THAT(header, HasSubstr(R"("a":{"data_offsets":[0,8],"dtype":"I64","shape":[]})"));
  EXPECT_THAT(header, HasSubstr(R"("b":{"data_offsets":[8,24],"dtype":"F32","shape":[2,2]})"));
  const TensorArchive read = parse_tensor_archive(bytes, "a.ckpt");
  EXPECT_EQ(read.metadata, archive.metadata);
  ASSERT_EQ(read.tensors.size(), 3u);
  EXPECT_EQ(read.tensors.at("b").bytes, archive.tensors["b"].bytes);
  EXPECT_EQ(read.tensors.at("b").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(read.tensors.at("a").dtype, TensorDType::I64);
  EXPECT_EQ(read.tensors.at("empty").element_count(), 0);
}

TEST(TensorArchive, OffsetsMustTileTheDataAndMatchTheShape) {
  const std::string data(16, '\0');
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[80],"data_offsets":[0,16]}})", data)),
              HasSubstr("tensor 'x': shape [80] of F32 needs 320 bytes, but data_offsets [0, 16] hold 16"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", data)),
              HasSubstr("expected data_offsets within the 16 data bytes"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                       "y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data)),
              HasSubstr("tensor 'y' begins at data byte 4, expected 8"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data)),
              HasSubstr("the tensors cover 8 data bytes, but the archive holds 16"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})", data)),
              HasSubstr("needs too many bytes"));
}

TEST(TensorArchive, MalformedHeadersAreNamed) {
  EXPECT_THAT(error_of("short"), HasSubstr("a.ckpt: malformed tensor archive: expected an 8-byte header length"));
  EXPECT_THAT(error_of(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}"), HasSubstr("the header length says"));
  EXPECT_THAT(error_of(raw_archive("{not json", "")), HasSubstr("the header is not valid JSON"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"x":{}})", "")),
              HasSubstr("the header repeats the key 'x'"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F16","shape":[0],"data_offsets":[0,0]}})", "")),
              HasSubstr("expected dtype F64, F32, I64, I32 or U8, found \"F16\""));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", "")),
              HasSubstr("expected non-negative integer dimensions, found -1"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[[[1]]],"data_offsets":[0,0]}})", "")),
              HasSubstr("nested at most 3 levels deep"));
  EXPECT_THAT(error_of(raw_archive(R"({"__metadata__":{"k":1}})", "")), HasSubstr("expected metadata 'k' to be a string"));
  EXPECT_THAT(error_of(raw_archive(R"([1, 2])", "")), HasSubstr("expected the header to be a JSON object"));
  EXPECT_THAT(error_of(raw_archive(R"({"x":{"dtype":"F32","shape":[0]}})", "")),
              HasSubstr("expected an object with exactly dtype, shape and data_offsets"));
}

}  // namespace
}  // namespace bitline::io
