#include "core/sot_mram/array_program.h"

#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include "core/sot_mram/fp_format.h"

namespace bitline::core::sot_mram {
namespace {

using Bits = std::vector<uint8_t>;  // a register, least significant bit first

Bits bits_of(uint32_t value, int width) {
  Bits bits(width);
  for (int i = 0; i < width; ++i) bits[i] = (value >> i) & 1u;
  return bits;
}

uint32_t value_of_bits(const Bits& bits, int first, int width) {
  uint32_t value = 0;
  for (int i = 0; i < width; ++i) value |= static_cast<uint32_t>(bits[first + i]) << i;
  return value;
}

// The cells of one column and the primitives on them; every primitive is counted. The controller
// learns the data only through read() and search().
class Column {
 public:
  PrimitiveCounts counts;

  uint8_t full_add(uint8_t a, uint8_t b, uint8_t& carry) {
    ++counts[Primitive::FullAdd];
    const int sum = a + b + carry;
    carry = static_cast<uint8_t>(sum >> 1);
    return static_cast<uint8_t>(sum & 1);
  }
  void copy(uint8_t from, uint8_t& to) {
    ++counts[Primitive::Copy];
    to = from;
  }
  void shift(uint8_t from, uint8_t& to) {
    ++counts[Primitive::Shift];
    to = from;
  }
  void write(uint8_t& cell, uint8_t value) {
    ++counts[Primitive::Write];
    cell = value;
  }
  bool read(uint8_t cell) {
    ++counts[Primitive::Read];
    return cell != 0;
  }
  uint8_t inverted(uint8_t cell) {
    ++counts[Primitive::Invert];
    return cell ^ 1u;
  }
  // The window's candidate columns hold b + d, d in [-window, window], and two columns catch
  // differences beyond it [A]; the one that matches a gives d (clamped to window + 1 beyond).
  int search(const Bits& a, const Bits& b, int window) {
    ++counts[Primitive::Search];
    const int difference = static_cast<int>(value_of_bits(a, 0, static_cast<int>(a.size()))) -
                           static_cast<int>(value_of_bits(b, 0, static_cast<int>(b.size())));
    return std::abs(difference) > window ? (difference > 0 ? window + 1 : -window - 1) : difference;
  }

  Bits cleared(int width) {
    Bits bits(width);
    for (auto& bit : bits) write(bit, 0);
    return bits;
  }
  // register += constant (a row of constant cells [A]) plus carry_in, modulo 2^width.
  void add_constant(Bits& reg, uint32_t constant, uint8_t carry_in) {
    uint8_t carry = carry_in;
    for (std::size_t i = 0; i < reg.size(); ++i) reg[i] = full_add(reg[i], (constant >> i) & 1u, carry);
  }
  // The controller reads a two's complement register.
  int read_signed(const Bits& reg) {
    int value = 0;
    const int width = static_cast<int>(reg.size());
    for (int i = 0; i < width; ++i) value |= static_cast<int>(read(reg[i])) << i;
    return value >= (1 << (width - 1)) ? value - (1 << width) : value;
  }
  // OR of cells: each a full add with a constant 1 carry in, whose carry out is a | b [A].
  uint8_t sticky(const Bits& reg, int first, int end) {
    uint8_t any = 0;
    for (int i = first; i < end; ++i) {
      uint8_t carry = 1;
      full_add(reg[i], any, carry);
      any = carry;
    }
    return any;
  }
};

struct Operand {
  bool sign = false;
  Bits exponent;  // e bits, biased
  Bits mantissa;  // m + 1 bits, the hidden one on top (a constant cell)
};

Operand operand_of(float value, const NumberFormat& format) {
  const Fields fields = fields_of(value, format);
  Operand operand{fields.sign, bits_of(fields.exponent, format.exponent_bits),
                  bits_of(fields.mantissa | (1u << format.mantissa_bits), format.mantissa_bits + 1)};
  return operand;
}

bool is_special(float value) { return value == 0.0f || !std::isfinite(value); }

// A result the controller sets by writing every field: special values and range failures.
float write_result(Column& column, const NumberFormat& format, float value) {
  Bits fields(1 + format.exponent_bits + format.mantissa_bits);
  for (auto& cell : fields) column.write(cell, 0);
  return value;
}

// The rounding and range stages shared by both programs. mantissa: the p kept bits (hidden one on
// top); dropped: the register with the bits below them, [0, dropped_end); exponent: e + 2 bits,
// two's complement, biased.
float round_and_finish(Column& column, const EngineOptions& options, bool sign, Bits& exponent, Bits& mantissa,
                       const Bits& dropped, int dropped_end) {
  const NumberFormat& format = options.format;
  const int p = format.mantissa_bits + 1;
  if (options.rounding == Rounding::NearestEven && dropped_end > 0) {
    const uint8_t round_bit = dropped[dropped_end - 1];
    const uint8_t sticky = column.sticky(dropped, 0, dropped_end - 1);
    const bool round_up = column.read(round_bit) && (column.read(sticky) || column.read(mantissa[0]));
    if (round_up) {
      uint8_t carry = 1;
      for (int j = 0; j < p; ++j) mantissa[j] = column.full_add(mantissa[j], 0, carry);
      if (column.read(carry)) {  // rounded up to 2^p: renormalise
        for (int j = 0; j + 1 < p; ++j) column.shift(mantissa[j + 1], mantissa[j]);
        column.shift(carry, mantissa[p - 1]);
        column.add_constant(exponent, 0, 1);
      }
    }
  }
  const int biased = column.read_signed(exponent);
  const uint32_t all_ones = (1u << format.exponent_bits) - 1;
  const float signed_zero = sign ? -0.0f : 0.0f;
  if (biased <= 0) return write_result(column, format, signed_zero);
  if (biased >= static_cast<int>(all_ones)) {
    return write_result(column, format, sign ? -INFINITY : INFINITY);
  }
  const Fields fields{sign, static_cast<uint32_t>(biased), value_of_bits(mantissa, 0, format.mantissa_bits)};
  return value_of(fields, format);
}

}  // namespace

std::string to_string(Primitive primitive) {
  static const char* const names[kPrimitiveCount] = {"full_add", "copy", "shift", "search", "write", "read", "invert"};
  return names[static_cast<int>(primitive)];
}

std::string to_string(ExponentDifference method) {
  return method == ExponentDifference::Search ? "search" : "subtract";
}

PrimitiveCounts& PrimitiveCounts::operator+=(const PrimitiveCounts& other) {
  for (int i = 0; i < kPrimitiveCount; ++i) by_primitive[i] += other.by_primitive[i];
  return *this;
}

int search_window(const EngineOptions& options) {
  return options.format.mantissa_bits + guard_bits(options.format, options.rounding);
}

ProgramRun run_multiply(float a, float b, const EngineOptions& options) {
  const NumberFormat& format = options.format;
  const int e = format.exponent_bits, p = format.mantissa_bits + 1;
  Column column;
  ProgramRun run;
  // Each stored value carries a tag bit "zero or not finite" [A]; the controller reads both.
  const bool special_a = column.read(is_special(a)), special_b = column.read(is_special(b));
  if (special_a || special_b) {
    // The side path (IEEE 754): NaN in, or infinity times zero, gives NaN; otherwise an infinity
    // wins; otherwise a signed zero.
    const bool negative = std::signbit(a) != std::signbit(b);
    float value = negative ? -0.0f : 0.0f;
    if (std::isnan(a) || std::isnan(b) || (std::isinf(a) && b == 0.0f) || (a == 0.0f && std::isinf(b))) {
      value = NAN;
    } else if (std::isinf(a) || std::isinf(b)) {
      value = negative ? -INFINITY : INFINITY;
    }
    run.value = write_result(column, format, value);
    run.counts = column.counts;
    return run;
  }
  const Operand x = operand_of(a, format), y = operand_of(b, format);

  // Sign: a full add with no carry in leaves a XOR b as its sum.
  uint8_t no_carry = 0;
  const bool sign = column.full_add(x.sign, y.sign, no_carry) != 0;

  // Exponent: e_a + e_b, then the bias subtracted, in an (e + 2)-bit two's complement register.
  Bits exponent = column.cleared(e + 2);
  uint8_t carry = 0;
  for (int i = 0; i < e; ++i) exponent[i] = column.full_add(x.exponent[i], y.exponent[i], carry);
  exponent[e] = carry;  // the last full add's carry, written back
  const uint32_t minus_bias = (1u << (e + 2)) - static_cast<uint32_t>(exponent_bias(format));
  column.add_constant(exponent, minus_bias, 0);

  // Mantissa: shift-and-add through the ping-pong buffers, LSB of B first. Step i leaves
  // floor(A * (B mod 2^(i+1)) / 2^i) in the buffer; the bit each step shifts out is kept in a low
  // column when rounding to nearest needs it, and lost otherwise.
  Bits current = column.cleared(p + 1), next(p + 1), low(p);
  for (int i = 0; i < p; ++i) {
    if (i > 0 && options.rounding == Rounding::NearestEven) column.copy(current[0], low[i - 1]);
    // The hidden bit (i = p - 1) is always 1: the controller does not read it.
    const bool add = i == p - 1 || column.read(y.mantissa[i]);
    if (add) {
      uint8_t step_carry = 0;
      for (int j = 0; j < p; ++j) next[j] = column.full_add(current[j + 1], x.mantissa[j], step_carry);
      next[p] = step_carry;
    } else {
      for (int j = 0; j < p; ++j) column.shift(current[j + 1], next[j]);
      column.write(next[p], 0);
    }
    std::swap(current, next);
  }
  // The buffer holds floor(A * B / 2^(p-1)) in [2^(p-1), 2^(p+1)); the low column its p - 1 dropped
  // bits. Normalise: if the top bit is set, shift right by one and increment the exponent.
  Bits mantissa(p), dropped(p);  // dropped: the bits below the kept ones, most significant last
  int dropped_end;
  if (column.read(current[p])) {
    for (int j = 0; j < p; ++j) column.shift(current[j + 1], mantissa[j]);
    column.add_constant(exponent, 0, 1);
    for (int j = 0; j + 1 < p; ++j) dropped[j] = low[j];
    dropped[p - 1] = current[0];
    dropped_end = p;
  } else {
    for (int j = 0; j < p; ++j) mantissa[j] = current[j];  // in place
    for (int j = 0; j + 1 < p; ++j) dropped[j] = low[j];
    dropped_end = p - 1;
  }
  if (options.rounding == Rounding::TowardZero) dropped_end = 0;  // nothing kept, nothing to round
  run.value = round_and_finish(column, options, sign, exponent, mantissa, dropped, dropped_end);
  run.counts = column.counts;
  return run;
}

ProgramRun run_add(float a, float b, const EngineOptions& options) {
  const NumberFormat& format = options.format;
  const int e = format.exponent_bits, p = format.mantissa_bits + 1;
  const int guard = guard_bits(format, options.rounding), window = search_window(options);
  Column column;
  ProgramRun run;
  const bool special_a = column.read(is_special(a)), special_b = column.read(is_special(b));
  if (special_a || special_b) {
    // The side path (IEEE 754): NaN in, or inf - inf, gives NaN; an infinity wins; x + 0 = x; the
    // sum of two zeros is -0 only when both are.
    float value;
    if (std::isnan(a) || std::isnan(b) || (std::isinf(a) && std::isinf(b) && std::signbit(a) != std::signbit(b))) {
      value = NAN;
    } else if (std::isinf(a) || std::isinf(b)) {
      value = std::isinf(a) ? a : b;
    } else if (a == 0.0f && b == 0.0f) {
      value = std::signbit(a) && std::signbit(b) ? -0.0f : 0.0f;
    } else {
      value = a == 0.0f ? b : a;
    }
    run.value = write_result(column, format, value);
    run.counts = column.counts;
    return run;
  }
  Operand x = operand_of(a, format), y = operand_of(b, format);

  // The exponent difference d = e_a - e_b.
  int difference;
  if (options.exponent_difference == ExponentDifference::Search) {
    difference = column.search(x.exponent, y.exponent, window);
  } else {
    Bits d(e + 1);
    uint8_t carry = 1;  // e_a + ~e_b + 1 over e + 1 bits (both zero-extended)
    for (int i = 0; i < e; ++i) d[i] = column.full_add(x.exponent[i], column.inverted(y.exponent[i]), carry);
    d[e] = column.full_add(0, 1, carry);
    difference = column.read_signed(d);
  }
  const bool subtract = x.sign != y.sign;
  if (difference < 0) std::swap(x, y);
  const int shift = std::abs(difference);
  if (shift > window) {  // the smaller operand is shifted out whole: the larger's fields are the result
    uint8_t sign_cell = 0;
    Bits exponent_cells(e), mantissa_cells(p - 1);
    column.copy(x.sign, sign_cell);
    for (int i = 0; i < e; ++i) column.copy(x.exponent[i], exponent_cells[i]);
    for (int j = 0; j + 1 < p; ++j) column.copy(x.mantissa[j], mantissa_cells[j]);
    run.value = value_of({sign_cell != 0, value_of_bits(exponent_cells, 0, e), value_of_bits(mantissa_cells, 0, p - 1)},
                         format);
    run.counts = column.counts;
    return run;
  }
  if (shift == 0 && subtract) {
    // Equal exponents, opposite signs: the controller compares the mantissas from the top.
    int j = p - 2;  // the hidden bits are equal
    while (j >= 0 && column.read(x.mantissa[j]) == column.read(y.mantissa[j])) --j;
    if (j < 0) {  // equal magnitudes: an exact zero, +0
      run.value = write_result(column, format, 0.0f);
      run.counts = column.counts;
      return run;
    }
    if (!x.mantissa[j]) std::swap(x, y);
  }

  // The register: p + guard bits and a carry bit on top. The larger mantissa in its top p bits
  // (zeros below); the smaller shifted right by d, its bits below the register lost.
  const int width = p + guard;
  Bits larger(width), aligned = column.cleared(width);
  for (int j = 0; j < guard; ++j) column.write(larger[j], 0);
  for (int j = 0; j < p; ++j) column.copy(x.mantissa[j], larger[j + guard]);
  for (int j = 0; j < p; ++j) {
    const int position = j + guard - shift;
    if (position >= 0) column.shift(y.mantissa[j], aligned[position]);
  }
  Bits exponent(e + 2);
  for (int i = 0; i < e; ++i) column.copy(x.exponent[i], exponent[i]);
  column.write(exponent[e], 0);
  column.write(exponent[e + 1], 0);

  // Add, or subtract (the larger plus the complement of the smaller plus one; no borrow out).
  Bits sum(width + 1);
  uint8_t carry = subtract ? 1 : 0;
  for (int j = 0; j < width; ++j) {
    sum[j] = column.full_add(larger[j], subtract ? column.inverted(aligned[j]) : aligned[j], carry);
  }
  if (subtract) {
    column.write(sum[width], 0);
  } else {
    sum[width] = carry;
  }

  // Normalise: the leading one is on top after a carry out, else at width - 1 for an addition; a
  // subtraction searches for it from the top, one read per step.
  int lead;
  if (!subtract) {
    lead = column.read(sum[width]) ? width : width - 1;
  } else {
    lead = width - 1;
    while (!column.read(sum[lead])) --lead;  // sum > 0: the operands were ordered strictly
  }
  const int adjust = lead - (width - 1);
  if (adjust != 0) column.add_constant(exponent, static_cast<uint32_t>(adjust) & ((1u << (e + 2)) - 1), 0);
  Bits mantissa(p);
  const int first = lead - (p - 1);  // the kept bits' lowest position in the sum
  if (first == guard) {
    for (int j = 0; j < p; ++j) mantissa[j] = sum[first + j];  // in place
  } else {
    for (int j = 0; j < p; ++j) {
      if (first + j >= 0) {
        column.shift(sum[first + j], mantissa[j]);
      } else {
        column.write(mantissa[j], 0);
      }
    }
  }
  const int dropped_end = options.rounding == Rounding::TowardZero ? 0 : std::max(first, 0);
  run.value = round_and_finish(column, options, x.sign, exponent, mantissa, sum, dropped_end);
  run.counts = column.counts;
  return run;
}

}  // namespace bitline::core::sot_mram
