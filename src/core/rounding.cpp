#include "core/rounding.h"

#include <stdexcept>

namespace bitline::core {

std::string to_string(Rounding rounding) { return rounding == Rounding::TowardZero ? "toward_zero" : "nearest_even"; }

Rounding parse_rounding(const std::string& name) {
  for (const Rounding rounding : {Rounding::TowardZero, Rounding::NearestEven}) {
    if (name == to_string(rounding)) return rounding;
  }
  throw std::invalid_argument("expected toward_zero or nearest_even, found '" + name + "'");
}

}  // namespace bitline::core
