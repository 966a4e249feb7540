#pragma once
// FNV-1a 64-bit digest: stable across platforms and runs, for config hashes and weight digests.
// Not cryptographic.
#include <cstddef>
#include <cstdint>
#include <string>

namespace bitline::core {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;

inline uint64_t fnv1a64(const void* data, std::size_t size, uint64_t hash = kFnvOffsetBasis) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 1099511628211ULL;
  }
  return hash;
}

inline std::string hex64(uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = digits[value & 0xF];
  return out;
}

}  // namespace bitline::core
