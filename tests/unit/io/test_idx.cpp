#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/idx.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
constexpr int kClasses = 10;

void append_big_endian_u32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, const std::string& pixels) {
  std::string out;
  for (uint32_t field : {0x00000803u, count, rows, cols}) append_big_endian_u32(out, field);
  return out + pixels;
}

std::string idx_labels(uint32_t count, const std::string& labels) {
  std::string out;
  for (uint32_t field : {0x00000801u, count}) append_big_endian_u32(out, field);
  return out + labels;
}

// count*size bytes 0, 1, 2, ... (mod 256), so every pixel position is checkable.
std::string counting_bytes(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>(i % 256);
  return out;
}

class IdxTest : public TempDirTest {
 protected:
  fs::path write_gzip(const std::string& name, const std::string& contents) const {
    const fs::path path = dir_ / name;
    gzFile file = gzopen(path.c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, contents.data(), static_cast<unsigned>(contents.size())),
              static_cast<int>(contents.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }

  fs::path write_plain(const std::string& name, const std::string& contents) const {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
};

TEST_F(IdxTest, GzippedRoundTripKeepsPixelsLabelsAndDimensions) {
  const std::string pixels = counting_bytes(3 * 2 * 4);
  const fs::path images = write_gzip("images.gz", idx_images(3, 2, 4, pixels));
  const fs::path labels = write_gzip("labels.gz", idx_labels(3, std::string("\x07\x00\x09", 3)));

  const ImageSet set = read_idx_dataset(images, labels, kClasses);
  EXPECT_EQ(set.count, 3);
  EXPECT_EQ(set.channels, 1);
  EXPECT_EQ(set.height, 2);
  EXPECT_EQ(set.width, 4);
  EXPECT_EQ(set.pixels, std::vector<uint8_t>(pixels.begin(), pixels.end()));
  EXPECT_THAT(set.labels, ElementsAre(7, 0, 9));
}

TEST_F(IdxTest, UncompressedFilesAreReadToo) {
  const std::string pixels = counting_bytes(2 * 3 * 3);
  const fs::path images = write_plain("images", idx_images(2, 3, 3, pixels));
  const fs::path labels = write_plain("labels", idx_labels(2, std::string("\x01\x02", 2)));
  const ImageSet set = read_idx_dataset(images, labels, kClasses);
  EXPECT_EQ(set.count, 2);
  EXPECT_EQ(set.pixels, std::vector<uint8_t>(pixels.begin(), pixels.end()));
  EXPECT_THAT(set.labels, ElementsAre(1, 2));
}

TEST_F(IdxTest, TruncatedImagesNameDeclaredAndFoundSizes) {
  const fs::path images = write_gzip("images.gz", idx_images(3, 2, 4, counting_bytes(16)));
  const fs::path labels = write_gzip("labels.gz", idx_labels(3, std::string(3, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(images.string() + ": truncated: header says 3 images of 2x4 (24 "
                                                "bytes) but the file holds 16 bytes of pixels")));
}

TEST_F(IdxTest, TruncatedLabelsAreReported) {
  const fs::path images = write_gzip("images.gz", idx_images(3, 1, 1, counting_bytes(3)));
  const fs::path labels = write_gzip("labels.gz", idx_labels(3, std::string(1, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(labels.string()), HasSubstr("truncated"),
                    HasSubstr("holds 1 bytes of labels")));
}

TEST_F(IdxTest, TrailingDataIsReported) {
  const fs::path images = write_gzip("images.gz", idx_images(2, 2, 2, counting_bytes(8 + 5)));
  const fs::path labels = write_gzip("labels.gz", idx_labels(2, std::string(2, '\0')));
  EXPECT_THAT(
      input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
      AllOf(HasSubstr(images.string()), HasSubstr("trailing data"), HasSubstr("5 more bytes")));
}

TEST_F(IdxTest, BadMagicShowsExpectedAndFoundInHex) {
  const fs::path labels = write_gzip("labels.gz", idx_labels(2, std::string(2, '\0')));
  const fs::path text = write_plain("notes.txt", "hello world, not an IDX file");
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(text, labels, kClasses); }),
              AllOf(HasSubstr(text.string()), HasSubstr("magic number 0x00000803"),
                    HasSubstr("found 0x68656C6C")));
}

TEST_F(IdxTest, SwappedImageAndLabelFilesAreRecognised) {
  const fs::path images = write_gzip("images.gz", idx_images(2, 1, 1, counting_bytes(2)));
  const fs::path labels = write_gzip("labels.gz", idx_labels(2, std::string(2, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(labels, images, kClasses); }),
              AllOf(HasSubstr(labels.string()),
                    HasSubstr("expected the IDX image magic number "
                              "0x00000803, found 0x00000801"),
                    HasSubstr("swapped")));
}

TEST_F(IdxTest, LabelCountMismatchNamesBothCounts) {
  const fs::path images = write_gzip("images.gz", idx_images(3, 1, 1, counting_bytes(3)));
  const fs::path labels = write_gzip("labels.gz", idx_labels(2, std::string(2, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(labels.string()), HasSubstr("one label per image"),
                    HasSubstr("holds 3 images"), HasSubstr("found 2 labels")));
}

TEST_F(IdxTest, ZeroAndAbsurdDimensionsAreRejected) {
  const fs::path labels = write_gzip("labels.gz", idx_labels(1, std::string(1, '\0')));
  const fs::path zero_rows = write_gzip("zero.gz", idx_images(1, 0, 28, ""));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(zero_rows, labels, kClasses); }),
              AllOf(HasSubstr(zero_rows.string()), HasSubstr("found 0x28")));
  const fs::path huge = write_gzip("huge.gz", idx_images(1, 28, 200000, ""));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(huge, labels, kClasses); }),
              AllOf(HasSubstr(huge.string()), HasSubstr("found 28x200000")));
  const fs::path no_images = write_gzip("none.gz", idx_images(0, 28, 28, ""));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(no_images, labels, kClasses); }),
              AllOf(HasSubstr(no_images.string()), HasSubstr("image count of 0")));
}

TEST_F(IdxTest, HugeDeclaredCountFailsAsTruncatedWithoutHugeAllocation) {
  // 4 * 10^15 bytes of pixels declared: reading must stop at the real end, not allocate first.
  const fs::path images = write_gzip("images.gz", idx_images(4000000000u, 1000, 1000, "ab"));
  const fs::path labels = write_gzip("labels.gz", idx_labels(4000000000u, ""));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(images.string()), HasSubstr("truncated"),
                    HasSubstr("4000000000 images of 1000x1000"), HasSubstr("holds 2 bytes")));
}

TEST_F(IdxTest, SizeBeyond64BitsIsRejectedAsCorruptHeader) {
  const fs::path images = write_gzip("images.gz", idx_images(4000000000u, 100000, 100000, ""));
  const fs::path labels = write_gzip("labels.gz", idx_labels(4000000000u, ""));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(images.string()), HasSubstr("4000000000 images of 100000x100000"),
                    HasSubstr("corrupt")));
}

TEST_F(IdxTest, TruncatedHeaderIsReported) {
  const fs::path images = write_gzip("images.gz", idx_images(1, 1, 1, "").substr(0, 9));
  const fs::path labels = write_gzip("labels.gz", idx_labels(1, std::string(1, '\0')));
  EXPECT_THAT(
      input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
      AllOf(HasSubstr(images.string()), HasSubstr("truncated IDX header"), HasSubstr("row count")));
}

TEST_F(IdxTest, CorruptGzipStreamIsReported) {
  // A valid 10-byte gzip header (magic 1f 8b, deflate, no flags) followed by garbage.
  std::string bytes("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  bytes += std::string(64, '\xff');
  const fs::path images = write_plain("images.gz", bytes);
  const fs::path labels = write_gzip("labels.gz", idx_labels(1, std::string(1, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(images.string()), HasSubstr("corrupt gzip stream")));
}

TEST_F(IdxTest, CutOffGzipStreamIsReported) {
  const fs::path whole = write_gzip("whole.gz", idx_images(50, 10, 10, counting_bytes(5000)));
  std::ifstream in(whole, std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  const fs::path images = write_plain("images.gz", compressed.substr(0, compressed.size() / 2));
  const fs::path labels = write_gzip("labels.gz", idx_labels(50, std::string(50, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(images.string()), HasSubstr("truncated")));
}

TEST_F(IdxTest, LabelOutOfRangeNamesItsRecordWhenTheFileIsRead) {
  const fs::path images = write_gzip("images.gz", idx_images(3, 1, 1, std::string(3, '\0')));
  const fs::path labels = write_gzip("labels.gz", idx_labels(3, std::string("\x01\x09\xC8", 3)));
  // Record 2 (label 200) sits after the 8-byte header: byte offset 10.
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(labels.string()), HasSubstr("label record 2 (byte offset 10"), HasSubstr("is 200"),
                    HasSubstr("0 to 9")));
  const fs::path ten = write_gzip("ten.gz", idx_labels(3, std::string("\x01\x0A\x02", 3)));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, ten, kClasses); }),
              AllOf(HasSubstr("label record 1"), HasSubstr("is 10")));
  EXPECT_THAT(read_idx_dataset(images, ten, 11).labels, ElementsAre(1, 10, 2));
}

TEST_F(IdxTest, GarbageAfterTheGzipStreamIsReported) {
  const fs::path whole = write_gzip("whole.gz", idx_labels(2, std::string("\x01\x02", 2)));
  std::ifstream in(whole, std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path labels = write_plain("labels.gz", compressed + "junk");
  const fs::path images = write_gzip("images.gz", idx_images(2, 1, 1, std::string(2, '\0')));
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(images, labels, kClasses); }),
              AllOf(HasSubstr(labels.string()), HasSubstr("trailing data after the gzip stream"), HasSubstr("4 bytes")));
  // Concatenated gzip members are one stream, as gzip reads them.
  const fs::path second = write_gzip("second.gz", "\x03");
  std::ifstream in2(second, std::ios::binary);
  const std::string member2((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
  const fs::path first = write_gzip("first.gz", idx_labels(3, std::string("\x01\x02", 2)));
  std::ifstream in1(first, std::ios::binary);
  const std::string member1((std::istreambuf_iterator<char>(in1)), std::istreambuf_iterator<char>());
  const fs::path joined = write_plain("joined.gz", member1 + member2);
  const fs::path three = write_gzip("three.gz", idx_images(3, 1, 1, std::string(3, '\0')));
  EXPECT_THAT(read_idx_dataset(three, joined, kClasses).labels, ElementsAre(1, 2, 3));
}

TEST_F(IdxTest, ParsesInMemoryBytesLikeFiles) {
  const std::string images = idx_images(2, 1, 2, "\x01\x02\x03\x04");
  const std::string labels = idx_labels(2, std::string("\x05\x06", 2));
  const ImageSet set = parse_idx_dataset(images, "i", labels, "l", kClasses);
  EXPECT_THAT(set.pixels, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(set.labels, ElementsAre(5, 6));
}

TEST_F(IdxTest, MissingFileIsReported) {
  const fs::path labels = write_gzip("labels.gz", idx_labels(1, std::string(1, '\0')));
  const fs::path missing = dir_ / "missing.gz";
  EXPECT_THAT(input_error_from([&] { read_idx_dataset(missing, labels, kClasses); }),
              AllOf(HasSubstr(missing.string()), HasSubstr("cannot open file")));
}

TEST_F(IdxTest, MissingFashionMnistDirectoryNamesTheDebianPackage) {
  const fs::path missing = dir_ / "no-such-dataset";
  EXPECT_THAT(input_error_from([&] { load_fashion_mnist(missing, true); }),
              AllOf(HasSubstr(missing.string()), HasSubstr("dataset-fashion-mnist"),
                    HasSubstr("/usr/share/datasets/fashion-mnist")));
}

TEST_F(IdxTest, MissingFashionMnistFileNamesTheFileAndTheDebianPackage) {
  write_gzip("t10k-images-idx3-ubyte.gz", idx_images(1, 1, 1, "x"));
  EXPECT_THAT(input_error_from([&] { load_fashion_mnist(dir_, false); }),
              AllOf(HasSubstr((dir_ / "t10k-labels-idx1-ubyte.gz").string()),
                    HasSubstr("dataset-fashion-mnist")));
}

TEST_F(IdxTest, LoadFashionMnistPicksTheSplitFiles) {
  write_gzip("train-images-idx3-ubyte.gz", idx_images(2, 1, 1, "ab"));
  write_gzip("train-labels-idx1-ubyte.gz", idx_labels(2, std::string("\x03\x04", 2)));
  write_gzip("t10k-images-idx3-ubyte.gz", idx_images(1, 1, 1, "c"));
  write_gzip("t10k-labels-idx1-ubyte.gz", idx_labels(1, std::string("\x05", 1)));
  EXPECT_THAT(load_fashion_mnist(dir_, true).labels, ElementsAre(3, 4));
  EXPECT_THAT(load_fashion_mnist(dir_, false).labels, ElementsAre(5));
}

void expect_fashion_mnist_split(bool train, int64_t expected_count) {
  if (!fs::is_directory(kFashionMnistDir)) {
    GTEST_SKIP() << kFashionMnistDir << " is absent (Debian package dataset-fashion-mnist)";
  }
  const ImageSet set = load_fashion_mnist(kFashionMnistDir, train);
  EXPECT_EQ(set.count, expected_count);
  EXPECT_EQ(set.channels, 1);
  EXPECT_EQ(set.height, 28);
  EXPECT_EQ(set.width, 28);
  EXPECT_EQ(set.pixels.size(), static_cast<std::size_t>(expected_count * 28 * 28));
  ASSERT_EQ(set.labels.size(), static_cast<std::size_t>(expected_count));
  EXPECT_LT(*std::max_element(set.labels.begin(), set.labels.end()), 10);
  // Every class appears, and the images are not blank.
  for (uint8_t label = 0; label < 10; ++label) {
    EXPECT_NE(std::find(set.labels.begin(), set.labels.end(), label), set.labels.end()) << +label;
  }
  EXPECT_EQ(*std::max_element(set.pixels.begin(), set.pixels.end()), 255);
}

TEST(FashionMnistTest, RealTrainingSetHas60000ImagesOf28x28) {
  expect_fashion_mnist_split(true, 60000);
}

TEST(FashionMnistTest, RealTestSetHas10000ImagesOf28x28) {
  expect_fashion_mnist_split(false, 10000);
}

}  // namespace
}  // namespace bitline::io
