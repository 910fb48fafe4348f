// Why: classifiers walk their training set epoch by epoch in length buckets, the byte-level LM
// draws random windows per step; the trainer should not care which. A BatchStream hands out the
// training batch of step s and says where it stands, so a checkpoint can store the position and
// a resumed run continue the same stream.
#pragma once

#include <cstdint>

#include "experiments/data/Batcher.hpp"
#include "nn/Batch.hpp"

namespace diffuser::experiments {

/// The training batches of one run, a deterministic function of (train.seed, position, step).
class BatchStream {
 public:
  virtual ~BatchStream() = default;

  /// The batch of 1-based optimiser step `step` (tokens and labels [batch, len]).
  virtual nn::Batch next(std::int64_t step) = 0;

  /// Position in the stream (what checkpoint meta "trainer" stores as epoch, batch_in_epoch).
  /// A stream whose batches depend on the step alone stays at {0, 0}.
  virtual BatcherPosition position() const { return {}; }

  /// Continues from `position` (a resumed run); a stream without a position ignores it.
  virtual void seek(const BatcherPosition& position) { static_cast<void>(position); }
};

}  // namespace diffuser::experiments
