// Why: the AdamW update over the flat buffers, tensor by tensor (weight decay is per tensor kind).
#include "nn/AdamW.hpp"

#include <cmath>

#include "core/Error.hpp"
#include "nn/Parallel.hpp"

namespace diffuser::nn {

void AdamWConfig::validate() const {
  DIFFUSER_CHECK(std::isfinite(beta1) && beta1 >= 0 && beta1 < 1,
                 "adamw: beta1 must be in [0, 1), got {}", beta1);
  DIFFUSER_CHECK(std::isfinite(beta2) && beta2 >= 0 && beta2 < 1,
                 "adamw: beta2 must be in [0, 1), got {}", beta2);
  DIFFUSER_CHECK(std::isfinite(eps) && eps > 0, "adamw: eps must be > 0, got {}", eps);
  DIFFUSER_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
                 "adamw: weight_decay must be >= 0, got {}", weight_decay);
}

bool AdamWConfig::decays(ParamKind kind) const {
  switch (kind) {
    case ParamKind::kWeight:
      return true;
    case ParamKind::kBias:
      return decay_biases;
    case ParamKind::kNorm:
      return decay_norms;
    case ParamKind::kEmbedding:
      return decay_embeddings;
  }
  return false;
}

template <typename T>
AdamW<T>::AdamW(const ParameterStore<T>& params, AdamWConfig config)
    : config_(config), m_(params.size(), T(0)), v_(params.size(), T(0)) {
  config_.validate();
}

template <typename T>
void AdamW<T>::set_step_count(std::int64_t t) {
  DIFFUSER_CHECK(t >= 0, "adamw: step count must be >= 0, got {}", t);
  step_ = t;
}

template <typename T>
void AdamW<T>::step(ParameterStore<T>& params, double lr) {
  DIFFUSER_CHECK(params.size() == m_.size(),
                 "adamw: the parameter store has {} values but the optimiser was built for {}",
                 params.size(), m_.size());
  DIFFUSER_CHECK(std::isfinite(lr) && lr >= 0, "adamw: learning rate must be >= 0, got {}", lr);
  step_ += 1;
  const double b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(step_));
  const double c2 = 1.0 - std::pow(b2, static_cast<double>(step_));
  T* p = params.values().data();
  const T* g = params.grads().data();
  T* m = m_.data();
  T* v = v_.data();
  const auto& tensors = params.tensors();
  const auto count = static_cast<std::int64_t>(tensors.size());
#pragma omp parallel if (static_cast <std::int64_t>(params.size()) >= kMinParallelWork)
  for (std::int64_t k = 0; k < count; ++k) {
    const TensorInfo& info = tensors[k];
    const double shrink = config_.decays(info.kind) ? 1.0 - lr * config_.weight_decay : 1.0;
    const auto begin = static_cast<std::int64_t>(info.offset);
    const auto end = begin + static_cast<std::int64_t>(info.size);
#pragma omp for schedule(static) nowait
    for (std::int64_t i = begin; i < end; ++i) {
      const double gi = static_cast<double>(g[i]);
      const double mi = b1 * static_cast<double>(m[i]) + (1.0 - b1) * gi;
      const double vi = b2 * static_cast<double>(v[i]) + (1.0 - b2) * gi * gi;
      m[i] = static_cast<T>(mi);
      v[i] = static_cast<T>(vi);
      const double update = (mi / c1) / (std::sqrt(vi / c2) + eps);
      p[i] = static_cast<T>(static_cast<double>(p[i]) * shrink - lr * update);
    }
  }
}

template class AdamW<float>;
template class AdamW<double>;

}  // namespace diffuser::nn
