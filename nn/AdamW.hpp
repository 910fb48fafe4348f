// Why: the optimiser of every model here: Adam with decoupled weight decay (Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization", ICLR 2019), operating on the ParameterStore's flat
// buffers. Its moments live in two more flat buffers of the same layout, which checkpoints save.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// AdamW hyper-parameters (the learning rate comes from the schedule at each step).
/// Weight decay applies to kWeight tensors always and to biases, LayerNorm parameters and
/// embeddings only when the matching flag is set (default: not, as in BERT/RoBERTa training).
struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
  bool decay_biases = false;
  bool decay_norms = false;
  bool decay_embeddings = false;

  /// Throws diffuser::Error naming the field unless 0 <= beta < 1, eps > 0, weight_decay >= 0.
  void validate() const;
  /// Whether tensors of this kind receive weight decay.
  bool decays(ParamKind kind) const;
};

/// AdamW state and update. With g the gradient, t the step number after increment, lr the
/// learning rate and lambda = weight_decay for decayed tensors (0 otherwise), per element:
///   p <- p - lr * lambda * p                     (decoupled decay, PyTorch's lr-scaled form)
///   m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2
///   p <- p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
/// Computed in double per element and stored as T. Element-wise, so any thread count gives the
/// same result.
template <typename T>
class AdamW {
 public:
  /// Moments start at zero, sized for `params` (whose layout must not change afterwards).
  AdamW(const ParameterStore<T>& params, AdamWConfig config);

  /// One update of params.values() from params.grads() with learning rate lr (>= 0, finite).
  /// Throws diffuser::Error if the store's size differs from the one the optimiser was built for.
  void step(ParameterStore<T>& params, double lr);

  /// Number of updates done (t of the last update).
  std::int64_t step_count() const { return step_; }
  /// Sets the update count (checkpoint restore); must be >= 0.
  void set_step_count(std::int64_t t);

  /// Hyper-parameters and the first / second moment buffers (same layout as the parameters).
  const AdamWConfig& config() const { return config_; }
  std::span<T> m() { return m_; }
  std::span<const T> m() const { return m_; }
  std::span<T> v() { return v_; }
  std::span<const T> v() const { return v_; }

 private:
  AdamWConfig config_;
  std::vector<T> m_;
  std::vector<T> v_;
  std::int64_t step_ = 0;
};

}  // namespace diffuser::nn
