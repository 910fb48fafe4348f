// Why: a NaN or Inf in training must stop (or skip) the step with a message that says where it
// came from -- the step, the tensor, its layer -- not just "loss is nan". These scans find the
// first non-finite value in gradients, parameters or logits and name it (docs/reliability.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "nn/ParameterStore.hpp"

namespace diffuser::experiments {

/// The layer a parameter tensor belongs to, from its name: "layers.3.attn.q.weight" ->
/// "layer 3", other names -> their first component ("embed", "head", "final_ln").
std::string layer_of(const std::string& tensor);

/// "non-finite gradient (NaN) in tensor 'X' (layer L), element i" for the first tensor of
/// `store` whose gradient holds a NaN or Inf; nullopt when every gradient is finite.
std::optional<std::string> first_nonfinite_gradient(const nn::ParameterStore<float>& store);

/// "parameter tensor 'X' (layer L) holds Inf at element i" for the first parameter tensor of
/// `store` whose values are not all finite; nullopt when all are finite.
std::optional<std::string> first_nonfinite_parameter(const nn::ParameterStore<float>& store);

/// "logit [r, c] is inf" for the first non-finite entry of `logits` ([rows, classes]
/// row-major, or [batch, len, vocab] for the LM, reported as a flat row), nullopt when all are
/// finite.
std::optional<std::string> first_nonfinite_logit(std::span<const float> logits,
                                                 std::int64_t classes);

}  // namespace diffuser::experiments
