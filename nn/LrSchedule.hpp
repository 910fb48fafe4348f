// Why: transformers are trained with a linear learning-rate warm-up followed by a decay; the
// schedule is a pure function of the step so a resumed run continues exactly where it stopped.
#pragma once

#include <cstdint>
#include <string_view>

namespace diffuser::nn {

/// How the learning rate falls after the warm-up.
enum class LrDecay { kConstant, kCosine, kLinear, kInverseSqrt };

/// "constant", "cosine", "linear", "inverse_sqrt".
std::string_view to_string(LrDecay d);

/// Parses the names above; throws diffuser::Error naming the value otherwise.
LrDecay parse_lr_decay(std::string_view name);

/// Learning rate of update s (0-based: s = 0 is the first optimiser step), with W = warmup_steps,
/// S = total_steps, peak = peak_lr, min = min_lr:
///   warm-up (s < W):  peak * (s + 1) / W        (reaches peak at s = W - 1, never 0)
///   then, with progress p = clamp((s - W) / max(S - W, 1), 0, 1):
///     constant:      peak
///     cosine:        min + (peak - min) * (1 + cos(pi p)) / 2     (Loshchilov & Hutter, SGDR)
///     linear:        peak - (peak - min) * p
///     inverse_sqrt:  max(min, peak * sqrt(max(W, 1) / (s + 1)))   (Vaswani et al. 2017 shape)
/// Past S, cosine and linear stay at min.
struct LrSchedule {
  double peak_lr = 1e-3;
  double min_lr = 0.0;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  LrDecay decay = LrDecay::kCosine;

  /// Throws diffuser::Error naming the field unless peak_lr > 0, 0 <= min_lr <= peak_lr,
  /// warmup_steps >= 0 and total_steps >= 1.
  void validate() const;
  /// The learning rate for update `step` (>= 0).
  double lr_at(std::int64_t step) const;
};

}  // namespace diffuser::nn
