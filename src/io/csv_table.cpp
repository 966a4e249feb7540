#include "io/csv_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::io {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream stream(line);
  std::string cell;
  while (std::getline(stream, cell, ',')) cells.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

}  // namespace

CsvTable CsvTable::read(const std::filesystem::path& path) {
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(path, ignored)) {
    throw InputError(fmt::format("{}: cannot open the CSV file: {}", path.string(),
                                 std::filesystem::exists(path, ignored) ? "it is not a regular file" : "no such file"));
  }
  return parse(read_text_file(path), path);
}

CsvTable CsvTable::parse(const std::string& text, const std::filesystem::path& path) {
  std::istringstream file(text);
  CsvTable table;
  table.path_ = path;
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    const std::string content = trim(line);
    if (content.empty() || content[0] == '#') continue;
    auto cells = split(content);
    if (table.header_.empty()) {
      for (std::size_t c = 0; c < cells.size(); ++c) {
        for (std::size_t d = 0; d < c; ++d) {
          if (cells[c] == cells[d]) {
            throw InputError(fmt::format("{}: line {}: column '{}' appears twice in the header", path.string(), number,
                                         cells[c]));
          }
        }
      }
      table.header_ = std::move(cells);
      continue;
    }
    if (cells.size() != table.header_.size()) {
      throw InputError(fmt::format("{}: line {}: expected {} cells like the header ({}), found {}", path.string(), number,
                                   table.header_.size(), fmt::join(table.header_, ","), cells.size()));
    }
    table.cells_.push_back(std::move(cells));
    table.lines_.push_back(number);
  }
  if (table.header_.empty()) throw InputError(fmt::format("{}: expected a header row and data rows, found an empty file", path.string()));
  if (table.cells_.empty()) throw InputError(fmt::format("{}: expected data rows after the header, found none", path.string()));
  return table;
}

bool CsvTable::has_column(const std::string& name) const {
  for (const auto& h : header_) {
    if (h == name) return true;
  }
  return false;
}

std::size_t CsvTable::column(const std::string& name) const {
  for (std::size_t c = 0; c < header_.size(); ++c) {
    if (header_[c] == name) return c;
  }
  throw InputError(fmt::format("{}: expected a column '{}', found columns {}", path_.string(), name, fmt::join(header_, ", ")));
}

double CsvTable::number(std::size_t row, std::size_t column) const {
  const std::string& cell = cells_[row][column];
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (cell.empty() || used != cell.size() || !std::isfinite(value)) {
    throw InputError(fmt::format("{}: line {}, column '{}': expected a finite number, found '{}'", path_.string(),
                                 lines_[row], header_[column], cell));
  }
  return value;
}

long long CsvTable::integer(std::size_t row, std::size_t column) const {
  const std::string& cell = cells_[row][column];
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (cell.empty() || used != cell.size()) {
    throw InputError(fmt::format("{}: line {}, column '{}': expected an integer, found '{}'", path_.string(),
                                 lines_[row], header_[column], cell));
  }
  return value;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace bitline::io
