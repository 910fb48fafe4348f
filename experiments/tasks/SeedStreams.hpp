// Why: a resumed run must draw exactly what an uninterrupted one draws, so nothing random may
// depend on history. Every random draw of a training run comes from one of these independent
// streams of train.seed (and a counter such as the step), shared by the trainer (initialisation,
// dropout) and the tasks (batch order, LM windows).
#pragma once

#include <cstdint>

#include "core/Rng.hpp"

namespace diffuser::experiments {

/// Independent seed streams of train.seed: parameter init, batch order, dropout, LM windows.
enum class SeedStream : std::uint64_t { kInit = 1, kData = 2, kDropout = 3, kLmWindows = 4 };

/// splitmix64(splitmix64(seed ^ stream * phi) ^ index * 0xD1B54A32D192ED03): the seed of draw
/// `index` of `stream` (docs/experiments.md, "Determinism and resume").
inline std::uint64_t derive_seed(std::uint64_t seed, SeedStream stream, std::uint64_t index = 0) {
  std::uint64_t s = seed ^ (static_cast<std::uint64_t>(stream) * 0x9E3779B97F4A7C15ULL);
  std::uint64_t a = splitmix64(s);
  a ^= index * 0xD1B54A32D192ED03ULL;
  return splitmix64(a);
}

}  // namespace diffuser::experiments
