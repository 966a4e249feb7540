#include "core/daism/multiplier.h"

#include <algorithm>
#include <stdexcept>

namespace bitline::core::daism {
namespace {

uint64_t low_mask(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

}  // namespace

void validate(const MultiplierConfig& config) {
  const int n = config.operand_bits;
  if (n < 1 || n > kMaxOperandBits)
    throw std::invalid_argument("operand_bits must be in [1, 24], found " + std::to_string(n));
  if (config.kept_columns < 0 || config.kept_columns > 2 * n) {
    throw std::invalid_argument("kept_columns must be in [1, 2 * operand_bits = " + std::to_string(2 * n) +
                                "], found " + std::to_string(config.kept_columns));
  }
  if (config.variant == Variant::Or && config.k != 1)
    throw std::invalid_argument("k must be 1 for the or variant, found " + std::to_string(config.k));
  if ((config.variant == Variant::PrecomputedDigits || config.variant == Variant::PrecomputedTop) &&
      (config.k < 1 || config.k > n)) {
    throw std::invalid_argument("k must be in [1, operand_bits = " + std::to_string(n) + "], found " +
                                std::to_string(config.k));
  }
}

int sensed_columns(const MultiplierConfig& config) {
  return config.kept_columns == 0 ? 2 * config.operand_bits : config.kept_columns;
}

int digit_bits(const MultiplierConfig& config) {
  switch (config.variant) {
    case Variant::Exact:
      return config.operand_bits;
    case Variant::Or:
      return 1;
    default:
      return config.k;
  }
}

uint64_t approximate_product(uint64_t a, uint64_t b, const MultiplierConfig& config) {
  const int n = config.operand_bits;
  if (config.variant == Variant::PrecomputedTop) {
    const int low_bits = n - config.k;
    uint64_t product = a * (b & ~low_mask(low_bits));
    for (int i = 0; i < low_bits; ++i) {
      if ((b >> i) & 1) product |= a << i;
    }
    return product;
  }
  const int k = digit_bits(config);
  uint64_t product = 0;
  for (int shift = 0; shift < n; shift += k) product |= (a * ((b >> shift) & low_mask(k))) << shift;
  return product;
}

uint64_t sensed_product(uint64_t a, uint64_t b, const MultiplierConfig& config) {
  return approximate_product(a, b, config) & ~low_mask(2 * config.operand_bits - sensed_columns(config));
}

int rows_per_operand(const MultiplierConfig& config, bool normalized_driving) {
  const int n = config.operand_bits;
  if (config.variant == Variant::PrecomputedTop) {
    const int top_rows = normalized_driving ? 1 << (config.k - 1) : (1 << config.k) - 1;
    return top_rows + (n - config.k);
  }
  // One row per nonzero value of each digit; the top digit may be narrower.
  const int k = digit_bits(config);
  int rows = 0;
  for (int shift = 0; shift < n; shift += k) {
    const int bits = std::min(k, n - shift);
    const bool top = shift + bits == n;
    rows += top && normalized_driving ? 1 << (bits - 1) : (1 << bits) - 1;
  }
  return rows;
}

int precompute_additions(const MultiplierConfig& config) {
  const int k = config.variant == Variant::PrecomputedTop ? config.k : digit_bits(config);
  return k <= 1 ? 0 : (1 << (k - 1)) - 1;
}

int rows_raised(uint64_t b, const MultiplierConfig& config) {
  const int n = config.operand_bits;
  if (config.variant == Variant::PrecomputedTop) {
    const int low_bits = n - config.k;
    return ((b >> low_bits) != 0 ? 1 : 0) + __builtin_popcountll(b & low_mask(low_bits));
  }
  const int k = digit_bits(config);
  int rows = 0;
  for (int shift = 0; shift < n; shift += k) rows += ((b >> shift) & low_mask(k)) != 0 ? 1 : 0;
  return rows;
}

MultiplierConfig parse_short_name(const std::string& name, MultiplierConfig base) {
  auto digits_after = [&](std::size_t prefix) {
    const std::string rest = name.substr(prefix);
    if (rest.empty() || rest.size() > 2 || rest.find_first_not_of("0123456789") != std::string::npos) {
      throw std::invalid_argument("'" + name + "' is not a variant: expected exact, or, pc<k> or top<k>");
    }
    return std::stoi(rest);
  };
  if (name == "exact") {
    base.variant = Variant::Exact;
    base.k = base.operand_bits;
  } else if (name == "or") {
    base.variant = Variant::Or;
    base.k = 1;
  } else if (name.rfind("pc", 0) == 0) {
    base.variant = Variant::PrecomputedDigits;
    base.k = digits_after(2);
  } else if (name.rfind("top", 0) == 0) {
    base.variant = Variant::PrecomputedTop;
    base.k = digits_after(3);
  } else {
    throw std::invalid_argument("'" + name + "' is not a variant: expected exact, or, pc<k> or top<k>");
  }
  return base;
}

std::string short_name(const MultiplierConfig& config) {
  switch (config.variant) {
    case Variant::Exact:
      return "exact";
    case Variant::Or:
      return "or";
    case Variant::PrecomputedDigits:
      return "pc" + std::to_string(config.k);
    case Variant::PrecomputedTop:
      return "top" + std::to_string(config.k);
  }
  return "?";
}

std::string to_string(Variant variant) {
  switch (variant) {
    case Variant::Exact:
      return "exact";
    case Variant::Or:
      return "or";
    case Variant::PrecomputedDigits:
      return "precomputed_digits";
    case Variant::PrecomputedTop:
      return "precomputed_top";
  }
  return "?";
}

}  // namespace bitline::core::daism
