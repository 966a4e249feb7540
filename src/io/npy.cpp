#include "io/npy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::io {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kHeaderAlignment = 64;   // numpy aligns the data section to 64 bytes
constexpr std::size_t kMaxQuotedHeader = 200;  // how much of a bad header an error message shows

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::string_view descr;
  std::size_t size;
};

constexpr std::array<DTypeInfo, 7> kDTypes = {{
    {DType::Float32, "float32", "<f4", 4},
    {DType::Float64, "float64", "<f8", 8},
    {DType::Int8, "int8", "|i1", 1},
    {DType::UInt8, "uint8", "|u1", 1},
    {DType::Int16, "int16", "<i2", 2},
    {DType::Int32, "int32", "<i4", 4},
    {DType::Int64, "int64", "<i8", 8},
}};

const DTypeInfo& info_of(DType dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == dtype) return info;
  }
  throw std::invalid_argument("unknown bitline::io::DType value");
}

std::string supported_descrs() {
  std::string list;
  for (const DTypeInfo& info : kDTypes) {
    if (!list.empty()) list += ", ";
    list += fmt::format("{} ({})", info.descr, info.name);
  }
  return list;
}

// Shows raw bytes readably in messages: printable ASCII as is, everything else as \xNN.
std::string escape_bytes(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
  }
  return out;
}

std::string quote_header(std::string_view header) {
  // The padding spaces and final newline only clutter the message.
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.back()))) {
    header.remove_suffix(1);
  }
  if (header.size() <= kMaxQuotedHeader) return "'" + escape_bytes(header) + "'";
  return "'" + escape_bytes(header.substr(0, kMaxQuotedHeader)) + "...'";
}

std::string format_shape(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

// The unsigned integer type with the same size as T, used to (de)serialise T byte by byte.
template <typename T>
using BitsOf =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;

// Decodes one little-endian value independent of the host byte order.
template <typename T>
T load_le(const unsigned char* bytes) {
  BitsOf<T> bits = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) bits |= static_cast<BitsOf<T>>(bytes[i]) << (8 * i);
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

template <typename T>
void append_le(std::vector<unsigned char>& out, T value) {
  BitsOf<T> bits;
  std::memcpy(&bits, &value, sizeof(T));
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<unsigned char>(bits >> (8 * i)));
}

template <typename T, typename Out>
std::vector<Out> convert_all(const NpyArray& array) {
  const std::size_t count = static_cast<std::size_t>(array.element_count());
  std::vector<Out> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = static_cast<Out>(load_le<T>(array.data.data() + i * sizeof(T)));
  }
  return out;
}

// Calls visit(T{}) with T the C++ type of the dtype.
template <typename Visitor>
auto visit_dtype(DType dtype, Visitor&& visit) {
  switch (dtype) {
    case DType::Float32:
      return visit(float{});
    case DType::Float64:
      return visit(double{});
    case DType::Int8:
      return visit(int8_t{});
    case DType::UInt8:
      return visit(uint8_t{});
    case DType::Int16:
      return visit(int16_t{});
    case DType::Int32:
      return visit(int32_t{});
    case DType::Int64:
      return visit(int64_t{});
  }
  throw std::invalid_argument("unknown bitline::io::DType value");
}

// Returns the product of the dimensions, or -1 if it overflows int64.
int64_t checked_product(const std::vector<int64_t>& shape) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (dim != 0 && product > std::numeric_limits<int64_t>::max() / dim) return -1;
    product *= dim;
  }
  return product;
}

// ---- The header: a Python dict literal such as {'descr': '<f4', 'fortran_order': False, ...}.

struct PyValue {
  enum class Kind { String, Name, Number, Sequence, Dict };
  Kind kind = Kind::Name;
  std::string text;            // the string's contents, or the source text of a name or number
  std::vector<PyValue> items;  // Sequence: tuple or list
  std::vector<std::pair<std::string, PyValue>> entries;  // Dict with string keys

  static PyValue make(Kind kind, std::string text = {}) {
    PyValue value;
    value.kind = kind;
    value.text = std::move(text);
    return value;
  }
};

constexpr int kMaxNesting = 16;

// A small recursive-descent parser for the Python literals numpy writes into headers.
class HeaderParser {
 public:
  HeaderParser(const std::filesystem::path& path, std::string_view header)
      : path_(path), header_(header) {}

  PyValue parse_dict() {
    skip_space();
    if (peek() != '{') {
      fail_header(
          "the header to be a Python dict like {'descr': '<f4', 'fortran_order': False, "
          "'shape': (2, 3), }");
    }
    PyValue dict = parse_value();
    skip_space();
    if (pos_ != header_.size()) fail_at("the end of the header after the closing '}'");
    return dict;
  }

 private:
  PyValue parse_value() {
    skip_space();
    const char c = peek();
    if ((c == '{' || c == '(' || c == '[') && ++depth_ > kMaxNesting) {
      fail_at(fmt::format("at most {} nested brackets", kMaxNesting));  // guards the stack
    }
    if (c == '{') return parse_dict_body();
    if (c == '(' || c == '[') return parse_sequence(c == '(' ? ')' : ']');
    if (c == '\'' || c == '"') return PyValue::make(PyValue::Kind::String, parse_string());
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
      return PyValue::make(PyValue::Kind::Number, take_while_token());
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      return PyValue::make(PyValue::Kind::Name, take_while_token());
    }
    fail_at("a value (a string, number, True/False or tuple)");
  }

  PyValue parse_dict_body() {
    PyValue dict = PyValue::make(PyValue::Kind::Dict);
    ++pos_;  // '{'
    while (true) {
      skip_space();
      if (peek() == '}') break;
      if (peek() != '\'' && peek() != '"') fail_at("a quoted key or '}'");
      std::string key = parse_string();
      expect(':');
      dict.entries.emplace_back(std::move(key), parse_value());
      if (!accept_separator('}')) break;
    }
    expect('}');
    --depth_;
    return dict;
  }

  PyValue parse_sequence(char close) {
    PyValue sequence = PyValue::make(PyValue::Kind::Sequence);
    ++pos_;  // '(' or '['
    while (true) {
      skip_space();
      if (peek() == close) break;
      sequence.items.push_back(parse_value());
      if (!accept_separator(close)) break;
    }
    expect(close);
    --depth_;
    return sequence;
  }

  // After an element: consumes a ',' and returns true, or returns false before `close`.
  bool accept_separator(char close) {
    skip_space();
    if (peek() == ',') {
      ++pos_;
      return true;
    }
    if (peek() == close) return false;
    fail_at(fmt::format("',' or '{}'", close));
  }

  std::string parse_string() {
    const char quote = header_[pos_++];
    std::string text;
    while (pos_ < header_.size() && header_[pos_] != quote) {
      if (header_[pos_] == '\\' && pos_ + 1 < header_.size()) ++pos_;
      text += header_[pos_++];
    }
    if (pos_ >= header_.size()) fail_at(fmt::format("a closing {} for the string", quote));
    ++pos_;
    return text;
  }

  std::string take_while_token() {
    const std::size_t start = pos_;
    while (pos_ < header_.size()) {
      const unsigned char c = static_cast<unsigned char>(header_[pos_]);
      if (!std::isalnum(c) && c != '_' && c != '.' && c != '-' && c != '+') break;
      ++pos_;
    }
    return std::string(header_.substr(start, pos_ - start));
  }

  void expect(char c) {
    skip_space();
    if (peek() != c) fail_at(fmt::format("'{}'", c));
    ++pos_;
  }

  void skip_space() {
    while (pos_ < header_.size() && std::isspace(static_cast<unsigned char>(header_[pos_]))) ++pos_;
  }

  char peek() const { return pos_ < header_.size() ? header_[pos_] : '\0'; }

  [[noreturn]] void fail_at(const std::string& expected) const {
    const std::string found = pos_ < header_.size()
                                  ? "'" + escape_bytes(header_.substr(pos_, 20)) + "'"
                                  : std::string("the end of the header");
    throw InputError(
        fmt::format("{}: malformed npy header: expected {} at character {}, found {}; "
                    "the header is {}",
                    path_.string(), expected, pos_, found, quote_header(header_)));
  }

  [[noreturn]] void fail_header(const std::string& expected) const {
    throw InputError(fmt::format("{}: malformed npy header: expected {}, found {}", path_.string(),
                                 expected, quote_header(header_)));
  }

  const std::filesystem::path& path_;
  std::string_view header_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

// ---- Reading.

struct Preamble {
  int major = 0;
  int minor = 0;
  std::size_t header_offset = 0;
  std::size_t header_length = 0;
};

std::size_t read_le_length(std::string_view bytes, std::size_t offset, std::size_t width) {
  const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return width == 2 ? load_le<uint16_t>(raw) : load_le<uint32_t>(raw);
}

void check_magic(const std::filesystem::path& path, std::string_view bytes) {
  if (bytes.substr(0, kMagicSize) == kMagic) return;
  std::string found = "'" + escape_bytes(bytes.substr(0, kMagicSize)) + "'";
  if (bytes.empty()) found = "an empty file";
  if (!bytes.empty() && bytes.size() < kMagicSize) {
    found += fmt::format(" (the file is only {} bytes long)", bytes.size());
  }
  throw InputError(fmt::format("{}: expected the npy magic string \\x93NUMPY at byte 0, found {}",
                               path.string(), found));
}

Preamble read_preamble(const std::filesystem::path& path, std::string_view bytes) {
  check_magic(path, bytes);
  if (bytes.size() < kMagicSize + 2) {
    throw InputError(
        fmt::format("{}: truncated npy header: expected the format version at bytes "
                    "6-7, found the end of the file after {} bytes",
                    path.string(), bytes.size()));
  }
  Preamble preamble;
  preamble.major = static_cast<unsigned char>(bytes[6]);
  preamble.minor = static_cast<unsigned char>(bytes[7]);
  if (preamble.minor != 0 || preamble.major < 1 || preamble.major > 3) {
    throw InputError(
        fmt::format("{}: unsupported npy format version {}.{}: expected 1.0, 2.0 or 3.0",
                    path.string(), preamble.major, preamble.minor));
  }
  const std::size_t width = preamble.major == 1 ? 2 : 4;  // v1: u16 header length, v2/v3: u32
  preamble.header_offset = kMagicSize + 2 + width;
  if (bytes.size() < preamble.header_offset) {
    throw InputError(
        fmt::format("{}: truncated npy header: expected a {}-byte header length at "
                    "byte 8, found the end of the file after {} bytes",
                    path.string(), width, bytes.size()));
  }
  preamble.header_length = read_le_length(bytes, kMagicSize + 2, width);
  if (bytes.size() - preamble.header_offset < preamble.header_length) {
    throw InputError(
        fmt::format("{}: truncated npy header: the header length field says {} bytes "
                    "but the file holds only {} bytes after byte {}",
                    path.string(), preamble.header_length, bytes.size() - preamble.header_offset,
                    preamble.header_offset));
  }
  return preamble;
}

const PyValue& require_key(const std::filesystem::path& path, const PyValue& dict,
                           std::string_view key, std::string_view header) {
  for (const auto& [name, value] : dict.entries) {
    if (name == key) return value;
  }
  throw InputError(
      fmt::format("{}: malformed npy header: expected the keys 'descr', "
                  "'fortran_order' and 'shape', found no '{}' in {}",
                  path.string(), key, quote_header(header)));
}

DType parse_descr(const std::filesystem::path& path, const PyValue& descr) {
  if (descr.kind != PyValue::Kind::String) {
    throw InputError(
        fmt::format("{}: unsupported npy dtype: expected a plain numeric dtype, one of "
                    "{}, found a structured or non-string 'descr'",
                    path.string(), supported_descrs()));
  }
  for (const DTypeInfo& info : kDTypes) {
    if (descr.text == info.descr) return info.dtype;
  }
  const bool big_endian = !descr.text.empty() && descr.text[0] == '>';
  throw InputError(
      fmt::format("{}: unsupported npy dtype '{}'{}: expected one of {}; convert with "
                  "numpy, e.g. array.astype('<f4'), before saving",
                  path.string(), escape_bytes(descr.text), big_endian ? " (big-endian)" : "",
                  supported_descrs()));
}

void check_c_order(const std::filesystem::path& path, const PyValue& fortran_order) {
  if (fortran_order.kind == PyValue::Kind::Name && fortran_order.text == "False") return;
  if (fortran_order.kind == PyValue::Kind::Name && fortran_order.text == "True") {
    throw InputError(
        fmt::format("{}: expected a C-ordered array (fortran_order: False), found "
                    "fortran_order: True; save it with "
                    "numpy.save(path, numpy.ascontiguousarray(array))",
                    path.string()));
  }
  throw InputError(
      fmt::format("{}: malformed npy header: expected fortran_order to be True or "
                  "False, found '{}'",
                  path.string(), escape_bytes(fortran_order.text)));
}

int64_t parse_dimension(const std::filesystem::path& path, const std::string& text) {
  std::string_view digits = text;
  if (!digits.empty() && (digits.back() == 'L' || digits.back() == 'l'))
    digits.remove_suffix(1);  // Python 2
  int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) {
    throw InputError(
        fmt::format("{}: malformed npy shape: expected non-negative integer "
                    "dimensions, found '{}'",
                    path.string(), escape_bytes(text)));
  }
  if (value < 0) {
    throw InputError(
        fmt::format("{}: malformed npy shape: expected non-negative integer "
                    "dimensions, found the negative dimension {}",
                    path.string(), value));
  }
  return value;
}

std::vector<int64_t> parse_shape(const std::filesystem::path& path, const PyValue& shape) {
  if (shape.kind != PyValue::Kind::Sequence) {
    throw InputError(
        fmt::format("{}: malformed npy shape: expected a tuple such as (2, 3), found "
                    "'{}'",
                    path.string(), escape_bytes(shape.text)));
  }
  std::vector<int64_t> dims;
  for (const PyValue& item : shape.items) {
    if (item.kind != PyValue::Kind::Number) {
      throw InputError(
          fmt::format("{}: malformed npy shape: expected non-negative integer "
                      "dimensions, found a non-number element",
                      path.string()));
    }
    dims.push_back(parse_dimension(path, item.text));
  }
  return dims;
}

std::size_t expected_data_size(const std::filesystem::path& path, const NpyArray& array) {
  const int64_t count = checked_product(array.shape);
  const std::size_t size = dtype_size(array.dtype);
  if (count < 0 || static_cast<uint64_t>(count) > std::numeric_limits<uint64_t>::max() / size) {
    throw InputError(
        fmt::format("{}: npy shape {} is too large", path.string(), format_shape(array.shape)));
  }
  return static_cast<std::size_t>(count) * size;
}

void check_data_size(const std::filesystem::path& path, const NpyArray& array,
                     std::size_t available) {
  const std::size_t expected = expected_data_size(path, array);
  if (available == expected) return;
  throw InputError(fmt::format(
      "{}: {}: the header says shape {} of {} ({} elements x {} bytes = {} bytes) but the file "
      "holds {} bytes of data",
      path.string(), available < expected ? "truncated npy data" : "trailing bytes after npy data",
      format_shape(array.shape), dtype_name(array.dtype), array.element_count(),
      dtype_size(array.dtype), expected, available));
}

// ---- Writing.

std::string header_dict(const NpyArray& array) {
  return fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                     info_of(array.dtype).descr, format_shape(array.shape));
}

// Version 1.0 preamble plus the header dict, padded with spaces and a final '\n' so that the
// data starts at a multiple of 64 bytes.
std::string npy_preamble(const NpyArray& array) {
  std::string dict = header_dict(array);
  const std::size_t fixed = kMagicSize + 2 + 2;
  const std::size_t unpadded = fixed + dict.size() + 1;
  const std::size_t total = (unpadded + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  const std::size_t header_length = total - fixed;
  if (header_length > std::numeric_limits<uint16_t>::max()) {
    throw std::invalid_argument(fmt::format("npy header for shape {} is too long for format 1.0",
                                            format_shape(array.shape)));
  }
  dict.append(total - unpadded, ' ');
  dict += '\n';
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header_length & 0xff);
  out += static_cast<char>(header_length >> 8);
  return out + dict;
}

void validate_for_writing(const std::filesystem::path& path, const NpyArray& array) {
  for (int64_t dim : array.shape) {
    if (dim < 0) {
      throw std::invalid_argument(
          fmt::format("{}: cannot write an npy array with shape {}: "
                      "negative dimension",
                      path.string(), format_shape(array.shape)));
    }
  }
  const int64_t count = checked_product(array.shape);
  if (count < 0 || array.data.size() != static_cast<std::size_t>(count) * dtype_size(array.dtype)) {
    throw std::invalid_argument(fmt::format(
        "{}: cannot write an npy array: shape {} of {} needs {} elements but the data holds {} "
        "bytes",
        path.string(), format_shape(array.shape), dtype_name(array.dtype), count,
        array.data.size()));
  }
}

template <typename T>
NpyArray make_array(const std::filesystem::path& path, DType dtype, const std::vector<T>& values,
                    std::vector<int64_t> shape) {
  const int64_t count = checked_product(shape);
  if (count < 0 || static_cast<std::size_t>(count) != values.size()) {
    throw std::invalid_argument(
        fmt::format("{}: cannot write an npy array: shape {} has {} "
                    "elements but {} values were given",
                    path.string(), format_shape(shape), count, values.size()));
  }
  NpyArray array{dtype, std::move(shape), {}};
  array.data.reserve(values.size() * sizeof(T));
  for (T value : values) append_le(array.data, value);
  return array;
}

}  // namespace

std::string_view dtype_name(DType dtype) { return info_of(dtype).name; }

std::size_t dtype_size(DType dtype) { return info_of(dtype).size; }

int64_t NpyArray::element_count() const { return checked_product(shape); }

std::vector<float> NpyArray::to_float32() const {
  return visit_dtype(dtype, [this](auto tag) { return convert_all<decltype(tag), float>(*this); });
}

std::vector<int64_t> NpyArray::to_int64() const {
  if (dtype != DType::Float32 && dtype != DType::Float64) {
    return visit_dtype(dtype,
                       [this](auto tag) { return convert_all<decltype(tag), int64_t>(*this); });
  }
  const std::vector<double> values =
      visit_dtype(dtype, [this](auto tag) { return convert_all<decltype(tag), double>(*this); });
  std::vector<int64_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double value = values[i];
    // 2^63 is exactly representable; every integral double in [-2^63, 2^63) fits in int64.
    const bool fits = std::isfinite(value) && value == std::trunc(value) &&
                      value >= -9223372036854775808.0 && value < 9223372036854775808.0;
    if (!fits) {
      throw InputError(fmt::format("{} array element {} is {}: expected an integer value",
                                   dtype_name(dtype), i, value));
    }
    out[i] = static_cast<int64_t>(value);
  }
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) { return parse_npy(read_text_file(path), path); }

NpyArray parse_npy(std::string_view bytes, const std::filesystem::path& path) {
  const Preamble preamble = read_preamble(path, bytes);
  const std::string_view header = bytes.substr(preamble.header_offset, preamble.header_length);
  const PyValue dict = HeaderParser(path, header).parse_dict();

  NpyArray array;
  array.dtype = parse_descr(path, require_key(path, dict, "descr", header));
  check_c_order(path, require_key(path, dict, "fortran_order", header));
  array.shape = parse_shape(path, require_key(path, dict, "shape", header));

  const std::size_t data_offset = preamble.header_offset + preamble.header_length;
  check_data_size(path, array, bytes.size() - data_offset);
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_offset), bytes.end());
  return array;
}

std::optional<int64_t> first_non_finite(const NpyArray& array) {
  if (array.dtype != DType::Float32 && array.dtype != DType::Float64) return std::nullopt;
  return visit_dtype(array.dtype, [&array](auto tag) -> std::optional<int64_t> {
    using T = decltype(tag);
    const int64_t count = array.element_count();
    for (int64_t i = 0; i < count; ++i) {
      if (!std::isfinite(static_cast<double>(load_le<T>(array.data.data() + i * sizeof(T))))) return i;
    }
    return std::nullopt;
  });
}

void write_npy(const std::filesystem::path& path, const NpyArray& array) {
  validate_for_writing(path, array);
  std::string contents = npy_preamble(array);
  contents.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  write_file_atomically(path, contents);
}

void write_npy(const std::filesystem::path& path, const std::vector<float>& values,
               std::vector<int64_t> shape) {
  write_npy(path, make_array(path, DType::Float32, values, std::move(shape)));
}

void write_npy(const std::filesystem::path& path, const std::vector<int64_t>& values,
               std::vector<int64_t> shape) {
  write_npy(path, make_array(path, DType::Int64, values, std::move(shape)));
}

}  // namespace bitline::io
