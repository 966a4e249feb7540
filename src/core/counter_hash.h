#pragma once
// Counter-based pseudo-random values: a pure function of (seed, counters), so results do not
// depend on the order, batching or threading of the calls that draw them.
#include <cstdint>

namespace bitline::core {

// SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijective 64-bit mix with good avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A 64-bit value keyed by a seed and up to three counters.
constexpr uint64_t counter_hash(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return mix64(mix64(mix64(mix64(seed) ^ a) ^ b) ^ c);
}

// Uniform integer in [0, bound) from a hash value (bound > 0), by 128-bit multiply (Lemire).
inline uint64_t bounded(uint64_t hash, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(hash) * bound) >> 64);
}

}  // namespace bitline::core
