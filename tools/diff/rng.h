// Rng: the oracle's own pseudo-random generator (xoshiro256**, seeded by
// splitmix64). Owns nothing but its 256-bit state. Promise: the same seed
// gives the same stream on every compiler and library, which the standard
// <random> distributions do not guarantee.
#ifndef SHUNT_TOOLS_DIFF_RNG_H_
#define SHUNT_TOOLS_DIFF_RNG_H_

#include <cstddef>
#include <cstdint>

namespace shunt_diff {

// One splitmix64 step: advances *state and returns a well-mixed value.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The seed of sequence `index` of a run started with `seed`.
inline uint64_t SequenceSeed(uint64_t seed, uint64_t index) {
  uint64_t s = seed ^ (index * 0xd1342543de82ef95ULL);
  return SplitMix64(&s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = SplitMix64(&seed);
  }
  // Draws from `bytes` first, eight at a time, then from the generator
  // seeded by their hash: a fuzzer's input steers every choice.
  Rng(const uint8_t* bytes, size_t size) : bytes_(bytes), size_(size) {
    uint64_t seed = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; ++i)
      seed = (seed ^ bytes[i]) * 0x100000001b3ULL;
    for (uint64_t& w : s_) w = SplitMix64(&seed);
  }

  uint64_t Next() {
    if (pos_ + 8 <= size_) {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v = v << 8 | bytes_[pos_++];
      return v;
    }
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) for n > 0 (Lemire's multiply-shift; the tiny bias is
  // irrelevant here and the result is the same everywhere).
  uint32_t Below(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * n) >> 32);
  }
  // Uniform in [lo, hi].
  int Range(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<uint32_t>(hi - lo + 1)));
  }
  // True with probability percent/100.
  bool Percent(uint32_t percent) { return Below(100) < percent; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0, pos_ = 0;
};

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_RNG_H_
