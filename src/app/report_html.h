#pragma once
// `bitline report DIR` (docs/sweeps.md): one self-contained, offline report.html for a run
// directory (results.json) or a sweep directory (sweep.json), with the results table and figures
// drawn by Vega-Lite (inlined into the page, from the npm packages in web/).
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace bitline::app {

struct ReportCommandOptions {
  std::string dir;
  std::optional<std::string> output;  // none: <dir>/report.html
};

int run_report_command(const ReportCommandOptions& options);

// The data the page draws (web/report/report.js documents each field): rows, layers, components,
// training curves and ADC curves of a run or a sweep directory.
nlohmann::json report_data(const std::string& dir);

// Marks each row's pareto_energy, pareto_tops_per_w and pareto_area: no other row has at least its
// accuracy and at most its energy per image (at least its TOPS/W, at most its area), one of them
// strictly better. Rows without accuracy or the metric are never on a front.
void mark_pareto_fronts(nlohmann::json& rows);

}  // namespace bitline::app
