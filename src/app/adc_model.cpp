#include "app/adc_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "core/error.h"
#include "io/csv_table.h"

namespace bitline::app {
namespace {

// One value per code first_code..last_code from a CSV with columns code and `value_column`, and
// optionally `column` (a per-column table: the values of each column 0, 1, ...); [column][code].
std::vector<std::vector<double>> values_by_column_and_code(const std::string& path, const std::string& key,
                                                           const std::string& value_column, int first_code, int last_code) {
  try {
    const auto table = io::CsvTable::read(path);
    const auto code_column = table.column("code"), values = table.column(value_column);
    const bool per_column = table.has_column("column");
    const std::size_t codes = static_cast<std::size_t>(last_code - first_code + 1);
    std::vector<std::vector<double>> by_code;
    std::vector<std::vector<int>> seen_at;  // [column][code]: the line that gave it
    for (std::size_t row = 0; row < table.rows(); ++row) {
      const long long column = per_column ? table.integer(row, table.column("column")) : 0;
      if (column < 0 || column >= 65536) {
        throw InputError(fmt::format("{}: line {}: expected a column index in [0, 65535], found {}", path,
                                     table.line(row), column));
      }
      if (static_cast<std::size_t>(column) >= by_code.size()) {
        by_code.resize(static_cast<std::size_t>(column) + 1, std::vector<double>(codes));
        seen_at.resize(by_code.size(), std::vector<int>(codes, 0));
      }
      const long long code = table.integer(row, code_column);
      if (code < first_code || code > last_code) {
        throw InputError(fmt::format("{}: line {}: expected a code in [{}, {}], found {}", path, table.line(row),
                                     first_code, last_code, code));
      }
      auto& seen = seen_at[static_cast<std::size_t>(column)][static_cast<std::size_t>(code - first_code)];
      if (seen != 0) {
        throw InputError(fmt::format("{}: line {}: code {}{} appears again (first on line {})", path, table.line(row), code,
                                     per_column ? fmt::format(" of column {}", column) : "", seen));
      }
      seen = table.line(row);
      by_code[static_cast<std::size_t>(column)][static_cast<std::size_t>(code - first_code)] = table.number(row, values);
    }
    if (by_code.empty()) by_code.resize(1, std::vector<double>(codes)), seen_at.resize(1, std::vector<int>(codes, 0));
    for (std::size_t column = 0; column < seen_at.size(); ++column) {
      for (std::size_t k = 0; k < codes; ++k) {
        if (seen_at[column][k] == 0) {
          throw InputError(fmt::format("{}: expected one row for each code {}..{}{}, code {} is missing{} (found {} rows)",
                                       path, first_code, last_code,
                                       per_column ? " of every column 0.." + std::to_string(seen_at.size() - 1)
                                                  : fmt::format(" ({} rows)", codes),
                                       first_code + static_cast<int>(k),
                                       per_column ? fmt::format(" in column {}", column) : "", table.rows()));
        }
      }
    }
    return by_code;
  } catch (const InputError& error) {
    throw InputError(fmt::format("{} (key '{}')", error.what(), key));
  }
}

// The CCO's operating-point table: the CSV file's rows (with their line numbers), or the built-in table.
struct OperatingPointTable {
  std::vector<core::adc::CcoOperatingPoint> points;
  std::vector<int> lines;  // the CSV line of each point; empty for the built-in table
  std::string path;        // empty for the built-in table
};

OperatingPointTable operating_points(const CcoConfig& cco, const std::string& key) {
  if (cco.operating_points_csv.empty()) return {core::adc::default_cco_operating_points(), {}, {}};
  try {
    const auto table = io::CsvTable::read(cco.operating_points_csv);
    const auto corner = table.column("corner"), vdd = table.column("vdd_v"), f0 = table.column("f0_mhz"),
               gain = table.column("gain_mhz_per_ua"), isat = table.column("isat_ua");
    OperatingPointTable result{{}, {}, cco.operating_points_csv};
    for (std::size_t row = 0; row < table.rows(); ++row) {
      core::adc::CcoOperatingPoint p{table.text(row, corner), table.number(row, vdd), table.number(row, f0),
                                     table.number(row, gain), table.number(row, isat)};
      if (p.vdd_v <= 0 || p.f0_mhz < 0 || p.gain_mhz_per_ua <= 0 || p.isat_ua <= 0) {
        throw InputError(fmt::format("{}: line {}: expected vdd_v, gain_mhz_per_ua, isat_ua > 0 and f0_mhz >= 0, "
                                     "found {}, {}, {} and {}",
                                     cco.operating_points_csv, table.line(row), p.vdd_v, p.gain_mhz_per_ua, p.isat_ua,
                                     p.f0_mhz));
      }
      for (std::size_t earlier = 0; earlier < result.points.size(); ++earlier) {
        if (result.points[earlier].corner == p.corner && result.points[earlier].vdd_v == p.vdd_v) {
          throw InputError(fmt::format("{}: line {}: corner '{}' at vdd_v {} appears again (first on line {}); expected "
                                       "one row per corner and supply",
                                       cco.operating_points_csv, table.line(row), p.corner, p.vdd_v,
                                       result.lines[earlier]));
        }
      }
      result.points.push_back(p);
      result.lines.push_back(table.line(row));
    }
    return result;
  } catch (const InputError& error) {
    throw InputError(fmt::format("{} (key '{}.operating_points_csv')", error.what(), key));
  }
}

// The table's point at (corner, vdd_v), interpolated; an error names the CSV file and the lines of
// the corner's rows, or the built-in table, and the keys that chose the point (`keys`).
core::adc::CcoOperatingPoint operating_point_at(const OperatingPointTable& table, const std::string& corner,
                                                double vdd_v, const std::string& keys) {
  try {
    return core::adc::cco_operating_point(table.points, corner, vdd_v);
  } catch (const std::invalid_argument& error) {
    if (table.path.empty()) {
      throw InputError(fmt::format("keys {}: {} (the built-in operating-point table, docs/adc.md)", keys, error.what()));
    }
    std::vector<int> corner_lines;
    for (std::size_t i = 0; i < table.points.size(); ++i) {
      if (table.points[i].corner == corner) corner_lines.push_back(table.lines[i]);
    }
    throw InputError(fmt::format("{}: {}; {} (keys {})", table.path, error.what(),
                                 corner_lines.empty() ? "the file has no row of this corner"
                                                      : fmt::format("the corner's rows are on lines {}",
                                                                    fmt::join(corner_lines, ", ")),
                                 keys));
  }
}

}  // namespace

AdcModel make_adc_model(const AdcConfig& adc, const std::string& key) {
  const int bits = static_cast<int>(adc.bits);
  const int levels = (1 << bits) - 1;
  AdcModel model;
  try {
    if (adc.model == "table") {
      const auto& t = adc.table;
      const int given = !t.thresholds_csv.empty() + !t.inl_csv.empty() + !t.dnl_csv.empty();
      if (given != 1) {
        throw InputError(fmt::format("key '{}.table': model table expects exactly one of thresholds_csv, inl_csv and "
                                     "dnl_csv, found {}",
                                     key, given));
      }
      // The three table files: which one is given, its value column, its last code, and how its
      // values make thresholds.
      using Build = core::adc::ThresholdConverter (*)(int, const std::vector<double>&);
      struct TableFile {
        const std::string& path;
        const char *field, *value_column;
        int last_code;
        Build build;
      };
      const TableFile files[] = {
          {t.thresholds_csv, "thresholds_csv", "threshold_lsb", levels,
           [](int b, const std::vector<double>& v) { return core::adc::ThresholdConverter(b, v); }},
          {t.inl_csv, "inl_csv", "inl_lsb", levels, &core::adc::ThresholdConverter::from_inl},
          {t.dnl_csv, "dnl_csv", "dnl_lsb", levels - 1, &core::adc::ThresholdConverter::from_dnl}};
      const TableFile& file = *std::find_if(std::begin(files), std::end(files), [](const TableFile& f) { return !f.path.empty(); });
      if (file.last_code < 1) {  // a DNL table at 1 bit: no steps between codes
        throw InputError(fmt::format("key '{}.table.dnl_csv': a DNL table needs an ADC of 2 bits or more", key));
      }
      const auto columns =
          values_by_column_and_code(file.path, key + ".table." + file.field, file.value_column, 1, file.last_code);
      std::vector<std::shared_ptr<const core::adc::Converter>> converters;
      for (std::size_t column = 0; column < columns.size(); ++column) {
        try {  // the table's own checks (monotonic thresholds, DNL >= -1)
          converters.push_back(std::make_shared<core::adc::ThresholdConverter>(file.build(bits, columns[column])));
        } catch (const std::invalid_argument& error) {
          throw InputError(fmt::format("{}: {}{} (key '{}.table.{}')", file.path,
                                       columns.size() > 1 ? fmt::format("column {}: ", column) : "", error.what(), key,
                                       file.field));
        }
      }
      model.converter = converters.front();
      if (converters.size() > 1) model.column_converters = std::move(converters);
    } else if (adc.model == "cco") {
      const auto points = operating_points(adc.cco, key + ".cco");
      core::adc::CcoDesign design;
      design.bits = bits;
      design.full_scale_current_ua = adc.cco.full_scale_current_ua;
      design.c_eff_ff = adc.cco.c_eff_ff;
      design.offset_calibrated = adc.cco.offset_calibrated;
      const std::string cco_key = key + ".cco.";
      design.design = operating_point_at(points, adc.cco.design_corner, adc.cco.design_vdd_v,
                                         "'" + cco_key + "design_corner' and 'design_vdd_v'");
      design.operating = operating_point_at(points, adc.cco.corner, adc.cco.vdd_v, "'" + cco_key + "corner' and 'vdd_v'");
      model.converter = std::make_shared<core::adc::CcoConverter>(design);
    }
  } catch (const std::invalid_argument& error) {  // a table or operating point the model rejects
    throw InputError(fmt::format("key '{}': {}", key, error.what()));
  }
  return model;
}

std::shared_ptr<const core::adc::Converter> make_converter(const AdcConfig& adc, const std::string& key) {
  return make_adc_model(adc, key).converter;
}

std::shared_ptr<const core::adc::Converter> converter_or_ideal(const AdcConfig& adc, const std::string& key) {
  if (auto converter = make_converter(adc, key)) return converter;
  const int bits = static_cast<int>(adc.bits);
  return std::make_shared<core::adc::ThresholdConverter>(bits, core::adc::ThresholdConverter::ideal_thresholds_lsb(bits));
}

}  // namespace bitline::app
