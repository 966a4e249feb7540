#pragma once
// The files report.html is made of, embedded into the binary at build time (src/app/CMakeLists.txt):
// the page template, its style and script (web/report/), and the Vega libraries (npm, web/).
#include <string_view>

namespace bitline::app {

struct ReportAssets {
  std::string_view template_html, style, report_script, vega, vega_lite, vega_embed;
};

const ReportAssets& report_assets();

}  // namespace bitline::app
