// Why: LRA's ListOps data is made by a random tree generator (Tay et al. 2021, following
// Nangia and Bowman 2018). Users without the official files, and tests at CPU-sized lengths,
// need the same distribution with any length bounds, seeded and fast enough to make LRA-sized
// sets (lengths 500..2000) at thousands of examples per second.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/Rng.hpp"
#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// Most examples one generate() call may be asked for (a guard against a mistyped count).
inline constexpr std::size_t kMaxListOpsExamples = std::size_t{1} << 31;

/// Parameters of the ListOps tree distribution (defaults: LRA's `basic` task).
///
/// A node at depth d (the root has depth 1) is a digit 0..9 (uniform) with probability
/// leaf_probability, and always when d == max_depth; otherwise it is one of the 4 operators
/// (uniform) applied to a uniform number of arguments in [2, max_args], each a node at depth
/// d + 1. A tree's length is its token count (operators, digits and closing brackets, no
/// parentheses); trees are kept only when min_length < length < max_length (strict, as in LRA).
struct ListOpsOptions {
  std::int64_t min_length = 500;   ///< exclusive lower bound on the token count
  std::int64_t max_length = 2000;  ///< exclusive upper bound on the token count
  std::int32_t max_depth = 10;     ///< depth at which nodes are forced to be digits (>= 1)
  std::int32_t max_args = 10;      ///< most arguments of an operator (>= 2)
  double leaf_probability = 0.75;  ///< probability that a node above max_depth is a digit
  std::uint64_t seed = 0;          ///< seed of the tree stream
  /// Give up (diffuser::Error) when this many nodes have been drawn since the last new example:
  /// the bounds are (nearly) unreachable or fewer distinct trees exist than requested. At LRA's
  /// bounds an accepted tree costs about 1300 nodes; 10^8 nodes take 1 to 2 seconds.
  std::int64_t max_stall_nodes = 100'000'000;
};

/// Draws distinct ListOps trees in token form (see ListOps.hpp) with their labels.
/// Deterministic: the same options give the same sequence of examples on every machine.
/// Distinctness is decided by a 128-bit hash of the token sequence (two 64-bit hashes): a false
/// "duplicate" among n trees has probability about n^2 / 2^129 for a well-mixing hash, below
/// 10^-28 at LRA's 10^5.
class ListOpsGenerator {
 public:
  /// Validates the options; throws diffuser::Error if a bound or parameter is invalid or if no
  /// tree of the allowed shape has a length strictly between the bounds.
  explicit ListOpsGenerator(const ListOpsOptions& options);

  /// Draws trees until `count` new distinct ones (distinct from each other and from all earlier
  /// calls on this generator) with lengths within the bounds are found. Labels are computed by
  /// evaluate_listops. Returns a dataset with vocab 16, 10 classes, pad 0. At most
  /// kMaxListOpsExamples per call.
  SequenceDataset generate(std::size_t count);

  /// Trees drawn so far (accepted or not) and nodes drawn so far, for diagnostics.
  std::int64_t trees_drawn() const { return trees_drawn_; }
  std::int64_t nodes_drawn() const { return nodes_drawn_; }

 private:
  struct Key {
    std::uint64_t lo, hi;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return static_cast<std::size_t>(k.lo); }
  };

  bool draw(std::vector<std::int32_t>& tokens);

  ListOpsOptions options_;
  Rng rng_;
  std::int64_t trees_drawn_ = 0;
  std::int64_t nodes_drawn_ = 0;
  std::unordered_set<Key, KeyHash> seen_;
};

/// Sizes of the three LRA splits.
struct ListOpsSplitSizes {
  std::size_t train = 96000;
  std::size_t val = 2000;
  std::size_t test = 2000;
};

/// Generates train + val + test distinct trees with one generator (no tree appears in two
/// splits; the first `train` go to train, the next `val` to val, the rest to test), then writes
/// `basic_train.tsv`, `basic_val.tsv`, `basic_test.tsv` in LRA's format into `out_dir`
/// (created if missing), each atomically. Returns the three datasets in that order.
std::vector<SequenceDataset> write_listops_splits(const std::string& out_dir,
                                                  const ListOpsOptions& options,
                                                  const ListOpsSplitSizes& sizes);

}  // namespace diffuser::experiments
