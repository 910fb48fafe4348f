// Why: MLP forward/backward composed from the Linear and activation kernels.
#include "nn/Mlp.hpp"

#include <fmt/format.h>

#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

template <typename T>
void check_hidden(const Mlp& layer, const ParameterStore<T>& store, const char* what,
                  std::size_t size, std::int64_t rows) {
  DIFFUSER_CHECK(rows >= 0, "mlp: rows must be >= 0, got {}", rows);
  check_size(store.tensor(layer.fc1.weight).name, what, size, rows * layer.hidden,
             fmt::format("[rows={}, hidden={}]", rows, layer.hidden));
}

}  // namespace

template <typename T>
Mlp::Mlp(ParameterStore<T>& store, const std::string& name, std::int64_t dim_, std::int64_t hidden_,
         Activation activation_)
    : dim(dim_),
      hidden(hidden_),
      activation(activation_),
      fc1(store, name + ".fc1", dim_, hidden_),
      fc2(store, name + ".fc2", hidden_, dim_) {}

template <typename T>
void mlp_init(const Mlp& layer, ParameterStore<T>& store, Rng& rng, double stddev) {
  linear_init(layer.fc1, store, rng, stddev);
  linear_init(layer.fc2, store, rng, stddev);
}

template <typename T>
void mlp_forward(const Mlp& layer, const ParameterStore<T>& store, std::span<const T> x,
                 std::span<T> pre, std::span<T> act, std::span<T> y, std::int64_t rows) {
  check_hidden(layer, store, "pre", pre.size(), rows);
  check_hidden(layer, store, "act", act.size(), rows);
  linear_forward(layer.fc1, store, x, pre, rows);
  activation_forward(layer.activation, std::span<const T>(pre), act);
  linear_forward(layer.fc2, store, std::span<const T>(act), y, rows);
}

template <typename T>
void mlp_backward(const Mlp& layer, ParameterStore<T>& store, std::span<const T> x,
                  std::span<const T> pre, std::span<const T> act, std::span<const T> dy,
                  std::span<T> scratch, std::span<T> dx, std::int64_t rows) {
  check_hidden(layer, store, "pre", pre.size(), rows);
  check_hidden(layer, store, "act", act.size(), rows);
  check_hidden(layer, store, "scratch", scratch.size(), rows);
  linear_backward(layer.fc2, store, act, dy, scratch, rows);
  activation_backward(layer.activation, pre, act, std::span<const T>(scratch), scratch);
  linear_backward(layer.fc1, store, x, std::span<const T>(scratch), dx, rows);
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                          \
  template Mlp::Mlp(ParameterStore<T>&, const std::string&, std::int64_t, std::int64_t,     \
                    Activation);                                                            \
  template void mlp_init<T>(const Mlp&, ParameterStore<T>&, Rng&, double);                  \
  template void mlp_forward<T>(const Mlp&, const ParameterStore<T>&, std::span<const T>,    \
                               std::span<T>, std::span<T>, std::span<T>, std::int64_t);     \
  template void mlp_backward<T>(const Mlp&, ParameterStore<T>&, std::span<const T>,         \
                                std::span<const T>, std::span<const T>, std::span<const T>, \
                                std::span<T>, std::span<T>, std::int64_t);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
