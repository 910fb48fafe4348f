// Why: the CLI and the Python package take the same solver knobs; one function checks them and
// fills SolverOptions, so both refuse the same values (see SolverOptions.hpp).
#include "spectral/SolverOptions.hpp"

#include <algorithm>

#include "core/Error.hpp"

namespace diffuser::spectral {

SolverOptions make_solver_options(double tol, std::int64_t max_matvecs, graph::Index dense_max,
                                  std::string_view method, bool shift_invert, std::uint64_t seed,
                                  OptionSpelling spelling) {
  const bool cli = spelling == OptionSpelling::kCliFlags;
  SolverOptions o;
  o.tol = tol;
  o.max_matvecs = max_matvecs;
  o.dense_max_n = dense_max;
  o.dense_max_n_general = std::min<graph::Index>(dense_max, 256);
  if (method == "auto") {
    o.path = SolverPath::kAuto;
  } else if (method == "dense") {
    o.path = SolverPath::kDense;
  } else if (method == "iterative") {
    o.path = SolverPath::kIterative;
  } else {
    fail("{} must be auto, dense or iterative (got '{}')", cli ? "--method" : "method", method);
  }
  DIFFUSER_CHECK(tol > 0.0 && tol < 1.0, "{} must be in (0, 1) (got {})", cli ? "--tol" : "tol",
                 tol);
  DIFFUSER_CHECK(max_matvecs >= 1, "{} must be >= 1 (got {})",
                 cli ? "--max-matvecs" : "max_matvecs", max_matvecs);
  DIFFUSER_CHECK(dense_max >= 0, "{} must be >= 0 (got {})", cli ? "--dense-max" : "dense_max",
                 dense_max);
  o.shift_invert = shift_invert;
  o.seed = seed;
  return o;
}

}  // namespace diffuser::spectral
