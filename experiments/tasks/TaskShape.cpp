// Why: TaskShape <-> JSON (see TaskShape.hpp).
#include "experiments/tasks/TaskShape.hpp"

#include <string>

#include "core/Error.hpp"

namespace diffuser::experiments {

nlohmann::json TaskShape::to_json() const {
  const char* k = kind == nn::ModelKind::kCausalLm      ? "causal_lm"
                  : kind == nn::ModelKind::kDualEncoder ? "dual_encoder"
                                                        : "classifier";
  return {{"kind", k},          {"vocab", vocab},     {"num_classes", num_classes},
          {"max_len", max_len}, {"has_cls", has_cls}, {"pad_id", pad_id}};
}

TaskShape TaskShape::from_json(const nlohmann::json& j) {
  DIFFUSER_CHECK(j.is_object(), "task shape: expected a JSON object, got {}", j.dump());
  auto field = [&](const char* name) -> const nlohmann::json& {
    DIFFUSER_CHECK(j.contains(name), "task shape: field '{}' missing", name);
    return j.at(name);
  };
  TaskShape s;
  try {
    const auto kind = field("kind").get<std::string>();
    if (kind == "classifier") {
      s.kind = nn::ModelKind::kClassifier;
    } else if (kind == "causal_lm") {
      s.kind = nn::ModelKind::kCausalLm;
    } else if (kind == "dual_encoder") {
      s.kind = nn::ModelKind::kDualEncoder;
    } else {
      fail("task shape: unknown kind '{}'", kind);
    }
    s.vocab = field("vocab").get<std::int64_t>();
    s.num_classes = field("num_classes").get<std::int64_t>();
    s.max_len = field("max_len").get<std::int64_t>();
    s.has_cls = field("has_cls").get<bool>();
    s.pad_id = field("pad_id").get<std::int32_t>();
  } catch (const nlohmann::json::exception& e) {
    fail("task shape: ill-typed field ({})", e.what());
  }
  return s;
}

}  // namespace diffuser::experiments
