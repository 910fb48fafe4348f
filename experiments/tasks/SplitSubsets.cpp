// Why: seeded split subsets (see SplitSubsets.hpp).
#include "experiments/tasks/SplitSubsets.hpp"

#include <algorithm>
#include <numeric>

#include "core/Error.hpp"
#include "core/Rng.hpp"

namespace diffuser::experiments {

void check_split_name(std::string_view split) {
  DIFFUSER_CHECK(split == "train" || split == "val" || split == "test",
                 "unknown split '{}' (expected train, val or test)", split);
}

std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  Rng rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng.uniform_below(i)]);
  return p;
}

std::uint64_t split_seed(std::int64_t task_seed, std::string_view split) {
  std::uint64_t s = static_cast<std::uint64_t>(task_seed);
  const std::uint64_t tag = split == "train" ? 1 : split == "val" ? 2 : split == "test" ? 3 : 4;
  s ^= tag * 0x9E3779B97F4A7C15ULL;
  return splitmix64(s);
}

SequenceDataset capped_subset(const SequenceDataset& d, std::int64_t cap, std::uint64_t seed) {
  if (cap <= 0 || static_cast<std::size_t>(cap) >= d.size()) return d;
  auto p = seeded_permutation(d.size(), seed);
  p.resize(static_cast<std::size_t>(cap));
  std::sort(p.begin(), p.end());
  return d.subset(p);
}

}  // namespace diffuser::experiments
