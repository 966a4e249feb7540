#pragma once
// Named tensors with string metadata in the safetensors layout (https://github.com/huggingface/safetensors):
//   8 bytes: N, the header's length (little-endian u64)
//   N bytes: a JSON object {"__metadata__": {"key": "value", ...},
//                           "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//   the data: each tensor's little-endian, C-ordered bytes at [begin, end) of this section.
// Checkpoints use it instead of LibTorch's archive: the reader is this file's own small parser,
// which checks every offset, shape and size before it copies anything, where LibTorch's unpickler
// trusts its input (and compiles TorchScript source stored in the archive).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bitline::io {

// The safetensors dtypes bitline writes: F64, F32, I64, I32, U8.
enum class TensorDType { F64, F32, I64, I32, U8 };
std::string_view tensor_dtype_name(TensorDType dtype);  // "F64", ...
std::size_t tensor_dtype_size(TensorDType dtype);       // 8, 4, 8, 4, 1

struct StoredTensor {
  TensorDType dtype = TensorDType::F32;
  std::vector<int64_t> shape;  // empty for a scalar
  std::string bytes;           // element_count() * tensor_dtype_size(dtype) bytes
  int64_t element_count() const;
};

struct TensorArchive {
  std::map<std::string, std::string> metadata;
  std::map<std::string, StoredTensor> tensors;
};

// The archive's bytes; tensors in name order. Throws std::invalid_argument if a tensor's byte
// count does not match its shape and dtype.
std::string serialize_tensor_archive(const TensorArchive& archive);

// Parses and checks an archive; `path` names it in messages. Throws InputError for a header
// length beyond the file (or over 100 MiB), JSON that is malformed, nested deeper than the layout
// or repeats a key, metadata that is not a map of strings, an unknown dtype, a negative or
// overflowing shape, offsets that are out of order, overlap, leave gaps, or disagree with the
// shape, and data bytes that no tensor covers.
TensorArchive parse_tensor_archive(std::string_view bytes, const std::filesystem::path& path);

}  // namespace bitline::io
