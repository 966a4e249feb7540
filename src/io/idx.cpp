#include "io/idx.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

#include "core/error.h"

namespace bitline::io {
namespace {

constexpr uint32_t kImageMagic = 0x00000803;  // unsigned byte data, 3 dimensions
constexpr uint32_t kLabelMagic = 0x00000801;  // unsigned byte data, 1 dimension
constexpr uint32_t kMaxSide = 100000;         // anything larger is a corrupt header, not an image
constexpr std::size_t kChunkSize = std::size_t{1} << 24;

constexpr std::string_view kFashionMnistHint =
    "install the Debian package dataset-fashion-mnist (it provides "
    "/usr/share/datasets/fashion-mnist)";

// A gzip-compressed or plain file read through zlib, which detects the format by itself.
class GzFile {
 public:
  explicit GzFile(std::filesystem::path path) : path_(std::move(path)) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path_, ignored)) {
      throw InputError(fmt::format("{}: cannot open file: it is a directory", path_.string()));
    }
    file_ = gzopen(path_.c_str(), "rb");
    if (file_ == nullptr) {
      throw InputError(fmt::format("{}: cannot open file: {}", path_.string(),
                                   errno != 0 ? std::strerror(errno) : "out of memory"));
    }
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Reads up to `size` bytes into `out`; returns fewer only at the end of the data.
  std::size_t read(unsigned char* out, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      const unsigned request = static_cast<unsigned>(std::min(size - total, kChunkSize));
      const int got = gzread(file_, out + total, request);
      if (got < 0) throw_stream_error();
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    if (total < size) check_clean_end();
    return total;
  }

  // Reads and discards everything left; returns how many bytes that was.
  uint64_t count_remaining_bytes() {
    std::vector<unsigned char> scratch(kChunkSize);
    uint64_t total = 0;
    while (std::size_t got = read(scratch.data(), scratch.size())) {
      total += got;
      if (got < scratch.size()) break;
    }
    return total;
  }

 private:
  [[noreturn]] void throw_stream_error() const {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    throw InputError(
        fmt::format("{}: corrupt gzip stream: expected valid deflate data, found an "
                    "error: {}",
                    path_.string(), zlib_reason(code, message)));
  }

  // gzerror's message starts with the path, which our messages already name.
  std::string zlib_reason(int code, const char* message) const {
    if (code == Z_ERRNO) return std::strerror(errno);
    std::string_view reason = message;
    const std::string prefix = path_.string() + ": ";
    if (reason.substr(0, prefix.size()) == prefix) reason.remove_prefix(prefix.size());
    return std::string(reason);
  }

  // zlib reports a gzip stream cut off mid-way as a Z_BUF_ERROR at end of file.
  void check_clean_end() const {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code == Z_OK) return;
    if (code == Z_BUF_ERROR) {
      throw InputError(
          fmt::format("{}: truncated gzip stream: expected more compressed data, "
                      "found the end of the file ({})",
                      path_.string(), zlib_reason(code, message)));
    }
    throw_stream_error();
  }

  std::filesystem::path path_;
  gzFile file_ = nullptr;
};

struct IdxHeader {
  uint32_t count = 0;
  uint32_t rows = 0;  // images only
  uint32_t cols = 0;  // images only
};

uint32_t read_big_endian_u32(GzFile& file, std::string_view field) {
  std::array<unsigned char, 4> bytes{};
  const std::size_t got = file.read(bytes.data(), bytes.size());
  if (got < bytes.size()) {
    throw InputError(
        fmt::format("{}: truncated IDX header: expected the 4-byte {}, found the end "
                    "of the data",
                    file.path().string(), field));
  }
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
}

void check_magic(GzFile& file, uint32_t expected, std::string_view what) {
  const uint32_t found = read_big_endian_u32(file, "magic number");
  if (found == expected) return;
  std::string hint = "the file is not an IDX file (plain or gzip-compressed)";
  if (found == kImageMagic)
    hint = "this is an IDX image file; were the image and label files swapped?";
  if (found == kLabelMagic)
    hint = "this is an IDX label file; were the image and label files swapped?";
  throw InputError(fmt::format("{}: expected the IDX {} magic number 0x{:08X}, found 0x{:08X}; {}",
                               file.path().string(), what, expected, found, hint));
}

IdxHeader read_image_header(GzFile& file) {
  check_magic(file, kImageMagic, "image");
  IdxHeader header;
  header.count = read_big_endian_u32(file, "image count");
  header.rows = read_big_endian_u32(file, "row count");
  header.cols = read_big_endian_u32(file, "column count");
  if (header.count == 0) {
    throw InputError(fmt::format("{}: expected at least one image, found an image count of 0",
                                 file.path().string()));
  }
  if (header.rows == 0 || header.cols == 0 || header.rows > kMaxSide || header.cols > kMaxSide) {
    throw InputError(
        fmt::format("{}: expected image dimensions between 1x1 and {}x{}, found "
                    "{}x{}; the header is corrupt",
                    file.path().string(), kMaxSide, kMaxSide, header.rows, header.cols));
  }
  const uint64_t image_size = uint64_t{header.rows} * header.cols;
  if (header.count > std::numeric_limits<uint64_t>::max() / image_size) {
    throw InputError(
        fmt::format("{}: expected a data set that fits in memory, found a header "
                    "claiming {} images of {}x{}; the header is corrupt",
                    file.path().string(), header.count, header.rows, header.cols));
  }
  return header;
}

IdxHeader read_label_header(GzFile& file) {
  check_magic(file, kLabelMagic, "label");
  IdxHeader header;
  header.count = read_big_endian_u32(file, "label count");
  if (header.count == 0) {
    throw InputError(fmt::format("{}: expected at least one label, found a label count of 0",
                                 file.path().string()));
  }
  return header;
}

// Reads up to `size` bytes, growing the buffer chunk by chunk so that a header claiming an
// absurd size cannot make us allocate memory the file does not back.
std::vector<uint8_t> read_up_to(GzFile& file, uint64_t size) {
  std::vector<uint8_t> data;
  while (data.size() < size) {
    const std::size_t old_size = data.size();
    const std::size_t request =
        static_cast<std::size_t>(std::min<uint64_t>(size - old_size, kChunkSize));
    data.resize(old_size + request);
    const std::size_t got = file.read(data.data() + old_size, request);
    data.resize(old_size + got);
    if (got < request) break;
  }
  return data;
}

// Reads exactly `size` payload bytes and checks nothing follows them. `described` says what the
// header declared, e.g. "60000 images of 28x28 (47040000 bytes)"; `unit` names the payload.
std::vector<uint8_t> read_payload(GzFile& file, uint64_t size, const std::string& described,
                                  std::string_view unit) {
  std::vector<uint8_t> data = read_up_to(file, size);
  if (data.size() < size) {
    throw InputError(fmt::format("{}: truncated: header says {} but the file holds {} bytes of {}",
                                 file.path().string(), described, data.size(), unit));
  }
  const uint64_t extra = file.count_remaining_bytes();
  if (extra > 0) {
    throw InputError(
        fmt::format("{}: trailing data: header says {} but the file holds {} more "
                    "bytes after them",
                    file.path().string(), described, extra));
  }
  return data;
}

void check_counts_match(const GzFile& images, const IdxHeader& image_header, const GzFile& labels,
                        const IdxHeader& label_header) {
  if (image_header.count == label_header.count) return;
  throw InputError(
      fmt::format("{}: expected one label per image ({} labels, as {} holds {} "
                  "images), found {} labels",
                  labels.path().string(), image_header.count, images.path().string(),
                  image_header.count, label_header.count));
}

std::filesystem::path require_fashion_mnist_file(const std::filesystem::path& directory,
                                                 const std::string& name) {
  std::error_code ignored;
  if (!std::filesystem::is_directory(directory, ignored)) {
    throw InputError(fmt::format("{}: Fashion-MNIST directory not found; {}", directory.string(),
                                 kFashionMnistHint));
  }
  std::filesystem::path file = directory / name;
  if (!std::filesystem::is_regular_file(file, ignored)) {
    throw InputError(
        fmt::format("{}: Fashion-MNIST file not found; {}", file.string(), kFashionMnistHint));
  }
  return file;
}

}  // namespace

ImageSet read_idx_dataset(const std::filesystem::path& images_file,
                          const std::filesystem::path& labels_file) {
  GzFile images(images_file);
  const IdxHeader image_header = read_image_header(images);
  GzFile labels(labels_file);
  const IdxHeader label_header = read_label_header(labels);
  check_counts_match(images, image_header, labels, label_header);

  const uint64_t image_size = uint64_t{image_header.rows} * image_header.cols;
  const uint64_t pixel_bytes = image_header.count * image_size;  // checked in read_image_header
  ImageSet set;
  set.count = image_header.count;
  set.channels = 1;
  set.height = image_header.rows;
  set.width = image_header.cols;
  set.pixels = read_payload(images, pixel_bytes,
                            fmt::format("{} images of {}x{} ({} bytes)", image_header.count,
                                        image_header.rows, image_header.cols, pixel_bytes),
                            "pixels");
  set.labels = read_payload(
      labels, label_header.count,
      fmt::format("{} labels ({} bytes)", label_header.count, label_header.count), "labels");
  return set;
}

ImageSet load_fashion_mnist(const std::filesystem::path& directory, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const std::filesystem::path images =
      require_fashion_mnist_file(directory, prefix + "-images-idx3-ubyte.gz");
  const std::filesystem::path labels =
      require_fashion_mnist_file(directory, prefix + "-labels-idx1-ubyte.gz");
  return read_idx_dataset(images, labels);
}

}  // namespace bitline::io
