// Why: the learning-rate schedule formulas (documented in LrSchedule.hpp and docs/nn.md).
#include "nn/LrSchedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/Error.hpp"

namespace diffuser::nn {

std::string_view to_string(LrDecay d) {
  switch (d) {
    case LrDecay::kConstant:
      return "constant";
    case LrDecay::kCosine:
      return "cosine";
    case LrDecay::kLinear:
      return "linear";
    case LrDecay::kInverseSqrt:
      return "inverse_sqrt";
  }
  return "unknown";
}

LrDecay parse_lr_decay(std::string_view name) {
  if (name == "constant") return LrDecay::kConstant;
  if (name == "cosine") return LrDecay::kCosine;
  if (name == "linear") return LrDecay::kLinear;
  if (name == "inverse_sqrt") return LrDecay::kInverseSqrt;
  fail("unknown learning-rate decay '{}' (expected constant, cosine, linear or inverse_sqrt)",
       name);
}

void LrSchedule::validate() const {
  DIFFUSER_CHECK(std::isfinite(peak_lr) && peak_lr > 0, "lr schedule: peak_lr must be > 0, got {}",
                 peak_lr);
  DIFFUSER_CHECK(std::isfinite(min_lr) && min_lr >= 0 && min_lr <= peak_lr,
                 "lr schedule: min_lr must be in [0, peak_lr = {}], got {}", peak_lr, min_lr);
  DIFFUSER_CHECK(warmup_steps >= 0, "lr schedule: warmup_steps must be >= 0, got {}", warmup_steps);
  DIFFUSER_CHECK(total_steps >= 1, "lr schedule: total_steps must be >= 1, got {}", total_steps);
}

double LrSchedule::lr_at(std::int64_t step) const {
  validate();
  DIFFUSER_CHECK(step >= 0, "lr schedule: step must be >= 0, got {}", step);
  const auto s = static_cast<double>(step);
  const auto W = static_cast<double>(warmup_steps);
  if (step < warmup_steps) return peak_lr * (s + 1.0) / W;
  const double span = std::max(static_cast<double>(total_steps - warmup_steps), 1.0);
  const double p = std::clamp((s - W) / span, 0.0, 1.0);
  switch (decay) {
    case LrDecay::kConstant:
      return peak_lr;
    case LrDecay::kCosine:
      return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
    case LrDecay::kLinear:
      return peak_lr - (peak_lr - min_lr) * p;
    case LrDecay::kInverseSqrt:
      return std::max(min_lr, peak_lr * std::sqrt(std::max(W, 1.0) / (s + 1.0)));
  }
  return peak_lr;
}

}  // namespace diffuser::nn
