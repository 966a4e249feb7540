// io/process.h: programs started with an argument vector, never a shell (issue 25), and the one
// shell-quoting function of the scripts bitline writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/process.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

namespace fs = std::filesystem;

// Strings a shell would act on: separators, substitutions, quotes, globs, comments, newlines.
const std::vector<std::string> kHostile = {
    "1; touch X #", "$(touch X)", "`touch X`", "a'b", "a\"b",   "a\\b", "* ?",        "a\nb\ttouch X",
    "--help",       "",           "'",         "''",  "\\'",    "!$",   "&& touch X", "${IFS}x",
    "x > X",        "# c",        "|touch X",  "~",   "a b  c", "\r"};

class ProcessTest : public TempDirTest {};

TEST_F(ProcessTest, ArgumentsArriveAsTheyAreOneEach) {
  // printf prints each argument between brackets: nothing is split, expanded or run.
  std::vector<std::string> argv = {"printf", "[%s]"};
  argv.insert(argv.end(), kHostile.begin(), kHostile.end());
  const auto result = run_program(argv);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 0);
  std::string expected;
  for (const auto& argument : kHostile) expected += "[" + argument + "]";
  EXPECT_EQ(result->output, expected);
  EXPECT_FALSE(fs::exists("X"));
}

TEST_F(ProcessTest, FeedsStdinAndKeepsStdoutAndStderrApart) {
  std::string big(200000, 'x');  // more than a pipe holds: stdin and stdout must flow together
  const auto result = run_program({"cat"}, big);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->output, big);
  const auto split = run_program({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(split.has_value());
  EXPECT_EQ(split->output, "out\n");
  EXPECT_EQ(split->errors, "err\n");
  EXPECT_EQ(split->exit_code, 3);
}

TEST_F(ProcessTest, AProgramThatIsNotThereIsNoResult) {
  EXPECT_FALSE(run_program({"bitline-no-such-program"}).has_value());
  EXPECT_FALSE(run_program({"/nonexistent/bin/true"}).has_value());
  EXPECT_FALSE(find_program("bitline-no-such-program").has_value());
  const auto sh = find_program("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_TRUE(fs::path(*sh).is_absolute() || sh->string().find('/') != std::string::npos);
}

TEST_F(ProcessTest, AChildKilledBySignalReportsIt) {
  const auto result = run_program({"sh", "-c", "kill -KILL $$"});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 128 + 9);
}

TEST_F(ProcessTest, ShellQuoteGivesTheShellBackTheSameWord) {
  // The independent check: /bin/sh itself parses the quoted word.
  for (const auto& text : kHostile) {
    const auto result = run_program({"sh", "-c", "printf '%s' " + shell_quote(text)});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->output, text) << "quoted as " << shell_quote(text);
  }
  EXPECT_EQ(shell_quote("a'b"), "'a'\\''b'");
  EXPECT_FALSE(fs::exists("X"));
}

}  // namespace
}  // namespace bitline::io
