#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

class AtomicFileTest : public TempDirTest {
 protected:
  static void write_plain(const fs::path& path, const std::string& contents) {
    std::ofstream(path, std::ios::binary) << contents;
  }

  // Number of entries in the test directory: catches leftover temporary files.
  int entries_in_dir() const {
    int count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++count;
    return count;
  }
};

TEST_F(AtomicFileTest, WriteFileAtomicallyCreatesFileWithContents) {
  const fs::path target = dir_ / "out.txt";
  write_file_atomically(target, "hello\n");
  EXPECT_EQ(read_text_file(target), "hello\n");
  EXPECT_EQ(entries_in_dir(), 1);
}

TEST_F(AtomicFileTest, WriteFileAtomicallyCreatesMissingParentDirectories) {
  const fs::path target = dir_ / "a" / "b" / "out.bin";
  write_file_atomically(target, std::string("\0\x01\x02", 3));
  EXPECT_EQ(read_text_file(target), std::string("\0\x01\x02", 3));
}

TEST_F(AtomicFileTest, WriteFileAtomicallyReplacesExistingContents) {
  const fs::path target = dir_ / "out.txt";
  write_plain(target, "old contents that are longer");
  write_file_atomically(target, "new");
  EXPECT_EQ(read_text_file(target), "new");
  EXPECT_EQ(entries_in_dir(), 1);
}

TEST_F(AtomicFileTest, WriteFileAtomicallyWritesEmptyFile) {
  const fs::path target = dir_ / "empty";
  write_file_atomically(target, "");
  EXPECT_TRUE(fs::exists(target));
  EXPECT_EQ(fs::file_size(target), 0u);
}

TEST_F(AtomicFileTest, WriteFileAtomicallyNamesPathWhenParentIsAFile) {
  write_plain(dir_ / "not_a_dir", "x");
  const fs::path target = dir_ / "not_a_dir" / "out.txt";
  try {
    write_file_atomically(target, "data");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {  // the output location is the user's choice: bad input
    EXPECT_THAT(e.what(), HasSubstr(target.string()));
  }
}

TEST_F(AtomicFileTest, CreateOutputDirectoryNamesWhatItIsForAndTheReason) {
  write_plain(dir_ / "a_file", "x");
  const fs::path dir = dir_ / "a_file" / "checkpoints";
  EXPECT_THAT(input_error_from([&] { create_output_directory(dir, "experiment.checkpoint_dir"); }),
              HasSubstr("experiment.checkpoint_dir: cannot create directory " + dir.string() + ": Not a directory"));
  create_output_directory(dir_ / "new" / "nested", "experiment.run_dir");
  EXPECT_TRUE(fs::is_directory(dir_ / "new" / "nested"));
}

TEST_F(AtomicFileTest, PrepareOutputDirectoryAcceptsOnlyNewEmptyOrOwnDirectories) {
  const std::vector<std::string> own = {"summary.json", "cost_*.csv"};
  prepare_output_directory(dir_ / "fresh", own, "output_dir");
  EXPECT_TRUE(fs::is_directory(dir_ / "fresh"));
  write_plain(dir_ / "fresh" / "summary.json", "{}");
  write_plain(dir_ / "fresh" / "cost_a.csv", "");
  prepare_output_directory(dir_ / "fresh", own, "output_dir");  // a previous output: accepted
  write_plain(dir_ / "fresh" / "notes.txt", "mine");
  EXPECT_THAT(input_error_from([&] { prepare_output_directory(dir_ / "fresh", own, "key 'output_dir'"); }),
              HasSubstr("key 'output_dir': expected a new or empty directory, or one holding only this "
                              "command's outputs (summary.json, cost_*.csv); found " +
                              (dir_ / "fresh").string() + " with other entries (notes.txt)"));
  EXPECT_THAT(input_error_from([&] { prepare_output_directory(dir_ / "fresh" / "notes.txt", own, "run_dir"); }),
              HasSubstr("which is not a directory"));
}

TEST_F(AtomicFileTest, PrepareOutputDirectoriesChecksAllBeforeCreatingAnyAndRollsBack) {
  write_plain(dir_ / "a_file", "");
  // The second is refused by its check: the first is not created.
  EXPECT_THAT(input_error_from([&] {
                prepare_output_directories({{dir_ / "run" / "deep", {}, "run_dir"}, {dir_ / "a_file" / "x", {}, "checkpoint_dir"}});
              }),
              HasSubstr("checkpoint_dir: cannot create directory " + (dir_ / "a_file" / "x").string() + ": " +
                        (dir_ / "a_file").string() + " is not a directory"));
  EXPECT_FALSE(fs::exists(dir_ / "run"));
  // The second passes its check but cannot be created (/proc takes no new folders, even from root):
  // the first, created just before, is removed again.
  EXPECT_THAT(input_error_from([&] {
                prepare_output_directories({{dir_ / "run" / "deep", {}, "run_dir"}, {"/proc/bitline-test/x", {}, "checkpoint_dir"}});
              }),
              HasSubstr("checkpoint_dir: cannot create directory /proc/bitline-test/x"));
  EXPECT_FALSE(fs::exists(dir_ / "run"));
  prepare_output_directories({{dir_ / "run" / "deep", {}, "run_dir"}, {dir_ / "run" / "ckpt", {}, "checkpoint_dir"}});
  EXPECT_TRUE(fs::is_directory(dir_ / "run" / "deep"));
  EXPECT_TRUE(fs::is_directory(dir_ / "run" / "ckpt"));
  // The writability probe leaves nothing behind.
  EXPECT_TRUE(fs::is_empty(dir_ / "run" / "deep"));
  EXPECT_THAT(input_error_from([] { prepare_output_directory("", {}, "--output-dir"); }),
              HasSubstr("--output-dir: expected a directory path for the output files, found ''"));
}

TEST_F(AtomicFileTest, PrepareOutputFileRefusesWhatCannotBeAFileWrittenThere) {
  EXPECT_THAT(input_error_from([] { prepare_output_file("", "-o"); }), HasSubstr("-o: expected a file path, found ''"));
  EXPECT_THAT(input_error_from([] { prepare_output_file("/", "-o"); }), HasSubstr("-o: expected a file path, found the directory /"));
  EXPECT_THAT(input_error_from([&] { prepare_output_file(dir_, "-o"); }), HasSubstr("found the directory"));
  EXPECT_THAT(input_error_from([] { prepare_output_file("/proc/bitline-report.html", "-o"); }),
              HasSubstr("-o: cannot write /proc/bitline-report.html: its folder /proc is not writable"));
  prepare_output_file(dir_ / "new" / "report.html", "-o");  // a missing folder is made
  EXPECT_TRUE(fs::is_directory(dir_ / "new"));
  EXPECT_TRUE(fs::is_empty(dir_ / "new"));
  prepare_output_file(dir_ / "report.html", "-o");
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
}

TEST_F(AtomicFileTest, TempPathIsBesideTargetAndUnique) {
  const fs::path target = dir_ / "out.txt";
  AtomicFile first(target);
  AtomicFile second(target);
  EXPECT_EQ(first.temp_path().parent_path(), target.parent_path());
  EXPECT_NE(first.temp_path(), target);
  EXPECT_NE(first.temp_path(), second.temp_path());
  EXPECT_THAT(first.temp_path().filename().string(), HasSubstr("out.txt.tmp-"));
}

TEST_F(AtomicFileTest, TargetKeepsOldContentsUntilCommit) {
  const fs::path target = dir_ / "out.txt";
  write_plain(target, "old");
  AtomicFile file(target);
  write_plain(file.temp_path(), "new");
  EXPECT_EQ(read_text_file(target), "old");
  file.commit();
  EXPECT_EQ(read_text_file(target), "new");
  EXPECT_FALSE(fs::exists(file.temp_path()));
}

TEST_F(AtomicFileTest, DestructionWithoutCommitRemovesTempAndKeepsTarget) {
  const fs::path target = dir_ / "out.txt";
  write_plain(target, "old");
  fs::path temp;
  {
    AtomicFile file(target);
    temp = file.temp_path();
    write_plain(temp, "half-written");
    ASSERT_TRUE(fs::exists(temp));
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(read_text_file(target), "old");
  EXPECT_EQ(entries_in_dir(), 1);
}

TEST_F(AtomicFileTest, ExceptionBeforeCommitLeavesNoTempFile) {
  const fs::path target = dir_ / "out.txt";
  try {
    AtomicFile file(target);
    write_plain(file.temp_path(), "partial");
    throw std::runtime_error("simulated failure while writing");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(entries_in_dir(), 0);
}

TEST_F(AtomicFileTest, CommitWithoutWrittenTempThrows) {
  AtomicFile file(dir_ / "out.txt");
  EXPECT_THROW(file.commit(), fs::filesystem_error);
}

TEST_F(AtomicFileTest, ReadTextFileOfMissingFileNamesPathAndReason) {
  const fs::path missing = dir_ / "missing.txt";
  const std::string message = input_error_from([&] { read_text_file(missing); });
  EXPECT_THAT(message, HasSubstr(missing.string() + ": cannot open file: No such file"));
}

TEST_F(AtomicFileTest, ReadTextFileOfDirectoryThrowsInputError) {
  const std::string message = input_error_from([&] { read_text_file(dir_); });
  EXPECT_THAT(message, HasSubstr(dir_.string()));
  EXPECT_THAT(message, HasSubstr("directory"));
}

}  // namespace
}  // namespace bitline::io
