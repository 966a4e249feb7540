#include "io/checked_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::io {
namespace {

constexpr std::string_view kMagic = "bitline ";
constexpr std::size_t kMaxHeaderBytes = 256;

uint32_t crc32_of(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {  // zlib takes at most 4 GiB per call
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(bytes.size(), std::numeric_limits<uInt>::max()));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), chunk);
    bytes.remove_prefix(chunk);
  }
  return static_cast<uint32_t>(crc);
}

// Splits the header line into its space-separated fields.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return fields;
}

template <class T>
bool parse_number(std::string_view text, T& value, int base = 10) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string quoted(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 80)) out += c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02X}", c);
  return "'" + out + (bytes.size() > 80 ? "...'" : "'");
}

}  // namespace

std::string checked_file_header(const CheckedFileKind& kind, std::string_view payload) {
  return fmt::format("{}{} {} {} {:08x}\n", kMagic, kind.name, kind.version, payload.size(), crc32_of(payload));
}

void write_checked_file(const std::filesystem::path& path, const CheckedFileKind& kind, std::string_view payload) {
  std::string contents = checked_file_header(kind, payload);
  contents.append(payload);
  write_file_atomically(path, contents);
}

std::string_view parse_checked_file(std::string_view bytes, const std::filesystem::path& path,
                                    const CheckedFileKind& kind) {
  const std::string expected_form = fmt::format("a first line '{}{} <version> <payload bytes> <crc32>'", kMagic, kind.name);
  const std::size_t newline = bytes.substr(0, kMaxHeaderBytes).find('\n');
  if (bytes.substr(0, kMagic.size()) != kMagic || newline == std::string_view::npos) {
    const bool zip = bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4);
    throw InputError(fmt::format("{}: expected a bitline {} file, starting with {}; found {}{}", path.string(), kind.name,
                                 expected_form, bytes.empty() ? "an empty file" : quoted(bytes.substr(0, 16)),
                                 zip ? " (a plain zip archive, as bitline wrote before its files carried a checksum)" : ""));
  }
  const std::string_view header = bytes.substr(0, newline);
  const auto fields = fields_of(header.substr(kMagic.size()));
  int64_t version = 0;
  uint64_t length = 0;
  uint32_t crc = 0;
  if (fields.size() != 4 || fields[0] != kind.name || !parse_number(fields[1], version) ||
      !parse_number(fields[2], length) || fields[3].size() != 8 || !parse_number(fields[3], crc, 16)) {
    throw InputError(fmt::format("{}: expected a bitline {} file with {}, found the header {}", path.string(), kind.name,
                                 expected_form, quoted(header)));
  }
  if (version != kind.version) {
    throw InputError(fmt::format("{}: expected a bitline {} of format version {}, found version {}", path.string(),
                                 kind.name, kind.version, version));
  }
  const std::string_view payload = bytes.substr(newline + 1);
  if (payload.size() != length) {
    throw InputError(fmt::format("{}: {}: the header says {} bytes of payload but the file holds {}", path.string(),
                                 payload.size() < length ? "truncated" : "trailing bytes", length, payload.size()));
  }
  const uint32_t found_crc = crc32_of(payload);
  if (found_crc != crc) {
    throw InputError(fmt::format("{}: corrupt {}: expected the payload's CRC-32 {:08x} of the header, found {:08x}; the "
                                 "file was changed after bitline wrote it",
                                 path.string(), kind.name, crc, found_crc));
  }
  return payload;
}

std::string read_checked_file(const std::filesystem::path& path, const CheckedFileKind& kind) {
  const std::string bytes = read_text_file(path);
  return std::string(parse_checked_file(bytes, path, kind));
}

}  // namespace bitline::io
