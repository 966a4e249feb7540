#pragma once
// Characterization of a column ADC model (`bitline adc`, docs/adc.md): its transfer over a ramp,
// transition levels, INL/DNL, ENOB/SNDR from a ramp and from a sine, and energy per conversion.
#include <cstdint>
#include <vector>

#include "core/adc/converter.h"

namespace bitline::core::adc {

struct CharacterizeOptions {
  double noise_sigma_lsb = 0;     // Gaussian noise at the converter's input
  int ramp_steps_per_lsb = 64;    // ramp from -1 LSB to levels + 1 LSB
  int sine_samples = 4096;
  int sine_cycles = 127;          // coherent sampling: coprime with sine_samples
  double sine_amplitude_fs = 0.5; // peak, around the center of the range (0.5 = full scale)
  uint64_t seed = 1;              // the sine test's conversion randomness
};

struct RampPoint {
  double input_lsb = 0;
  double mean_code = 0, code_sigma = 0;
  int median_code = 0;
  double energy_pj = 0;
};

struct Characterization {
  std::vector<RampPoint> ramp;
  // Transition levels T(k), k = 1..levels: the input (LSB) where P(code >= k) = 1/2, by bisection;
  // NaN where the code is never reached (a missing code at the top) or always reached.
  std::vector<double> transition_lsb;
  Linearity linearity;  // over the transition levels; the maxima only over codes that occur
  int missing_codes = 0;                // codes no input selects as the median code
  double ramp_rms_error_lsb = 0;        // RMS of code - input over inputs uniform in [0, levels] LSB
  double ramp_enob_bits = 0;            // bits - log2(rms error / (1 / sqrt 12))
  double sine_sndr_db = 0, sine_enob_bits = 0;  // 3-parameter sine fit (IEEE 1241)
  double energy_mean_pj = 0;            // over the ramp's inputs in [0, levels] LSB
  double energy_mid_scale_pj = 0, energy_full_scale_pj = 0;
};

Characterization characterize(const Converter& converter, const CharacterizeOptions& options);

// Samples a code with probabilities P(code >= k) = at_least[k - 1] from a uniform u in [0, 1).
int sample_code(const std::vector<double>& at_least, double u);

}  // namespace bitline::core::adc
