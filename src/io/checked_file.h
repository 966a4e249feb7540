#pragma once
// Files whose contents are checked before anything parses them: one header line naming the kind
// of file, its format version, the payload's length and CRC-32, then the payload bytes:
//   bitline <kind> <version> <payload bytes> <crc32 as 8 hex digits>\n<payload>
// A bit flip, a truncation or appended bytes are refused before the payload reaches its parser
// (for checkpoints: LibTorch's archive reader, which trusts its input).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace bitline::io {

struct CheckedFileKind {
  std::string name;     // one word, e.g. "checkpoint"
  int64_t version = 1;  // the payload's format version
};

// Writes header and payload atomically.
void write_checked_file(const std::filesystem::path& path, const CheckedFileKind& kind, std::string_view payload);

// The payload of a checked file. Throws InputError naming the file for a missing file, a header
// that is not a bitline header of this kind, another format version (saying which), a payload of
// another length, or a CRC-32 mismatch.
std::string read_checked_file(const std::filesystem::path& path, const CheckedFileKind& kind);

// The same for the file's bytes already in memory; `path` names it in messages.
std::string_view parse_checked_file(std::string_view bytes, const std::filesystem::path& path,
                                    const CheckedFileKind& kind);

// The header line of a payload, for writers that assemble the file themselves (tests).
std::string checked_file_header(const CheckedFileKind& kind, std::string_view payload);

}  // namespace bitline::io
