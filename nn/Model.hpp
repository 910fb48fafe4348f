// Why: a whole Diffuser model (or a baseline) with an explicit forward and backward, in the
// spirit of llm.c: it owns its parameters (one flat buffer), its activation buffers and the
// attention plans of the sequence lengths it has seen; the trainer only moves batches in and
// gradients out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "nn/Batch.hpp"
#include "nn/ModelConfig.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// Loss and counts of one forward pass.
struct StepResult {
  double loss = 0.0;         ///< mean cross-entropy over the counted targets (nats)
  std::int64_t correct = 0;  ///< argmax predictions equal to the target
  std::int64_t count = 0;    ///< targets counted (sequences, or LM tokens)
};

/// Embedding -> encoder layers (attention variant per config) -> head, for T = float (training)
/// or double (gradient checks).
template <typename T>
class Model {
 public:
  /// Registers every parameter (values 0 until init()). Throws diffuser::Error for an invalid
  /// config (validate_model_config).
  explicit Model(const ModelConfig& config);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  /// Number of parameter scalars Model(config) registers, computed without allocating them
  /// (a layout-only ParameterStore). Throws diffuser::Error for an invalid config.
  static std::size_t parameter_count(const ModelConfig& config);

  /// Initialises the parameters from `seed` (N(0, 0.02^2) weights, zero biases, unit LN gains).
  void init(std::uint64_t seed);

  const ModelConfig& config() const;
  ParameterStore<T>& params();
  const ParameterStore<T>& params() const;

  /// Forward pass and loss. `training` turns dropout on, with masks drawn from
  /// counter_uniform(seed, stream, index) where the stream is derived from (step, layer, site)
  /// so every step and layer draws a different mask, reproducibly. `label_smoothing` in [0, 1).
  /// Keeps what backward() needs. Throws diffuser::Error for malformed batches (shapes, ids out
  /// of range, lengths outside [1, len], len > max_len).
  StepResult forward(const Batch& batch, bool training, std::uint64_t seed, std::uint64_t step,
                     double label_smoothing = 0.0);

  /// Backward of the last forward(): accumulates dLoss/dparam into params().grads() (the caller
  /// zeroes them between steps).
  void backward();

  /// Logits of the last forward(): [batch, num_classes] or, for the LM, [batch, len, vocab].
  std::span<const T> logits() const;

  /// Bytes of the activation and gradient buffers the model holds now (grows to the largest
  /// batch seen; parameters and attention plans not included).
  std::size_t activation_bytes() const;

  /// Bytes of the cached attention plans (one per sequence length seen; nn/AttentionPlanCache).
  std::size_t plan_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace diffuser::nn
