#pragma once
// Shared by the io tests: a fresh temporary folder per test, and the message of an expected
// InputError.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <system_error>

#include "core/error.h"

namespace bitline::io {

// Runs `action`, expects an InputError and returns its message.
inline std::string input_error_from(const std::function<void()>& action) {
  std::string message;
  EXPECT_THROW(
      {
        try {
          action();
        } catch (const InputError& e) {
          message = e.what();
          throw;
        }
      },
      InputError);
  return message;
}

// dir_: an empty folder of this test's own, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("bitline_io_tests-" + std::to_string(::getpid())) /
           (std::string(test->test_suite_name()) + "." + test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    std::error_code ignored;  // removes the per-process folder once its last test is done
    std::filesystem::remove(dir_.parent_path(), ignored);
  }

  std::filesystem::path dir_;
};

}  // namespace bitline::io
