#pragma once
// Small CSV tables with a header row (ADC transfer tables, CCO operating points): comma-separated,
// '#' comment lines and blank lines skipped, surrounding spaces trimmed, no quoting.
#include <filesystem>
#include <string>
#include <vector>

namespace bitline::io {

// A CSV cell for writing: the text, quoted (with "" for ") when it holds a comma, quote or newline
// (RFC 4180; CsvTable reads only the unquoted tables bitline's configs name).
std::string csv_field(const std::string& text);

class CsvTable {
 public:
  // Throws InputError naming the file for a missing or empty file, a row whose cell count differs
  // from the header's, or a repeated column name.
  static CsvTable read(const std::filesystem::path& path);
  // The same for a file's text already in memory; `path` names it in messages.
  static CsvTable parse(const std::string& text, const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  std::size_t rows() const { return cells_.size(); }
  std::size_t columns() const { return header_.size(); }
  // The index of a column; throws InputError listing the file's columns when it is missing.
  std::size_t column(const std::string& name) const;
  bool has_column(const std::string& name) const;
  const std::string& text(std::size_t row, std::size_t column) const { return cells_[row][column]; }
  // The cell as a finite number; throws InputError naming file, line and column otherwise.
  double number(std::size_t row, std::size_t column) const;
  // The cell as an integer; throws InputError naming file, line and column otherwise.
  long long integer(std::size_t row, std::size_t column) const;
  // The file's line number of a data row (for messages).
  int line(std::size_t row) const { return lines_[row]; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> cells_;
  std::vector<int> lines_;
};

}  // namespace bitline::io
