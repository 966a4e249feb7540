#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "io/atomic_file.h"
#include "io/checked_file.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const CheckedFileKind kKind{"checkpoint", 2};

class CheckedFileTest : public TempDirTest {
 protected:
  std::string write_and_read_bytes(const std::string& payload) {
    write_checked_file(dir_ / "f", kKind, payload);
    return read_text_file(dir_ / "f");
  }
};

TEST_F(CheckedFileTest, RoundTripsAnyPayloadBehindAReadableHeader) {
  const char bytes_with_nul[] = "PK\x03\x04 binary \0 bytes\n";
  const std::string payload(bytes_with_nul, sizeof bytes_with_nul - 1);  // 20 bytes, the NUL inside included
  const std::string bytes = write_and_read_bytes(payload);
  // Header: kind, version, payload length and zlib's CRC-32 of the payload.
  EXPECT_EQ(bytes.substr(0, bytes.find('\n') + 1), checked_file_header(kKind, payload));
  EXPECT_THAT(bytes, HasSubstr("bitline checkpoint 2 20 "));
  EXPECT_EQ(read_checked_file(dir_ / "f", kKind), payload);
  EXPECT_EQ(parse_checked_file(checked_file_header(kKind, ""), "empty", kKind), "");
}

TEST_F(CheckedFileTest, EveryFlippedBitIsCaught) {
  const std::string bytes = write_and_read_bytes(std::string(300, 'x') + "payload");
  const std::size_t header = bytes.find('\n') + 1;
  for (std::size_t at = header; at < bytes.size(); at += 7) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
      EXPECT_THAT(input_error_from([&] { parse_checked_file(flipped, "f.ckpt", kKind); }),
                  HasSubstr("f.ckpt: corrupt checkpoint: expected the payload's CRC-32")) << at << " " << bit;
    }
  }
}

TEST_F(CheckedFileTest, TruncatedAndExtendedFilesAreReported) {
  const std::string bytes = write_and_read_bytes("0123456789");
  EXPECT_THAT(input_error_from([&] { parse_checked_file(bytes.substr(0, bytes.size() - 3), "f", kKind); }),
              HasSubstr("f: truncated: the header says 10 bytes of payload but the file holds 7"));
  EXPECT_THAT(input_error_from([&] { parse_checked_file(bytes + "!", "f", kKind); }),
              HasSubstr("f: trailing bytes: the header says 10 bytes of payload but the file holds 11"));
}

TEST_F(CheckedFileTest, OtherFilesKindsAndVersionsAreNamed) {
  EXPECT_THAT(input_error_from([&] { parse_checked_file("", "f", kKind); }),
              HasSubstr("f: expected a bitline checkpoint file, starting with a first line 'bitline checkpoint "
                        "<version> <payload bytes> <crc32>'; found an empty file"));
  EXPECT_THAT(input_error_from([&] { parse_checked_file(std::string("PK\x03\x04zipdata", 11), "old", kKind); }),
              HasSubstr("(a plain zip archive, as bitline wrote before its files carried a checksum)"));
  const std::string other_kind = checked_file_header({"sweep", 2}, "x") + "x";
  EXPECT_THAT(input_error_from([&] { parse_checked_file(other_kind, "f", kKind); }),
              HasSubstr("found the header 'bitline sweep 2 1 "));
  const std::string newer = checked_file_header({"checkpoint", 3}, "x") + "x";
  EXPECT_THAT(input_error_from([&] { parse_checked_file(newer, "f", kKind); }),
              HasSubstr("f: expected a bitline checkpoint of format version 2, found version 3"));
  for (const char* header : {"bitline checkpoint 2 1 zzzzzzzz\nx", "bitline checkpoint 2 -1 00000000\n",
                             "bitline checkpoint 2 1 0000000\nx", "bitline checkpoint\n", "bitline no newline"}) {
    EXPECT_THAT(input_error_from([&] { parse_checked_file(header, "f", kKind); }), HasSubstr("f: expected a bitline checkpoint"))
        << header;
  }
}

}  // namespace
}  // namespace bitline::io
