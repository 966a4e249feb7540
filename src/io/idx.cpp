#include "io/idx.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <system_error>

#include "core/error.h"
#include "io/atomic_file.h"

namespace bitline::io {
namespace {

constexpr uint32_t kImageMagic = 0x00000803;  // unsigned byte data, 3 dimensions
constexpr uint32_t kLabelMagic = 0x00000801;  // unsigned byte data, 1 dimension
constexpr std::size_t kLabelHeaderBytes = 8;  // magic and count
constexpr int kFashionMnistClasses = 10;
constexpr uint32_t kMaxSide = 100000;         // anything larger is a corrupt header, not an image
constexpr std::size_t kFirstChunkSize = std::size_t{1} << 16;

constexpr std::string_view kFashionMnistHint =
    "install the Debian package dataset-fashion-mnist (it provides "
    "/usr/share/datasets/fashion-mnist)";

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// The data of an IDX file held in memory: plain bytes as they are, or a gzip stream (of one or more
// members) inflated by zlib as it is read. Reads never allocate more than the caller asks for.
class IdxStream {
 public:
  IdxStream(std::string_view bytes, std::filesystem::path path)
      : path_(std::move(path)), bytes_(bytes), gzip_(is_gzip(bytes)) {
    if (!gzip_) return;
    if (inflateInit2(&stream_, 15 + 16) != Z_OK) throw std::bad_alloc();  // 15 + 16: gzip framing only
    inflating_ = true;
  }
  ~IdxStream() {
    if (inflating_) inflateEnd(&stream_);
  }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Reads up to `size` bytes into `out`; returns fewer only at the end of the data.
  std::size_t read(unsigned char* out, std::size_t size) {
    if (!gzip_) {
      const std::size_t got = std::min(size, bytes_.size() - consumed_);
      std::memcpy(out, bytes_.data() + consumed_, got);
      consumed_ += got;
      return got;
    }
    std::size_t total = 0;
    while (total < size && !finished_) total += inflate_into(out + total, size - total);
    return total;
  }

  // Reads and discards everything left; returns how many bytes that was.
  uint64_t count_remaining_bytes() {
    std::array<unsigned char, 1 << 16> scratch{};
    uint64_t total = 0;
    while (const std::size_t got = read(scratch.data(), scratch.size())) total += got;
    return total;
  }

 private:
  // One inflate step into out[0, size); returns the bytes it produced.
  std::size_t inflate_into(unsigned char* out, std::size_t size) {
    const std::size_t input_left = bytes_.size() - consumed_;
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes_.data() + consumed_));
    stream_.avail_in = static_cast<uInt>(std::min<std::size_t>(input_left, std::numeric_limits<uInt>::max()));
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(std::min<std::size_t>(size, std::numeric_limits<uInt>::max()));
    const uInt offered_in = stream_.avail_in, offered_out = stream_.avail_out;
    const int status = inflate(&stream_, Z_NO_FLUSH);
    consumed_ += offered_in - stream_.avail_in;
    const std::size_t produced = offered_out - stream_.avail_out;
    if (status == Z_STREAM_END) {
      start_next_member();
    } else if (status == Z_OK || status == Z_BUF_ERROR) {
      // No output and no input used: the compressed data ended before the stream did.
      if (produced == 0 && offered_in == stream_.avail_in) {
        throw InputError(fmt::format("{}: truncated gzip stream: expected more compressed data, found the end "
                                     "of the file after {} bytes",
                                     path_.string(), bytes_.size()));
      }
    } else if (status == Z_MEM_ERROR) {
      throw std::bad_alloc();
    } else {
      throw InputError(fmt::format("{}: corrupt gzip stream: expected valid deflate data, found an error at "
                                   "compressed byte {}: {}",
                                   path_.string(), consumed_, stream_.msg != nullptr ? stream_.msg : "unknown"));
    }
    return produced;
  }

  // After a gzip member: another member may follow (as gzip itself reads them); anything else is
  // an error rather than data silently ignored.
  void start_next_member() {
    if (consumed_ == bytes_.size()) {
      finished_ = true;
      return;
    }
    if (!is_gzip(bytes_.substr(consumed_))) {
      throw InputError(fmt::format("{}: trailing data after the gzip stream: {} bytes at byte offset {} that are "
                                   "not another gzip member",
                                   path_.string(), bytes_.size() - consumed_, consumed_));
    }
    inflateReset(&stream_);
  }

  std::filesystem::path path_;
  std::string_view bytes_;
  bool gzip_ = false;
  bool inflating_ = false;
  bool finished_ = false;
  std::size_t consumed_ = 0;  // input bytes used so far
  z_stream stream_{};
};

struct IdxHeader {
  uint32_t count = 0;
  uint32_t rows = 0;  // images only
  uint32_t cols = 0;  // images only
};

uint32_t read_big_endian_u32(IdxStream& file, std::string_view field) {
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

void check_magic(IdxStream& file, uint32_t expected, std::string_view what) {
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

IdxHeader read_image_header(IdxStream& file) {
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

IdxHeader read_label_header(IdxStream& file) {
  check_magic(file, kLabelMagic, "label");
  IdxHeader header;
  header.count = read_big_endian_u32(file, "label count");
  if (header.count == 0) {
    throw InputError(fmt::format("{}: expected at least one label, found a label count of 0",
                                 file.path().string()));
  }
  return header;
}

// Reads up to `size` bytes, growing the buffer geometrically with the data that arrives, so that a
// header claiming an absurd size cannot make us allocate memory the file does not back.
std::vector<uint8_t> read_up_to(IdxStream& file, uint64_t size) {
  std::vector<uint8_t> data;
  while (data.size() < size) {
    const std::size_t old_size = data.size();
    const std::size_t request =
        static_cast<std::size_t>(std::min<uint64_t>(size - old_size, std::max(kFirstChunkSize, old_size)));
    data.resize(old_size + request);
    const std::size_t got = file.read(data.data() + old_size, request);
    data.resize(old_size + got);
    if (got < request) break;
  }
  return data;
}

// Reads exactly `size` payload bytes and checks nothing follows them. `described` says what the
// header declared, e.g. "60000 images of 28x28 (47040000 bytes)"; `unit` names the payload.
std::vector<uint8_t> read_payload(IdxStream& file, uint64_t size, const std::string& described,
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

void check_counts_match(const IdxStream& images, const IdxHeader& image_header, const IdxStream& labels,
                        const IdxHeader& label_header) {
  if (image_header.count == label_header.count) return;
  throw InputError(
      fmt::format("{}: expected one label per image ({} labels, as {} holds {} "
                  "images), found {} labels",
                  labels.path().string(), image_header.count, images.path().string(),
                  image_header.count, label_header.count));
}

// Labels are class indices; one outside [0, class_count) would fail only when training reaches it.
void check_labels(const std::filesystem::path& path, const std::vector<uint8_t>& labels, int class_count) {
  for (std::size_t record = 0; record < labels.size(); ++record) {
    if (labels[record] < class_count) continue;
    throw InputError(fmt::format("{}: label record {} (byte offset {} of the IDX data) is {}, expected a class "
                                 "index 0 to {}",
                                 path.string(), record, kLabelHeaderBytes + record, labels[record], class_count - 1));
  }
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

ImageSet read_idx_dataset(const std::filesystem::path& images_file, const std::filesystem::path& labels_file,
                          int class_count) {
  const std::string image_bytes = read_text_file(images_file);
  const std::string label_bytes = read_text_file(labels_file);
  return parse_idx_dataset(image_bytes, images_file, label_bytes, labels_file, class_count);
}

ImageSet parse_idx_dataset(std::string_view image_bytes, const std::filesystem::path& images_file,
                           std::string_view label_bytes, const std::filesystem::path& labels_file, int class_count) {
  IdxStream images(image_bytes, images_file);
  const IdxHeader image_header = read_image_header(images);
  IdxStream labels(label_bytes, labels_file);
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
  check_labels(labels.path(), set.labels, class_count);
  return set;
}

ImageSet load_fashion_mnist(const std::filesystem::path& directory, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const std::filesystem::path images =
      require_fashion_mnist_file(directory, prefix + "-images-idx3-ubyte.gz");
  const std::filesystem::path labels =
      require_fashion_mnist_file(directory, prefix + "-labels-idx1-ubyte.gz");
  return read_idx_dataset(images, labels, kFashionMnistClasses);
}

}  // namespace bitline::io
