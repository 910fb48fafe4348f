// Why: every random choice in diffuser takes an explicit seed and must give the same result on
// any thread count and on CPU and GPU. Two generators cover that: a sequential stream
// (xoshiro256**, seeded through SplitMix64) for pattern builders and initialisation, and a
// counter-based generator (Philox4x32-10) for dropout, where each element's draw depends only
// on (seed, stream, index) and can be reproduced by a CUDA kernel.
#pragma once

#include <array>
#include <cstdint>

#if defined(__CUDACC__)
#define DIFFUSER_HD __host__ __device__
#else
#define DIFFUSER_HD
#endif

namespace diffuser {

__extension__ typedef unsigned __int128 Uint128;

/// SplitMix64 step (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014). Used to expand a 64-bit seed into generator state.
DIFFUSER_HD inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256** 1.0 (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
/// ACM TOMS 2021), state seeded by four SplitMix64 outputs of the seed. Deterministic for a seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }

  /// Next 64 random bits.
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform integer in [0, bound) without modulo bias (Lemire, "Fast random integer generation
  /// in an interval", ACM TOMACS 2019). bound must be > 0.
  std::uint64_t uniform_below(std::uint64_t bound) {
    Uint128 m = static_cast<Uint128>(next_u64()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<Uint128>(next_u64()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Standard normal by Box-Muller (two uniforms per draw; the second value is discarded so
  /// the stream position depends only on the number of calls).
  double normal();

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

/// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3",
/// SC 2011): a counter-based generator. The four output words depend only on the 128-bit
/// counter and the 64-bit key, so any element of a stream can be drawn independently, in any
/// order, on any thread or device.
struct Philox4x32 {
  std::uint32_t v[4];
};

DIFFUSER_HD inline Philox4x32 philox4x32(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                         std::uint32_t c3, std::uint64_t key) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  auto k0 = static_cast<std::uint32_t>(key);
  auto k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * c2;
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

/// A uniform float in [0, 1) for element `index` of stream `stream` under `seed`: the first
/// Philox word of counter (index lo, index hi, stream lo, stream hi), top 24 bits scaled.
/// This is the draw used for dropout masks on every backend.
DIFFUSER_HD inline float counter_uniform(std::uint64_t seed, std::uint64_t stream,
                                         std::uint64_t index) {
  const Philox4x32 r = philox4x32(
      static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32),
      static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32), seed);
  return static_cast<float>(r.v[0] >> 8) * 0x1.0p-24f;
}

}  // namespace diffuser
