// Why: method names used in JSON reports and error messages.
#include "spectral/EigenResult.hpp"

namespace diffuser::spectral {

const char* to_string(Method m) {
  switch (m) {
    case Method::kDense:
      return "dense";
    case Method::kLanczos:
      return "lanczos";
    case Method::kShiftInvert:
      return "shift-invert";
    case Method::kArnoldi:
      return "arnoldi";
    case Method::kComponents:
      return "components";
    case Method::kBipartite:
      return "bipartite";
    case Method::kSimilarity:
      return "similarity";
    case Method::kTrivial:
      return "trivial";
  }
  return "unknown";
}

}  // namespace diffuser::spectral
