#pragma once
// The CIFAR-10 "binary version": files of 3073-byte records, one label byte (0-9) followed by a
// 32x32 RGB image stored as 1024 red, 1024 green and 1024 blue bytes (row-major), i.e. NCHW.
#include <filesystem>
#include <string_view>
#include <vector>

#include "io/image_set.h"

namespace bitline::io {

// Concatenates the records of `files`, in order, into a 3x32x32 ImageSet. Throws InputError
// naming the file for a missing or empty file, a size that is not a multiple of 3073 bytes, or a
// label above 9; std::invalid_argument if `files` is empty.
ImageSet read_cifar10_batches(const std::vector<std::filesystem::path>& files);

// An ImageSet of no images, shaped 3x32x32, for append_cifar10_batch.
ImageSet empty_cifar10_set();

// Appends the records of one batch file already in memory (`path` names it in messages) to `set`,
// with the checks of read_cifar10_batches.
void append_cifar10_batch(std::string_view bytes, const std::filesystem::path& path, ImageSet& set);

// Loads the training (data_batch_1.bin ... data_batch_5.bin) or test (test_batch.bin) split from
// `directory` or from `directory`/cifar-10-batches-bin (the folder the official archive unpacks
// to). Throws InputError naming the paths it looked at, with a download hint, if they are missing.
ImageSet load_cifar10(const std::filesystem::path& directory, bool train);

}  // namespace bitline::io
