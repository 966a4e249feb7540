#include <gtest/gtest.h>

#include <fstream>

#include "io/csv_table.h"
#include "io_test_support.h"

namespace bitline::io {
namespace {

class CsvTableTest : public TempDirTest {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(CsvTableTest, ReadsCellsSkippingCommentsBlankLinesAndSpaces) {
  const auto table = CsvTable::read(write("t.csv", "# a comment\ncorner, vdd_v\n\nTT , 0.9\nSS,0.6\n"));
  ASSERT_EQ(table.rows(), 2u);
  EXPECT_EQ(table.text(0, table.column("corner")), "TT");
  EXPECT_DOUBLE_EQ(table.number(1, table.column("vdd_v")), 0.6);
  EXPECT_EQ(table.line(1), 5);
  EXPECT_TRUE(table.has_column("vdd_v"));
  EXPECT_FALSE(table.has_column("f0_mhz"));
}

TEST_F(CsvTableTest, MalformedFilesGiveErrorsNamingFileLineAndColumn) {
  EXPECT_NE(input_error_from([&] { CsvTable::read(dir_ / "none.csv"); }).find("none.csv: cannot open"), std::string::npos);
  EXPECT_NE(input_error_from([&] { CsvTable::read(write("empty.csv", "# only a comment\n")); }).find("found an empty file"),
            std::string::npos);
  EXPECT_NE(input_error_from([&] { CsvTable::read(write("header.csv", "code,inl_lsb\n")); }).find("found none"),
            std::string::npos);
  EXPECT_NE(input_error_from([&] { CsvTable::read(write("cells.csv", "code,inl_lsb\n1,0.1\n2\n")); })
                .find("cells.csv: line 3: expected 2 cells like the header (code,inl_lsb), found 1"),
            std::string::npos);
  EXPECT_NE(input_error_from([&] { CsvTable::read(write("twice.csv", "code,code\n1,2\n")); }).find("'code' appears twice"),
            std::string::npos);
  const auto table = CsvTable::read(write("values.csv", "code,inl_lsb\n1.5,x\n2,inf\n"));
  EXPECT_NE(input_error_from([&] { table.number(0, 1); }).find("values.csv: line 2, column 'inl_lsb': expected a finite number, found 'x'"),
            std::string::npos);
  EXPECT_NE(input_error_from([&] { table.number(1, 1); }).find("found 'inf'"), std::string::npos);
  EXPECT_NE(input_error_from([&] { table.integer(0, 0); }).find("expected an integer, found '1.5'"), std::string::npos);
  EXPECT_NE(input_error_from([&] { table.column("dnl_lsb"); }).find("expected a column 'dnl_lsb', found columns code, inl_lsb"),
            std::string::npos);
}

}  // namespace
}  // namespace bitline::io
