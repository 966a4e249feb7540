#pragma once
// IDX files as used by MNIST and Fashion-MNIST, either gzip-compressed or plain.
#include <filesystem>
#include <string_view>

#include "io/image_set.h"

namespace bitline::io {

// Reads an IDX image file (magic 0x00000803: unsigned bytes, dims count x rows x cols) and an IDX
// label file (magic 0x00000801: count) into a single-channel ImageSet. Throws InputError naming
// the offending file for a missing file, a bad magic number, zero or absurd (> 100000) dimensions,
// truncated or trailing data, a corrupt gzip stream, label and image counts that differ, or a label
// outside [0, class_count) (naming its record).
ImageSet read_idx_dataset(const std::filesystem::path& images_file, const std::filesystem::path& labels_file,
                          int class_count);

// The same for the contents of the two files already in memory (plain or gzip); the paths name
// them in messages.
ImageSet parse_idx_dataset(std::string_view image_bytes, const std::filesystem::path& images_file,
                           std::string_view label_bytes, const std::filesystem::path& labels_file, int class_count);

// Loads the Fashion-MNIST training (train = true: 60000 images) or test (10000 images) split
// from `directory`, which holds the four original *-idx?-ubyte.gz files (the Debian package
// dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist). Throws InputError
// with an installation hint if the directory or a file is missing.
ImageSet load_fashion_mnist(const std::filesystem::path& directory, bool train);

}  // namespace bitline::io
