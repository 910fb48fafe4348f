// Why: a checkpoint must say what data its model was built for, so `eval`, `viz` and `--resume`
// can refuse data of another shape before a single forward pass. The shape is what a task fixes
// about the model (kind, vocabulary, classes, longest sequence) and travels as JSON in the
// checkpoint's meta "task".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "nn/ModelConfig.hpp"

namespace diffuser::experiments {

/// What a task fixes about the model: its kind, vocabulary, classes and longest sequence.
struct TaskShape {
  nn::ModelKind kind = nn::ModelKind::kClassifier;
  std::int64_t vocab = 0;        ///< token ids in [0, vocab), including a CLS token if any
  std::int64_t num_classes = 0;  ///< classes (LM: = vocab)
  /// Longest model input: task.max_len, plus 1 when a CLS token is prepended.
  std::int64_t max_len = 0;
  bool has_cls = false;     ///< a CLS token (id vocab - 1) is prepended to every sequence
  std::int32_t pad_id = 0;  ///< id written into padded positions

  /// {"kind": classifier|causal_lm|dual_encoder, "vocab", "num_classes", "max_len", "has_cls",
  /// "pad_id"}.
  nlohmann::json to_json() const;
  /// Inverse of to_json; diffuser::Error names a missing or ill-typed field.
  static TaskShape from_json(const nlohmann::json& j);
  friend bool operator==(const TaskShape&, const TaskShape&) = default;
};

}  // namespace diffuser::experiments
