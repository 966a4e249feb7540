#pragma once
// `bitline adc`: characterizes one column ADC model (docs/adc.md): its transfer over a ramp as CSV,
// INL and DNL per code, ENOB/SNDR from the ramp and from a sine, and the energy per conversion.
#include <string>

namespace bitline::app {

int run_adc_command(const std::string& config_path);

}  // namespace bitline::app
