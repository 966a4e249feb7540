#include "app/adc_model.h"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

#include "core/error.h"
#include "io/csv_table.h"

namespace bitline::app {
namespace {

// One value per code first_code..last_code from a CSV with columns code and `value_column`.
std::vector<double> values_by_code(const std::string& path, const std::string& key, const std::string& value_column,
                                   int first_code, int last_code) {
  try {
    const auto table = io::CsvTable::read(path);
    const auto code_column = table.column("code"), values = table.column(value_column);
    std::vector<double> by_code(static_cast<std::size_t>(last_code - first_code + 1));
    std::vector<int> seen_at(by_code.size(), 0);
    for (std::size_t row = 0; row < table.rows(); ++row) {
      const long long code = table.integer(row, code_column);
      if (code < first_code || code > last_code) {
        throw InputError(fmt::format("{}: line {}: expected a code in [{}, {}], found {}", path, table.line(row),
                                     first_code, last_code, code));
      }
      auto& seen = seen_at[static_cast<std::size_t>(code - first_code)];
      if (seen != 0) {
        throw InputError(fmt::format("{}: line {}: code {} appears again (first on line {})", path, table.line(row), code, seen));
      }
      seen = table.line(row);
      by_code[static_cast<std::size_t>(code - first_code)] = table.number(row, values);
    }
    for (std::size_t k = 0; k < seen_at.size(); ++k) {
      if (seen_at[k] == 0) {
        throw InputError(fmt::format("{}: expected one row for each code {}..{} ({} rows), code {} is missing "
                                     "(found {} rows)",
                                     path, first_code, last_code, by_code.size(), first_code + static_cast<int>(k),
                                     table.rows()));
      }
    }
    return by_code;
  } catch (const InputError& error) {
    throw InputError(fmt::format("{} (key '{}')", error.what(), key));
  }
}

std::vector<core::adc::CcoOperatingPoint> operating_points(const CcoConfig& cco, const std::string& key) {
  if (cco.operating_points_csv.empty()) return core::adc::default_cco_operating_points();
  try {
    const auto table = io::CsvTable::read(cco.operating_points_csv);
    const auto corner = table.column("corner"), vdd = table.column("vdd_v"), f0 = table.column("f0_mhz"),
               gain = table.column("gain_mhz_per_ua"), isat = table.column("isat_ua");
    std::vector<core::adc::CcoOperatingPoint> points;
    for (std::size_t row = 0; row < table.rows(); ++row) {
      core::adc::CcoOperatingPoint p{table.text(row, corner), table.number(row, vdd), table.number(row, f0),
                                     table.number(row, gain), table.number(row, isat)};
      if (p.vdd_v <= 0 || p.f0_mhz < 0 || p.gain_mhz_per_ua <= 0 || p.isat_ua <= 0) {
        throw InputError(fmt::format("{}: line {}: expected vdd_v, gain_mhz_per_ua, isat_ua > 0 and f0_mhz >= 0, "
                                     "found {}, {}, {} and {}",
                                     cco.operating_points_csv, table.line(row), p.vdd_v, p.gain_mhz_per_ua, p.isat_ua,
                                     p.f0_mhz));
      }
      points.push_back(p);
    }
    return points;
  } catch (const InputError& error) {
    throw InputError(fmt::format("{} (key '{}.operating_points_csv')", error.what(), key));
  }
}

}  // namespace

std::shared_ptr<const core::adc::Converter> make_converter(const AdcConfig& adc, const std::string& key) {
  const int bits = static_cast<int>(adc.bits);
  const int levels = (1 << bits) - 1;
  try {
    if (adc.model == "table") {
      const auto& t = adc.table;
      const int given = !t.thresholds_csv.empty() + !t.inl_csv.empty() + !t.dnl_csv.empty();
      if (given != 1) {
        throw InputError(fmt::format("key '{}.table': model table expects exactly one of thresholds_csv, inl_csv and "
                                     "dnl_csv, found {}",
                                     key, given));
      }
      // The table's own checks (monotonic thresholds, DNL >= -1) name the file and key too.
      auto from_file = [&](const std::string& path, const std::string& field, auto build) {
        try {
          return std::make_shared<core::adc::ThresholdConverter>(build());
        } catch (const std::invalid_argument& error) {
          throw InputError(fmt::format("{}: {} (key '{}.table.{}')", path, error.what(), key, field));
        }
      };
      if (!t.thresholds_csv.empty()) {
        const auto values = values_by_code(t.thresholds_csv, key + ".table.thresholds_csv", "threshold_lsb", 1, levels);
        return from_file(t.thresholds_csv, "thresholds_csv", [&] { return core::adc::ThresholdConverter(bits, values); });
      }
      if (!t.inl_csv.empty()) {
        const auto values = values_by_code(t.inl_csv, key + ".table.inl_csv", "inl_lsb", 1, levels);
        return from_file(t.inl_csv, "inl_csv", [&] { return core::adc::ThresholdConverter::from_inl(bits, values); });
      }
      if (bits < 2) throw InputError(fmt::format("key '{}.table.dnl_csv': a DNL table needs an ADC of 2 bits or more", key));
      const auto values = values_by_code(t.dnl_csv, key + ".table.dnl_csv", "dnl_lsb", 1, levels - 1);
      return from_file(t.dnl_csv, "dnl_csv", [&] { return core::adc::ThresholdConverter::from_dnl(bits, values); });
    }
    if (adc.model == "cco") {
      const auto points = operating_points(adc.cco, key + ".cco");
      core::adc::CcoDesign design;
      design.bits = bits;
      design.full_scale_current_ua = adc.cco.full_scale_current_ua;
      design.c_eff_ff = adc.cco.c_eff_ff;
      design.offset_calibrated = adc.cco.offset_calibrated;
      design.design = core::adc::cco_operating_point(points, adc.cco.design_corner, adc.cco.design_vdd_v);
      design.operating = core::adc::cco_operating_point(points, adc.cco.corner, adc.cco.vdd_v);
      return std::make_shared<core::adc::CcoConverter>(design);
    }
  } catch (const std::invalid_argument& error) {  // a table or operating point the model rejects
    throw InputError(fmt::format("key '{}': {}", key, error.what()));
  }
  return nullptr;
}

}  // namespace bitline::app
