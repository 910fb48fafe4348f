// Why: the attention block composes the Linear kernels with the attention core's forward and
// backward; the core does the validation of lengths, finiteness and saved state.
#include "nn/AttentionBlock.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <string_view>

#include "attention/SparseAttention.hpp"
#include "core/Error.hpp"
#include "nn/Residual.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

// "<name>" of the block from its q projection's "<name>.q.weight", for error messages.
template <typename T>
std::string block_name(const AttentionBlock& block, const ParameterStore<T>& store) {
  const std::string& w = store.tensor(block.q.weight).name;
  constexpr std::string_view kSuffix = ".q.weight";
  return w.ends_with(kSuffix) ? w.substr(0, w.size() - kSuffix.size()) : w;
}

Diffusion block_diffusion(const ModelConfig& config) {
  return config.variant == AttentionVariant::kDiffuser ? config.diffusion : Diffusion::plain();
}

}  // namespace

template <typename T>
AttentionBlock::AttentionBlock(ParameterStore<T>& store, const std::string& name,
                               const ModelConfig& config)
    : dim(config.dim),
      heads(static_cast<int>(config.heads)),
      variant(config.variant),
      diffusion(block_diffusion(config)),
      learn_theta(config.learn_theta),
      attention_dropout(config.attention_dropout),
      memory(config.memory) {
  DIFFUSER_CHECK(config.heads >= 1 && config.dim % config.heads == 0,
                 "attention block '{}': dim {} is not a multiple of heads {}", name, config.dim,
                 config.heads);
  DIFFUSER_CHECK(!learn_theta || variant == AttentionVariant::kDiffuser,
                 "attention block '{}': learnable theta needs the diffuser variant", name);
  q = Linear(store, name + ".q", dim, dim);
  k = Linear(store, name + ".k", dim, dim);
  v = Linear(store, name + ".v", dim, dim);
  out = Linear(store, name + ".out", dim, dim);
  if (learn_theta) {
    theta = store.add(name + ".theta", {static_cast<std::int64_t>(diffusion.theta().size())},
                      ParamKind::kNorm);
  }
}

template <typename T>
void attention_block_init(const AttentionBlock& block, ParameterStore<T>& store, Rng& rng,
                          double stddev) {
  linear_init(block.q, store, rng, stddev);
  linear_init(block.k, store, rng, stddev);
  linear_init(block.v, store, rng, stddev);
  linear_init(block.out, store, rng, stddev);
  if (block.learn_theta) {
    const auto values = store.value(block.theta);
    const auto& theta = block.diffusion.theta();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(theta[i]);
  }
}

template <typename T>
Diffusion attention_block_diffusion(const AttentionBlock& block, const ParameterStore<T>& store) {
  if (!block.learn_theta) return block.diffusion;
  const auto values = store.value(block.theta);
  std::vector<double> theta(values.begin(), values.end());
  for (std::size_t i = 0; i < theta.size(); ++i) {
    DIFFUSER_CHECK(std::isfinite(theta[i]), "parameter '{}': theta[{}] is {}",
                   store.tensor(block.theta).name, i, theta[i]);
  }
  return Diffusion::from_coefficients(std::move(theta));
}

template <typename T>
void attention_block_forward(const AttentionBlock& block, const ParameterStore<T>& store,
                             const AttentionCall& call, std::span<const T> x, std::span<T> y,
                             AttentionBlockSaved<T>& saved) {
  const std::string& name = store.tensor(block.q.weight).name;
  DIFFUSER_CHECK(call.batch >= 1 && call.n >= 1,
                 "attention block '{}': need batch >= 1 and n >= 1, got {} and {}", name,
                 call.batch, call.n);
  const std::int64_t rows = call.batch * call.n, d = block.dim;
  const auto shape = fmt::format("[batch={}, n={}, dim={}]", call.batch, call.n, d);
  check_size(name, "x", x.size(), rows * d, shape);
  check_size(name, "y", y.size(), rows * d, shape);
  if (block.variant != AttentionVariant::kFull) {
    DIFFUSER_CHECK(call.plan != nullptr,
                   "attention block '{}': the {} variant needs a pattern plan", name,
                   to_string(block.variant));
  }
  if (call.plan != nullptr) {
    DIFFUSER_CHECK(call.plan->n() == call.n,
                   "attention block '{}': plan is for length {}, the batch has length {}", name,
                   call.plan->n(), call.n);
  }

  saved.batch = call.batch;
  saved.n = call.n;
  saved.lengths.assign(call.lengths.begin(), call.lengths.end());
  saved.plan = call.plan;
  for (auto* buf : {&saved.q, &saved.k, &saved.v, &saved.z}) {
    buf->resize(static_cast<std::size_t>(rows * d));
  }
  linear_forward(block.q, store, x, std::span<T>(saved.q), rows);
  linear_forward(block.k, store, x, std::span<T>(saved.k), rows);
  linear_forward(block.v, store, x, std::span<T>(saved.v), rows);

  attention::AttentionOptions options;
  options.heads = block.heads;
  options.diffusion = attention_block_diffusion(block, store);
  options.dropout = call.training ? block.attention_dropout : 0.0;
  options.seed = call.seed;
  options.stream = call.stream;
  options.memory = block.memory;
  const attention::AttentionInputs<T> inputs{saved.q, saved.k, saved.v, call.batch, saved.lengths};
  // Errors of the core (e.g. a NaN in q after a diverged step) are prefixed with the block's
  // name, so they say which layer failed.
  try {
    if (block.variant == AttentionVariant::kFull) {
      saved.sparse = {};
      const graph::CsrGraph* pattern = call.plan != nullptr ? &call.plan->pattern() : nullptr;
      attention::dense_attention_forward<T>(call.n, pattern, options, inputs, std::span<T>(saved.z),
                                            &saved.dense);
    } else {
      saved.dense = {};
      attention::sparse_attention_forward<T>(*call.plan, options, inputs, std::span<T>(saved.z),
                                             &saved.sparse);
    }
  } catch (const Error& e) {
    fail("{}: {}", block_name(block, store), e.what());
  }
  linear_forward(block.out, store, std::span<const T>(saved.z), y, rows);
}

template <typename T>
void attention_block_backward(const AttentionBlock& block, ParameterStore<T>& store,
                              std::span<const T> x, std::span<const T> dy, std::span<T> dx,
                              const AttentionBlockSaved<T>& saved, std::vector<T>& scratch) {
  const std::string& name = store.tensor(block.q.weight).name;
  const std::int64_t rows = saved.batch * saved.n, d = block.dim;
  DIFFUSER_CHECK(rows >= 1 && saved.q.size() == static_cast<std::size_t>(rows * d),
                 "attention block '{}': backward without a matching forward", name);
  const auto shape = fmt::format("[batch={}, n={}, dim={}]", saved.batch, saved.n, d);
  check_size(name, "x", x.size(), rows * d, shape);
  check_size(name, "dy", dy.size(), rows * d, shape);
  check_size(name, "dx", dx.size(), rows * d, shape);

  const auto numel = static_cast<std::size_t>(rows * d);
  scratch.resize(4 * numel);
  const std::span<T> all(scratch);
  const std::span<T> dz = all.subspan(0, numel), dq = all.subspan(numel, numel),
                     dk = all.subspan(2 * numel, numel), dv = all.subspan(3 * numel, numel);

  linear_backward(block.out, store, std::span<const T>(saved.z), dy, dz, rows);

  std::vector<double> dtheta(block.learn_theta ? block.diffusion.theta().size() : 0, 0.0);
  const attention::AttentionGradients<T> grads{dq, dk, dv, dtheta};
  const attention::AttentionInputs<T> inputs{saved.q, saved.k, saved.v, saved.batch, saved.lengths};
  try {
    if (block.variant == AttentionVariant::kFull) {
      const graph::CsrGraph* pattern = saved.plan != nullptr ? &saved.plan->pattern() : nullptr;
      attention::dense_attention_backward<T>(saved.n, pattern, inputs, saved.dense,
                                             std::span<const T>(dz), grads);
    } else {
      attention::sparse_attention_backward<T>(*saved.plan, inputs, saved.sparse,
                                              std::span<const T>(dz), grads);
    }
  } catch (const Error& e) {
    fail("{}: {}", block_name(block, store), e.what());
  }
  if (block.learn_theta) {
    const auto g = store.grad(block.theta);
    for (std::size_t i = 0; i < g.size(); ++i) g[i] += static_cast<T>(dtheta[i]);
  }

  // dx = dq W_q + dk W_k + dv W_v; dz is free again and holds each partial product.
  linear_backward(block.q, store, x, std::span<const T>(dq), dx, rows);
  linear_backward(block.k, store, x, std::span<const T>(dk), dz, rows);
  add_into(dx, std::span<const T>(dz));
  linear_backward(block.v, store, x, std::span<const T>(dv), dz, rows);
  add_into(dx, std::span<const T>(dz));
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                                 \
  template AttentionBlock::AttentionBlock(ParameterStore<T>&, const std::string&,                  \
                                          const ModelConfig&);                                     \
  template void attention_block_init<T>(const AttentionBlock&, ParameterStore<T>&, Rng&, double);  \
  template Diffusion attention_block_diffusion<T>(const AttentionBlock&,                           \
                                                  const ParameterStore<T>&);                       \
  template void attention_block_forward<T>(const AttentionBlock&, const ParameterStore<T>&,        \
                                           const AttentionCall&, std::span<const T>, std::span<T>, \
                                           AttentionBlockSaved<T>&);                               \
  template void attention_block_backward<T>(const AttentionBlock&, ParameterStore<T>&,             \
                                            std::span<const T>, std::span<const T>, std::span<T>,  \
                                            const AttentionBlockSaved<T>&, std::vector<T>&);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
