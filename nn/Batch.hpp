// Why: the unit of work the trainer hands the model: a padded batch of token sequences with
// their valid lengths and targets. All sequences of a batch share one length (a bucket), so
// they share one attention pattern.
#pragma once

#include <cstdint>
#include <vector>

namespace diffuser::nn {

/// A batch of `batch` sequences padded to `len` tokens.
struct Batch {
  std::int64_t batch = 0;
  std::int64_t len = 0;
  std::vector<std::int32_t> tokens;   ///< [batch, len]; positions >= lengths[b] hold the pad id
  std::vector<std::int32_t> lengths;  ///< [batch], each in [1, len]
  /// Classifier / dual encoder: [batch] class ids. Causal LM: [batch, len] next-token ids,
  /// -1 where no loss is taken (padding).
  std::vector<std::int32_t> labels;
  /// Dual encoder only: the second sequence of each pair ([batch, len] and [batch]).
  std::vector<std::int32_t> tokens2;
  std::vector<std::int32_t> lengths2;
};

}  // namespace diffuser::nn
