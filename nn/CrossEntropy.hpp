// Why: the training loss for classification and language modelling. Softmax and log are fused
// into a numerically stable log-softmax (max subtracted, log-sum-exp in double), with an
// optional label smoothing and an ignore label for padding.
#pragma once

#include <cstdint>
#include <span>

namespace diffuser::nn {

/// Label value meaning "no target here" (e.g. padding in language modelling): the row adds
/// nothing to the loss, the count or the gradient.
inline constexpr std::int32_t kIgnoreLabel = -1;

/// Result of cross_entropy_forward over a batch.
struct CrossEntropyResult {
  double loss = 0;           ///< mean over counted rows of -sum_c q_c log p_c (0 when count = 0)
  double loss_sum = 0;       ///< the same sum before dividing by count
  std::int64_t count = 0;    ///< rows whose label is not kIgnoreLabel
  std::int64_t correct = 0;  ///< counted rows whose argmax (first maximum) equals the label
};

/// Stable log-softmax of one row: out_c = z_c - m - log sum_c' exp(z_c' - m), m = max_c z_c,
/// the sum accumulated in double. in, out: [classes] (out may alias in). Throws diffuser::Error
/// on an empty row or a non-finite logit.
template <typename T>
void log_softmax(std::span<const T> in, std::span<T> out);

/// Softmax cross-entropy with label smoothing eps in [0, 1): the target distribution is
/// q_c = (1 - eps) [c = y] + eps / C (PyTorch's convention), loss_r = -sum_c q_c log p_c.
/// logits: [rows, classes]; labels: [rows] in [0, classes) or kIgnoreLabel.
/// Throws diffuser::Error naming the row for a bad label or a non-finite logit.
template <typename T>
CrossEntropyResult cross_entropy_forward(std::span<const T> logits,
                                         std::span<const std::int32_t> labels, std::int64_t rows,
                                         std::int64_t classes, double label_smoothing = 0.0);

/// Gradient of the mean loss: dlogits[r, c] = (p_c - q_c) / count for counted rows, 0 for
/// ignored rows (overwritten). `count` is the number of non-ignored labels, recomputed here.
template <typename T>
void cross_entropy_backward(std::span<const T> logits, std::span<const std::int32_t> labels,
                            std::int64_t rows, std::int64_t classes, double label_smoothing,
                            std::span<T> dlogits);

/// Both at once, for a training step: returns cross_entropy_forward(...) and writes
/// cross_entropy_backward(...) into dlogits.
template <typename T>
CrossEntropyResult cross_entropy_forward_backward(std::span<const T> logits,
                                                  std::span<const std::int32_t> labels,
                                                  std::int64_t rows, std::int64_t classes,
                                                  double label_smoothing, std::span<T> dlogits);

}  // namespace diffuser::nn
