// Why: sequence classification reduces [batch, len, dim] token states to one vector per
// sequence, either the first (CLS) token, as in BERT/RoBERTa, or the mean over the valid
// (non-padding) tokens, as in the LRA baselines.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace diffuser::nn {

/// kCls: y[b] = x[b, 0].  kMean: y[b] = (1 / L_b) sum_{t < L_b} x[b, t] with L_b = lengths[b].
enum class Pooling { kCls, kMean };

/// "cls", "mean".
std::string_view to_string(Pooling p);

/// Parses "cls" / "mean"; throws diffuser::Error naming the value otherwise.
Pooling parse_pooling(std::string_view name);

/// x: [batch, len, dim]; lengths: [batch] with 1 <= L_b <= len (empty: every L_b = len);
/// y: [batch, dim] (overwritten). Mean pooling accumulates in double.
template <typename T>
void pooling_forward(Pooling mode, std::span<const T> x, std::span<const std::int32_t> lengths,
                     std::int64_t batch, std::int64_t len, std::int64_t dim, std::span<T> y);

/// dx [batch, len, dim] overwritten: kCls: dx[b, 0] = dy[b], 0 elsewhere; kMean:
/// dx[b, t] = dy[b] / L_b for t < L_b, 0 for padding positions.
template <typename T>
void pooling_backward(Pooling mode, std::span<const T> dy, std::span<const std::int32_t> lengths,
                      std::int64_t batch, std::int64_t len, std::int64_t dim, std::span<T> dx);

}  // namespace diffuser::nn
