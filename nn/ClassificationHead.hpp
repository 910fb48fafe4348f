// Why: maps a pooled sequence vector to class logits. With a hidden layer it is RoBERTa's head
// (dense -> tanh -> projection); without, a single projection as in the LRA baselines' last step.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/Rng.hpp"
#include "nn/Linear.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// hidden > 0: logits = out(tanh(dense(x))), dense: dim -> hidden, out: hidden -> classes.
/// hidden = 0: logits = out(x), out: dim -> classes.
/// Registers "<name>.dense.*" (when hidden > 0) and "<name>.out.*". Dropout is the caller's.
struct ClassificationHead {
  std::int64_t dim = 0;
  std::int64_t hidden = 0;
  std::int64_t classes = 0;
  Linear dense;
  Linear out;

  ClassificationHead() = default;
  template <typename T>
  ClassificationHead(ParameterStore<T>& store, const std::string& name, std::int64_t dim,
                     std::int64_t classes, std::int64_t hidden = 0);
};

/// dense (if any) then out, each with linear_init(stddev).
template <typename T>
void classification_head_init(const ClassificationHead& head, ParameterStore<T>& store, Rng& rng,
                              double stddev = 0.02);

/// x: [batch, dim]; hidden_act: [batch, hidden] = tanh(dense(x)) (written; empty when hidden = 0);
/// logits: [batch, classes] (overwritten).
template <typename T>
void classification_head_forward(const ClassificationHead& head, const ParameterStore<T>& store,
                                 std::span<const T> x, std::span<T> hidden_act, std::span<T> logits,
                                 std::int64_t batch);

/// Given dlogits [batch, classes]: parameter gradients accumulated; dx [batch, dim] overwritten.
/// `scratch` [batch, hidden] (empty when hidden = 0) holds d(hidden_act) then d(pre-tanh).
template <typename T>
void classification_head_backward(const ClassificationHead& head, ParameterStore<T>& store,
                                  std::span<const T> x, std::span<const T> hidden_act,
                                  std::span<const T> dlogits, std::span<T> scratch, std::span<T> dx,
                                  std::int64_t batch);

}  // namespace diffuser::nn
