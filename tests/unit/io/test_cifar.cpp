#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/cifar.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::size_t kImageBytes = 3 * 32 * 32;
constexpr std::size_t kRecordBytes = 1 + kImageBytes;

// Pixel value of a synthetic image: depends on the image seed, channel and position, so that a
// mix-up of records, channels or rows changes it.
uint8_t synthetic_pixel(int seed, std::size_t channel, std::size_t position) {
  return static_cast<uint8_t>(seed * 31 + channel * 101 + position * 7);
}

std::string cifar_record(uint8_t label, int seed) {
  std::string record(1, static_cast<char>(label));
  for (std::size_t channel = 0; channel < 3; ++channel) {
    for (std::size_t position = 0; position < 32 * 32; ++position) {
      record += static_cast<char>(synthetic_pixel(seed, channel, position));
    }
  }
  return record;
}

void expect_synthetic_image(const ImageSet& set, std::size_t index, int seed) {
  const uint8_t* image = set.pixels.data() + index * kImageBytes;
  for (std::size_t channel = 0; channel < 3; ++channel) {
    for (std::size_t position = 0; position < 32 * 32; ++position) {
      ASSERT_EQ(image[channel * 1024 + position], synthetic_pixel(seed, channel, position))
          << "image " << index << " channel " << channel << " position " << position;
    }
  }
}

class CifarTest : public TempDirTest {
 protected:
  static fs::path write_file(const fs::path& path, const std::string& contents) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  // Writes data_batch_1..5 with 3 records each (labels (batch + record) % 10, seed batch*10 +
  // record) and test_batch.bin with 2 records into `folder`.
  static void write_synthetic_cifar(const fs::path& folder) {
    for (int batch = 1; batch <= 5; ++batch) {
      std::string contents;
      for (int record = 0; record < 3; ++record) {
        contents += cifar_record(static_cast<uint8_t>((batch + record) % 10), batch * 10 + record);
      }
      write_file(folder / ("data_batch_" + std::to_string(batch) + ".bin"), contents);
    }
    write_file(folder / "test_batch.bin", cifar_record(9, 900) + cifar_record(0, 901));
  }
};

TEST_F(CifarTest, TrainingSplitConcatenatesFiveBatchesInOrder) {
  write_synthetic_cifar(dir_);
  const ImageSet set = load_cifar10(dir_, true);
  EXPECT_EQ(set.count, 15);
  EXPECT_EQ(set.channels, 3);
  EXPECT_EQ(set.height, 32);
  EXPECT_EQ(set.width, 32);
  ASSERT_EQ(set.pixels.size(), 15 * kImageBytes);
  EXPECT_THAT(set.labels, ElementsAre(1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6, 5, 6, 7));
  for (int batch = 1; batch <= 5; ++batch) {
    for (int record = 0; record < 3; ++record) {
      expect_synthetic_image(set, static_cast<std::size_t>((batch - 1) * 3 + record),
                             batch * 10 + record);
    }
  }
}

TEST_F(CifarTest, TestSplitReadsTestBatch) {
  write_synthetic_cifar(dir_);
  const ImageSet set = load_cifar10(dir_, false);
  EXPECT_EQ(set.count, 2);
  EXPECT_THAT(set.labels, ElementsAre(9, 0));
  expect_synthetic_image(set, 0, 900);
  expect_synthetic_image(set, 1, 901);
}

TEST_F(CifarTest, AcceptsTheArchiveFolderInsideTheDirectory) {
  write_synthetic_cifar(dir_ / "cifar-10-batches-bin");
  EXPECT_EQ(load_cifar10(dir_, true).count, 15);
  EXPECT_EQ(load_cifar10(dir_, false).count, 2);
}

TEST_F(CifarTest, ReadBatchesKeepsTheGivenFileOrder) {
  const fs::path first = write_file(dir_ / "a.bin", cifar_record(4, 1));
  const fs::path second = write_file(dir_ / "b.bin", cifar_record(8, 2) + cifar_record(6, 3));
  const ImageSet set = read_cifar10_batches({second, first});
  EXPECT_EQ(set.count, 3);
  EXPECT_THAT(set.labels, ElementsAre(8, 6, 4));
  expect_synthetic_image(set, 2, 1);
}

TEST_F(CifarTest, SizeNotAMultipleOfTheRecordNamesSizeAndRemainder) {
  const fs::path file =
      write_file(dir_ / "data_batch_1.bin", cifar_record(1, 1) + cifar_record(2, 2) + "extra");
  EXPECT_THAT(input_error_from([&] { read_cifar10_batches({file}); }),
              AllOf(HasSubstr(file.string()), HasSubstr("multiple of the 3073-byte"),
                    HasSubstr("found 6151 bytes"), HasSubstr("5 bytes left over")));
}

TEST_F(CifarTest, EmptyFileIsReported) {
  const fs::path file = write_file(dir_ / "test_batch.bin", "");
  EXPECT_THAT(input_error_from([&] { read_cifar10_batches({file}); }),
              AllOf(HasSubstr(file.string()), HasSubstr("empty file")));
}

TEST_F(CifarTest, LabelAboveNineNamesRecordAndValue) {
  const fs::path file =
      write_file(dir_ / "data_batch_1.bin", cifar_record(3, 1) + cifar_record(57, 2));
  EXPECT_THAT(input_error_from([&] { read_cifar10_batches({file}); }),
              AllOf(HasSubstr(file.string()), HasSubstr("record 1"), HasSubstr("label 57"),
                    HasSubstr("0 to 9")));
}

TEST_F(CifarTest, MissingFileIsReported) {
  const fs::path missing = dir_ / "data_batch_9.bin";
  EXPECT_THAT(input_error_from([&] { read_cifar10_batches({missing}); }),
              AllOf(HasSubstr(missing.string()), HasSubstr("cannot open file")));
}

TEST_F(CifarTest, NoFilesIsAProgrammingError) {
  EXPECT_THROW(read_cifar10_batches({}), std::invalid_argument);
}

TEST_F(CifarTest, MissingFolderNamesBothPlacesAndHowToGetTheData) {
  const fs::path missing = dir_ / "cifar";
  const std::string message = input_error_from([&] { load_cifar10(missing, true); });
  EXPECT_THAT(message, AllOf(HasSubstr(missing.string()),
                             HasSubstr((missing / "cifar-10-batches-bin").string()),
                             HasSubstr("data_batch_1.bin"), HasSubstr("not packaged for Debian"),
                             HasSubstr("CIFAR-10 binary version"), HasSubstr("data.path")));
}

TEST_F(CifarTest, IncompleteTrainingSetIsReportedAsMissing) {
  write_synthetic_cifar(dir_);
  fs::remove(dir_ / "data_batch_4.bin");
  EXPECT_THAT(input_error_from([&] { load_cifar10(dir_, true); }),
              AllOf(HasSubstr(dir_.string()), HasSubstr("lacks data_batch_4.bin")));
  EXPECT_EQ(load_cifar10(dir_, false).count, 2);  // the test split is still complete
}

}  // namespace
}  // namespace bitline::io
