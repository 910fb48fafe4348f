// Why: dropout must give the same mask for a given seed whatever the thread count, on CPU and
// GPU, and its backward must not need a stored mask. Each element's keep decision is a pure
// function of (seed, stream, index) through core/Rng.hpp's counter_uniform (Philox4x32-10).
#pragma once

#include <cstdint>
#include <span>

namespace diffuser::nn {

/// One application of dropout (Srivastava et al., JMLR 2014, inverted form).
///
/// Element i of the tensor (flat row-major index, plus `index_base`) is kept iff
///   counter_uniform(seed, stream, index_base + i) >= p
/// and kept elements are scaled by 1 / (1 - p); dropped elements become 0. p = 0 is the identity.
/// `stream` separates call sites and steps: use dropout_stream(step, site) so every (training
/// step, place in the model) draws an independent mask and a resumed run draws the same ones.
struct Dropout {
  float p = 0.0f;
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  std::uint64_t index_base = 0;
};

/// stream = step * 2^20 + site. `site` (< 2^20) numbers the dropout call sites of a model
/// (e.g. layer * 16 + slot); `step` (< 2^44) is the optimiser step. Throws diffuser::Error when
/// either is out of range.
std::uint64_t dropout_stream(std::uint64_t step, std::uint64_t site);

/// True when element `index` (flat, before adding index_base) is kept.
bool dropout_keep(const Dropout& d, std::uint64_t index);

/// y = x * keep / (1 - p) element-wise. x and y have the same size (y may alias x).
/// Throws diffuser::Error unless 0 <= p < 1.
template <typename T>
void dropout_forward(const Dropout& d, std::span<const T> x, std::span<T> y);

/// dx = dy * keep / (1 - p) with the same mask as the forward (recomputed, not stored).
/// dx may alias dy.
template <typename T>
void dropout_backward(const Dropout& d, std::span<const T> dy, std::span<T> dx);

}  // namespace diffuser::nn
