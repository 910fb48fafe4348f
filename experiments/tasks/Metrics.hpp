// Why: training and evaluation report the same few numbers (mean loss, accuracy, bits per byte)
// over many batches of different sizes; accumulating sums and counts (not per-batch means)
// keeps them exact means over examples whatever the batch and bucket sizes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "nn/Model.hpp"

namespace diffuser::experiments {

/// Sums over batches of nn::StepResult: loss_sum = sum of (mean loss x count), correct, count.
/// A classifier counts sequences, the byte-level LM counts predicted bytes.
struct MetricSums {
  double loss_sum = 0.0;     ///< sum over counted targets of the cross-entropy (nats)
  std::int64_t correct = 0;  ///< argmax predictions equal to the target
  std::int64_t count = 0;    ///< counted targets

  /// Adds one batch: loss_sum += r.loss * r.count, correct += r.correct, count += r.count.
  void add(const nn::StepResult& r);

  /// Mean cross-entropy in nats (0 when count = 0).
  double loss() const;
  /// correct / count (0 when count = 0).
  double accuracy() const;
  /// loss() / ln 2: bits per predicted byte (meaningful for the byte-level LM).
  double bits_per_byte() const;

  /// {"loss", "accuracy", "count"} plus "bits_per_byte" when `language_model`.
  nlohmann::json to_json(bool language_model) const;
};

}  // namespace diffuser::experiments
