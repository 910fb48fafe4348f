// Why: every classification task caps its splits to task.{train,val,test}_size examples by the
// same seeded subset rule, and image tasks carve their validation set the same way; one set of
// helpers keeps the subsets (and so every run's data) identical whichever task uses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// One of "train", "val", "test"; throws diffuser::Error naming the value otherwise.
void check_split_name(std::string_view split);

/// Seeded permutation of [0, n) (Fisher-Yates on xoshiro256**).
std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed);

/// Seed of the subset of `split` ("train", "val", "test"; any other name, e.g. "carve", is a
/// fourth stream): distinct streams of task.seed.
std::uint64_t split_seed(std::int64_t task_seed, std::string_view split);

/// At most `cap` examples of `d` (cap <= 0: all): a seeded subset, kept in file order.
SequenceDataset capped_subset(const SequenceDataset& d, std::int64_t cap, std::uint64_t seed);

}  // namespace diffuser::experiments
