#pragma once
// NumPy .npy tensor files (format versions 1.0, 2.0 and 3.0), read and written without numpy.
// Only little-endian, C-ordered arrays of plain numeric dtypes are supported; that is what
// numpy.save writes on every common machine.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace bitline::io {

enum class DType { Float32, Float64, Int8, UInt8, Int16, Int32, Int64 };

// The numpy name of the dtype: "float32", "float64", "int8", "uint8", "int16", "int32", "int64".
std::string_view dtype_name(DType dtype);

// Bytes per element: 4, 8, 1, 1, 2, 4, 8.
std::size_t dtype_size(DType dtype);

struct NpyArray {
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;       // empty for a scalar
  std::vector<unsigned char> data;  // little-endian elements in C (row-major) order

  // Product of the shape; 1 for a scalar (shape ()), 0 if any dimension is 0.
  int64_t element_count() const;

  // Every element converted to float32 (float64 and int64 values may lose precision).
  std::vector<float> to_float32() const;

  // Every element converted to int64. Throws InputError if a floating-point element is not an
  // integer (e.g. 2.5, NaN) or does not fit in int64; the message names the element index.
  std::vector<int64_t> to_int64() const;
};

// Reads a .npy file. Accepts the descrs <f4 <f8 |i1 |u1 <i2 <i4 <i8 with fortran_order False.
// Throws InputError naming the file for a missing file, a bad magic string, an unsupported format
// version, a truncated or malformed header, an unsupported or big-endian dtype, Fortran order,
// a bad shape, or a data section that does not match the shape.
NpyArray read_npy(const std::filesystem::path& path);

// The same for the bytes of an .npy file already in memory; `path` names it in messages. The
// header's shape is checked against the bytes present before anything is allocated for it.
NpyArray parse_npy(std::string_view bytes, const std::filesystem::path& path);

// The index of the first NaN or infinite element of a floating-point array; nullopt when every
// element is finite or the dtype is an integer type.
std::optional<int64_t> first_non_finite(const NpyArray& array);

// Writes format version 1.0 (data aligned to 64 bytes) atomically, loadable by numpy.load.
// Throws std::invalid_argument if array.data.size() != element_count() * dtype_size(dtype) or a
// dimension is negative, and std::runtime_error if writing fails.
void write_npy(const std::filesystem::path& path, const NpyArray& array);

// Convenience overloads writing float32 / int64 arrays. Throw std::invalid_argument if
// values.size() is not the product of shape.
void write_npy(const std::filesystem::path& path, const std::vector<float>& values,
               std::vector<int64_t> shape);
void write_npy(const std::filesystem::path& path, const std::vector<int64_t>& values,
               std::vector<int64_t> shape);

}  // namespace bitline::io
