// Why: the transformer's position-wise feed-forward block, Linear -> activation -> Linear, with
// the intermediate activations kept in caller-owned buffers for the backward pass.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/Rng.hpp"
#include "nn/Activation.hpp"
#include "nn/Linear.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// y = fc2(f(fc1(x))) with fc1: dim -> hidden, fc2: hidden -> dim and f = GELU by default.
/// Registers "<name>.fc1.*" and "<name>.fc2.*". Dropout, if any, is applied by the caller.
struct Mlp {
  std::int64_t dim = 0;
  std::int64_t hidden = 0;
  Activation activation = Activation::kGelu;
  Linear fc1;
  Linear fc2;

  Mlp() = default;
  template <typename T>
  Mlp(ParameterStore<T>& store, const std::string& name, std::int64_t dim, std::int64_t hidden,
      Activation activation = Activation::kGelu);
};

/// Both Linears initialised with linear_init(stddev), fc1 first.
template <typename T>
void mlp_init(const Mlp& layer, ParameterStore<T>& store, Rng& rng, double stddev = 0.02);

/// x: [rows, dim]; pre = fc1(x) and act = f(pre): [rows, hidden] (written, kept for backward);
/// y: [rows, dim] (overwritten).
template <typename T>
void mlp_forward(const Mlp& layer, const ParameterStore<T>& store, std::span<const T> x,
                 std::span<T> pre, std::span<T> act, std::span<T> y, std::int64_t rows);

/// Given dy [rows, dim]: d_act = dy W2, d_pre = d_act * f'(pre), dx = d_pre W1 (overwritten;
/// empty span skips it); parameter gradients accumulated. `scratch` [rows, hidden] holds
/// d_act / d_pre.
template <typename T>
void mlp_backward(const Mlp& layer, ParameterStore<T>& store, std::span<const T> x,
                  std::span<const T> pre, std::span<const T> act, std::span<const T> dy,
                  std::span<T> scratch, std::span<T> dx, std::int64_t rows);

}  // namespace diffuser::nn
