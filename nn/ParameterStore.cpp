// Why: the out-of-line part of the parameter store (kind names used in messages and checkpoints).
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

std::string_view to_string(ParamKind kind) {
  switch (kind) {
    case ParamKind::kWeight:
      return "weight";
    case ParamKind::kBias:
      return "bias";
    case ParamKind::kNorm:
      return "norm";
    case ParamKind::kEmbedding:
      return "embedding";
  }
  return "unknown";
}

}  // namespace diffuser::nn
