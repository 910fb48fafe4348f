// Why: first non-finite value of gradients, parameters, logits (see NonFiniteScan.hpp).
#include "experiments/training/NonFiniteScan.hpp"

#include <fmt/format.h>

#include <cmath>

namespace diffuser::experiments {

std::string layer_of(const std::string& tensor) {
  const std::string prefix = "layers.";
  if (tensor.rfind(prefix, 0) == 0) {
    const auto end = tensor.find('.', prefix.size());
    return "layer " + tensor.substr(prefix.size(), end - prefix.size());
  }
  return tensor.substr(0, tensor.find('.'));
}

std::optional<std::string> first_nonfinite_gradient(const nn::ParameterStore<float>& store) {
  const auto grads = store.grads();
  for (const auto& t : store.tensors()) {
    for (std::size_t i = 0; i < t.size; ++i) {
      const float g = grads[t.offset + i];
      if (!std::isfinite(g)) {
        return fmt::format("non-finite gradient ({}) in tensor '{}' ({}), element {}",
                           std::isnan(g) ? "NaN" : "Inf", t.name, layer_of(t.name), i);
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> first_nonfinite_parameter(const nn::ParameterStore<float>& store) {
  const auto values = store.values();
  for (const auto& t : store.tensors()) {
    for (std::size_t i = 0; i < t.size; ++i) {
      const float v = values[t.offset + i];
      if (!std::isfinite(v)) {
        return fmt::format("parameter tensor '{}' ({}) holds {} at element {}", t.name,
                           layer_of(t.name), std::isnan(v) ? "NaN" : "Inf", i);
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> first_nonfinite_logit(std::span<const float> logits,
                                                 std::int64_t classes) {
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!std::isfinite(logits[i])) {
      return fmt::format("logit [{}, {}] is {}", static_cast<std::int64_t>(i) / classes,
                         static_cast<std::int64_t>(i) % classes, logits[i]);
    }
  }
  return std::nullopt;
}

}  // namespace diffuser::experiments
