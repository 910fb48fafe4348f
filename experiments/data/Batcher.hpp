// Why: attention patterns are built per sequence length, and padding every batch to the longest
// sequence of the dataset wastes most of the work on variable-length tasks (ListOps, text).
// The batcher groups examples into length buckets (each padded to its own length, rounded up to
// a granularity), so only a few lengths -- and so a few patterns -- ever occur, and it draws the
// order of each epoch from (seed, epoch) alone, so a resumed run sees exactly the same batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"
#include "nn/Batch.hpp"

namespace diffuser::experiments {

/// How a Batcher cuts a dataset into batches.
struct BatcherOptions {
  std::int64_t batch_size = 16;  ///< most sequences per batch (>= 1)
  /// Bucket lengths are multiples of this (>= 1), except that none exceeds max_len.
  std::int64_t granularity = 32;
  /// Sequences longer than this keep their first max_len tokens (>= 1).
  std::int64_t max_len = 512;
  /// Training order: shuffle per epoch (seeded). Off: dataset order inside each bucket, buckets
  /// by increasing length (evaluation).
  bool shuffle = true;
  std::uint64_t seed = 0;  ///< seed of the shuffles (epoch e uses a stream derived from it)
};

/// One planned batch: the examples (dataset indices) and the padded length they share.
struct BatchPlan {
  std::int64_t len = 0;
  std::vector<std::size_t> indices;
};

/// Where a Batcher stands in its stream of training batches (what a checkpoint saves).
struct BatcherPosition {
  std::uint64_t epoch = 0;  ///< epochs completed
  std::uint64_t index = 0;  ///< batches of the current epoch already handed out
};

/// Length-bucketed batching of a classification dataset.
///
/// Bucket length of example i: L(i) = min(ceil(min(len_i, max_len) / g) * g, max_len), with
/// g = granularity. Examples of one bucket are padded (pad_id) to L; valid lengths are
/// min(len_i, max_len); labels are the dataset labels ([batch]).
///
/// Epoch plan (shuffle on): a Fisher-Yates shuffle of all indices with Rng(mix(seed, epoch));
/// a stable partition into buckets (so each bucket keeps the shuffled order); each bucket cut
/// into consecutive batches of batch_size (the last may be smaller); then the list of batches
/// shuffled with the same generator. Shuffle off: indices in dataset order, buckets by
/// increasing length. The plan depends only on (dataset, options, epoch): never on threads,
/// time or earlier calls.
class Batcher {
 public:
  /// Keeps a reference to `data` (which must outlive the batcher). Throws diffuser::Error
  /// naming the option if batch_size, granularity or max_len < 1, or if `data` is empty.
  Batcher(const SequenceDataset& data, const BatcherOptions& options);

  /// The batches of epoch `epoch`, in the order they are handed out.
  std::vector<BatchPlan> epoch_plan(std::uint64_t epoch) const;

  /// Number of batches per epoch (the same for every epoch).
  std::size_t batches_per_epoch() const { return batches_per_epoch_; }

  /// The padded batch of a plan: tokens [B, len] (pad_id beyond each valid length),
  /// lengths [B], labels [B].
  nn::Batch make_batch(const BatchPlan& plan) const;

  /// The next training batch; advances the position (wrapping into the next epoch).
  nn::Batch next();

  BatcherPosition position() const { return position_; }

  /// Moves to a saved position. Throws diffuser::Error if index >= batches_per_epoch().
  void seek(const BatcherPosition& position);

  /// The bucket length L(i) of a sequence of `length` tokens (formula above).
  std::int64_t bucket_length(std::size_t length) const;

  const BatcherOptions& options() const { return options_; }

 private:
  const SequenceDataset* data_;
  BatcherOptions options_;
  std::size_t batches_per_epoch_ = 0;
  BatcherPosition position_;
  std::vector<BatchPlan> current_;  // plan of position_.epoch (built lazily)
  bool current_valid_ = false;
};

}  // namespace diffuser::experiments
