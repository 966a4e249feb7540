#include "io/tensor_archive.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <stdexcept>

#include "core/error.h"

namespace bitline::io {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kLengthBytes = 8;
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;  // safetensors' own limit
constexpr int kMaxJsonDepth = 3;                           // archive -> tensor -> shape / offsets
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeInfo {
  TensorDType dtype;
  std::string_view name;
  std::size_t size;
};
constexpr std::array<DTypeInfo, 5> kDTypes = {{{TensorDType::F64, "F64", 8},
                                               {TensorDType::F32, "F32", 4},
                                               {TensorDType::I64, "I64", 8},
                                               {TensorDType::I32, "I32", 4},
                                               {TensorDType::U8, "U8", 1}}};

const DTypeInfo& info_of(TensorDType dtype) {
  for (const auto& info : kDTypes) {
    if (info.dtype == dtype) return info;
  }
  throw std::invalid_argument("unknown bitline::io::TensorDType value");
}

// Element count of `shape`, or -1 when a dimension is negative or the product overflows.
int64_t checked_count(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(count, dim, &count)) return -1;
  }
  return count;
}

class HeaderReader {
 public:
  HeaderReader(const std::filesystem::path& path, std::size_t data_bytes) : path_(path), data_bytes_(data_bytes) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: malformed tensor archive: {}", path_.string(), what));
  }

  // The header as JSON. Repeated keys (which JSON parsers resolve silently) and nesting deeper than
  // the layout are refused while parsing.
  Json parse(std::string_view text) const {
    std::vector<std::set<std::string>> keys;  // the keys seen in each open object
    auto check = [&](int depth, Json::parse_event_t event, Json& parsed) {
      if (depth > kMaxJsonDepth) fail(fmt::format("expected a header nested at most {} levels deep", kMaxJsonDepth));
      if (event == Json::parse_event_t::object_start) keys.emplace_back();
      if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
      if (event == Json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
        fail(fmt::format("the header repeats the key '{}'", parsed.get<std::string>()));
      }
      return true;
    };
    try {
      return Json::parse(text.begin(), text.end(), check);
    } catch (const Json::exception& error) {
      fail(fmt::format("the header is not valid JSON: {}", error.what()));
    }
  }

  void read_metadata(const Json& value, TensorArchive& archive) const {
    if (!value.is_object()) fail("expected '__metadata__' to be an object of strings");
    for (const auto& [key, text] : value.items()) {
      if (!text.is_string()) fail(fmt::format("expected metadata '{}' to be a string, found {}", key, text.type_name()));
      archive.metadata[key] = text.get<std::string>();
    }
  }

  // One tensor entry; returns its data offsets [begin, end).
  std::pair<uint64_t, uint64_t> read_tensor(const std::string& name, const Json& entry, StoredTensor& tensor) const {
    if (!entry.is_object() || entry.size() != 3 || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      fail(fmt::format("tensor '{}': expected an object with exactly dtype, shape and data_offsets", name));
    }
    const Json& dtype = entry["dtype"];
    const auto* info = std::find_if(kDTypes.begin(), kDTypes.end(), [&](const DTypeInfo& candidate) {
      return dtype.is_string() && dtype.get<std::string>() == candidate.name;
    });
    if (info == kDTypes.end()) fail(fmt::format("tensor '{}': expected dtype F64, F32, I64, I32 or U8, found {}", name, dtype.dump()));
    tensor.dtype = info->dtype;
    const Json& shape = entry["shape"];
    if (!shape.is_array()) fail(fmt::format("tensor '{}': expected the shape as a list of integers", name));
    for (const Json& dim : shape) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(fmt::format("tensor '{}': expected non-negative integer dimensions, found {}", name, dim.dump()));
      }
      tensor.shape.push_back(dim.get<int64_t>());
    }
    const Json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      fail(fmt::format("tensor '{}': expected data_offsets [begin, end] of non-negative integers", name));
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_bytes_) {
      fail(fmt::format("tensor '{}': expected data_offsets within the {} data bytes, begin <= end, found [{}, {}]", name,
                       data_bytes_, begin, end));
    }
    const int64_t count = checked_count(tensor.shape);
    uint64_t expected = 0;
    if (count < 0 || __builtin_mul_overflow(static_cast<uint64_t>(count), info->size, &expected) || expected != end - begin) {
      fail(fmt::format("tensor '{}': shape {} of {} needs {} bytes, but data_offsets [{}, {}] hold {}", name, shape.dump(),
                       info->name, count < 0 ? std::string("too many") : std::to_string(expected), begin, end, end - begin));
    }
    return {begin, end};
  }

 private:
  const std::filesystem::path& path_;
  std::size_t data_bytes_;
};

}  // namespace

std::string_view tensor_dtype_name(TensorDType dtype) { return info_of(dtype).name; }
std::size_t tensor_dtype_size(TensorDType dtype) { return info_of(dtype).size; }
int64_t StoredTensor::element_count() const { return checked_count(shape); }

std::string serialize_tensor_archive(const TensorArchive& archive) {
  Json header = Json::object();
  if (!archive.metadata.empty()) header[std::string(kMetadataKey)] = archive.metadata;
  std::string data;
  for (const auto& [name, tensor] : archive.tensors) {
    const int64_t count = tensor.element_count();
    if (count < 0 || tensor.bytes.size() != static_cast<uint64_t>(count) * tensor_dtype_size(tensor.dtype)) {
      throw std::invalid_argument(fmt::format("tensor archive: tensor '{}' holds {} bytes, which its shape and dtype do not match",
                                              name, tensor.bytes.size()));
    }
    header[name] = {{"dtype", tensor_dtype_name(tensor.dtype)}, {"shape", tensor.shape}, {"data_offsets", {data.size(), data.size() + tensor.bytes.size()}}};
    data += tensor.bytes;
  }
  // Metadata are the user's text (the config YAML): invalid UTF-8 is replaced rather than refused.
  const std::string text = header.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out(kLengthBytes, '\0');
  for (std::size_t i = 0; i < kLengthBytes; ++i) out[i] = static_cast<char>((uint64_t{text.size()} >> (8 * i)) & 0xff);
  return out + text + data;
}

TensorArchive parse_tensor_archive(std::string_view bytes, const std::filesystem::path& path) {
  if (bytes.size() < kLengthBytes) {
    throw InputError(fmt::format("{}: malformed tensor archive: expected an 8-byte header length, found {} bytes in all",
                                 path.string(), bytes.size()));
  }
  uint64_t header_bytes = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i) header_bytes |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  if (header_bytes > kMaxHeaderBytes || header_bytes > bytes.size() - kLengthBytes) {
    throw InputError(fmt::format("{}: malformed tensor archive: the header length says {} bytes, but the archive holds {} "
                                 "after the length (and at most {} are allowed)",
                                 path.string(), header_bytes, bytes.size() - kLengthBytes, kMaxHeaderBytes));
  }
  const std::string_view data = bytes.substr(kLengthBytes + header_bytes);
  const HeaderReader reader(path, data.size());
  const Json header = reader.parse(bytes.substr(kLengthBytes, header_bytes));
  if (!header.is_object()) reader.fail("expected the header to be a JSON object");

  TensorArchive archive;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> extents;  // (offsets, name)
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      reader.read_metadata(entry, archive);
      continue;
    }
    StoredTensor tensor;
    extents.push_back({reader.read_tensor(name, entry, tensor), name});
    archive.tensors.emplace(name, std::move(tensor));
  }
  // The tensors tile the data section: in offset order, each begins where the previous one ended.
  std::sort(extents.begin(), extents.end());
  uint64_t covered = 0;
  for (const auto& [offsets, name] : extents) {
    if (offsets.first != covered) {
      reader.fail(fmt::format("tensor '{}' begins at data byte {}, expected {} (tensors must tile the data without gaps "
                              "or overlaps)",
                              name, offsets.first, covered));
    }
    covered = offsets.second;
    archive.tensors[name].bytes.assign(data.substr(offsets.first, offsets.second - offsets.first));
  }
  if (covered != data.size()) {
    reader.fail(fmt::format("the tensors cover {} data bytes, but the archive holds {}", covered, data.size()));
  }
  return archive;
}

}  // namespace bitline::io
