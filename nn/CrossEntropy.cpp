// Why: cross-entropy kernels. Rows run in parallel; per-row losses are summed afterwards in row
// order, so the loss is the same for any thread count.
#include "nn/CrossEntropy.hpp"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "nn/Parallel.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

void check_args(std::size_t logits, std::size_t labels_size, std::span<const std::int32_t> labels,
                std::int64_t rows, std::int64_t classes, double eps) {
  DIFFUSER_CHECK(rows >= 0 && classes >= 1,
                 "cross_entropy: need rows >= 0 and classes >= 1 (got {}, {})", rows, classes);
  DIFFUSER_CHECK(std::isfinite(eps) && eps >= 0 && eps < 1,
                 "cross_entropy: label smoothing must be in [0, 1), got {}", eps);
  check_size("cross_entropy", "logits", logits, rows * classes,
             fmt::format("[rows={}, classes={}]", rows, classes));
  check_size("cross_entropy", "labels", labels_size, rows, fmt::format("[rows={}]", rows));
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t y = labels[r];
    DIFFUSER_CHECK(y == kIgnoreLabel || (y >= 0 && y < classes),
                   "cross_entropy: label {} of row {} out of range [0, {}) (or {} to ignore)", y, r,
                   classes, kIgnoreLabel);
  }
}

template <typename T>
void check_finite(std::span<const T> logits, std::int64_t classes) {
  for (std::size_t i = 0; i < logits.size(); ++i) {
    DIFFUSER_CHECK(std::isfinite(static_cast<double>(logits[i])),
                   "cross_entropy: logit [{}, {}] is {}", static_cast<std::int64_t>(i) / classes,
                   static_cast<std::int64_t>(i) % classes, static_cast<double>(logits[i]));
  }
}

// A row's log-sum-exp pieces: max and log(sum exp(z - max)), in double. Inputs are finite
// (checked before any parallel region: exceptions cannot leave one).
template <typename T>
void row_stats(const T* z, std::int64_t classes, double& max, double& log_sum) {
  max = static_cast<double>(z[0]);
  for (std::int64_t c = 0; c < classes; ++c) {
    const double v = static_cast<double>(z[c]);
    if (v > max) max = v;
  }
  double sum = 0;
  for (std::int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c]) - max);
  log_sum = std::log(sum);
}

}  // namespace

template <typename T>
void log_softmax(std::span<const T> in, std::span<T> out) {
  DIFFUSER_CHECK(!in.empty(), "log_softmax: empty row");
  DIFFUSER_CHECK(in.size() == out.size(), "log_softmax: sizes differ ({} vs {})", in.size(),
                 out.size());
  check_finite(in, static_cast<std::int64_t>(in.size()));
  double max = 0, log_sum = 0;
  row_stats(in.data(), static_cast<std::int64_t>(in.size()), max, log_sum);
  for (std::size_t c = 0; c < in.size(); ++c) {
    out[c] = static_cast<T>(static_cast<double>(in[c]) - max - log_sum);
  }
}

template <typename T>
CrossEntropyResult cross_entropy_forward(std::span<const T> logits,
                                         std::span<const std::int32_t> labels, std::int64_t rows,
                                         std::int64_t classes, double label_smoothing) {
  check_args(logits.size(), labels.size(), labels, rows, classes, label_smoothing);
  const double eps = label_smoothing;
  std::vector<double> row_loss(static_cast<std::size_t>(rows), 0.0);
  std::vector<unsigned char> row_correct(static_cast<std::size_t>(rows), 0);
  check_finite(logits, classes);
#pragma omp parallel for schedule(static) if (rows * classes >= kMinParallelWork)
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t y = labels[r];
    if (y == kIgnoreLabel) continue;
    const T* z = logits.data() + r * classes;
    double max = static_cast<double>(z[0]);
    std::int64_t argmax = 0;
    double sum_z = 0;
    for (std::int64_t c = 0; c < classes; ++c) {
      const double v = static_cast<double>(z[c]);
      if (v > max) {
        max = v;
        argmax = c;
      }
      sum_z += v;
    }
    double sum = 0;
    for (std::int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c]) - max);
    const double lse = max + std::log(sum);
    // -sum_c q_c log p_c = (1 - eps)(lse - z_y) + (eps / C) sum_c (lse - z_c)
    const double nll = lse - static_cast<double>(z[y]);
    const double smooth = lse - sum_z / static_cast<double>(classes);
    row_loss[r] = (1 - eps) * nll + eps * smooth;
    row_correct[r] = argmax == y ? 1 : 0;
  }
  CrossEntropyResult result;
  for (std::int64_t r = 0; r < rows; ++r) {
    if (labels[r] == kIgnoreLabel) continue;
    result.loss_sum += row_loss[r];
    result.count += 1;
    result.correct += row_correct[r];
  }
  result.loss = result.count > 0 ? result.loss_sum / static_cast<double>(result.count) : 0.0;
  return result;
}

template <typename T>
void cross_entropy_backward(std::span<const T> logits, std::span<const std::int32_t> labels,
                            std::int64_t rows, std::int64_t classes, double label_smoothing,
                            std::span<T> dlogits) {
  check_args(logits.size(), labels.size(), labels, rows, classes, label_smoothing);
  check_size("cross_entropy", "dlogits", dlogits.size(), rows * classes,
             fmt::format("[rows={}, classes={}]", rows, classes));
  check_finite(logits, classes);
  std::int64_t count = 0;
  for (std::int64_t r = 0; r < rows; ++r) count += labels[r] != kIgnoreLabel ? 1 : 0;
  const double eps = label_smoothing;
  const double inv_count = count > 0 ? 1.0 / static_cast<double>(count) : 0.0;
  const double off = eps / static_cast<double>(classes);
#pragma omp parallel for schedule(static) if (rows * classes >= kMinParallelWork)
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t y = labels[r];
    const T* z = logits.data() + r * classes;
    T* dz = dlogits.data() + r * classes;
    if (y == kIgnoreLabel) {
      for (std::int64_t c = 0; c < classes; ++c) dz[c] = T(0);
      continue;
    }
    double max = 0, log_sum = 0;
    row_stats(z, classes, max, log_sum);
    for (std::int64_t c = 0; c < classes; ++c) {
      const double p = std::exp(static_cast<double>(z[c]) - max - log_sum);
      const double q = (c == y ? 1 - eps : 0.0) + off;
      dz[c] = static_cast<T>((p - q) * inv_count);
    }
  }
}

template <typename T>
CrossEntropyResult cross_entropy_forward_backward(std::span<const T> logits,
                                                  std::span<const std::int32_t> labels,
                                                  std::int64_t rows, std::int64_t classes,
                                                  double label_smoothing, std::span<T> dlogits) {
  const CrossEntropyResult result =
      cross_entropy_forward(logits, labels, rows, classes, label_smoothing);
  cross_entropy_backward(logits, labels, rows, classes, label_smoothing, dlogits);
  return result;
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                            \
  template void log_softmax<T>(std::span<const T>, std::span<T>);                             \
  template CrossEntropyResult cross_entropy_forward<T>(                                       \
      std::span<const T>, std::span<const std::int32_t>, std::int64_t, std::int64_t, double); \
  template void cross_entropy_backward<T>(std::span<const T>, std::span<const std::int32_t>,  \
                                          std::int64_t, std::int64_t, double, std::span<T>);  \
  template CrossEntropyResult cross_entropy_forward_backward<T>(                              \
      std::span<const T>, std::span<const std::int32_t>, std::int64_t, std::int64_t, double,  \
      std::span<T>);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
