// Why: the CLI and the Python package print the spectral summary through spectrum_json and take
// solver knobs through make_solver_options; these pin the keys, the values behind them and the
// refusals in both spellings.
#include <cmath>
#include <string>
#include <vector>

#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/ExpanderMetrics.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SolverOptions.hpp"
#include "spectral/SpectrumJson.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;

TEST_CASE("spectrum_json: documented keys in order, values of the spectrum, nulls for absent",
          "[cpu][spectral]") {
  const auto g = testing::petersen();  // 3-regular: mu2 = 1/3, mu_min = -2/3
  const NormalizedAdjacency m(g);
  const GraphSpectrum s = graph_spectrum(g, m, SolverOptions{});
  const ExpanderMetrics e = expander_metrics(s, m, 1e-3);
  const auto j = spectrum_json(s, e);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  const std::vector<std::string> expected = {"n",
                                             "nnz",
                                             "nnz_symmetric",
                                             "pattern_symmetric",
                                             "isolated_nodes",
                                             "components",
                                             "bipartite",
                                             "lambda2",
                                             "lambda_max",
                                             "gap",
                                             "mu2",
                                             "mu_min",
                                             "mu_star",
                                             "mu2_walk",
                                             "mu2_walk_complex",
                                             "epsilon_complete",
                                             "cheeger_lower",
                                             "cheeger_upper",
                                             "sweep_conductance",
                                             "sweep_set_size",
                                             "sweep_cut_edges",
                                             "regular_degree",
                                             "ramanujan_ratio",
                                             "mixing_tolerance",
                                             "mixing_hops",
                                             "residuals",
                                             "method",
                                             "converged",
                                             "matvecs",
                                             "notes"};
  CHECK(keys == expected);
  CHECK(j["n"] == 10);
  CHECK(j["mu2"].get<double>() == Approx(1.0 / 3.0).margin(1e-9));
  CHECK(j["mu_min"].get<double>() == Approx(-2.0 / 3.0).margin(1e-9));
  CHECK(j["regular_degree"] == 3);
  CHECK(j["converged"]["lambda2"] == true);
  CHECK(j["mu2_walk_complex"].size() == 2);

  const auto d = diffused_json(diffused_spectrum(s, Diffusion::ppr(0.1, 3)));
  CHECK(d["coefficients"].size() == 4);
  CHECK(d["exact"].is_boolean());
  CHECK(d["f_mu2"].get<double>() == Approx(Diffusion::ppr(0.1, 3).map(1.0 / 3.0)).margin(1e-9));
}

TEST_CASE("make_solver_options: fields filled, bad values named in the caller's spelling",
          "[cpu][spectral]") {
  const auto o = make_solver_options(1e-8, 500, 1000, "dense", false, 7, OptionSpelling::kKeywords);
  CHECK(o.tol == 1e-8);
  CHECK(o.max_matvecs == 500);
  CHECK(o.dense_max_n == 1000);
  CHECK(o.dense_max_n_general == 256);
  CHECK(o.path == SolverPath::kDense);
  CHECK_FALSE(o.shift_invert);
  CHECK(o.seed == 7);
  auto bad = [](double tol, std::int64_t mv, graph::Index dm, const char* method,
                OptionSpelling sp) { make_solver_options(tol, mv, dm, method, true, 1, sp); };
  CHECK_THROWS_WITH(bad(1e-8, 5, 5, "magic", OptionSpelling::kCliFlags),
                    "--method must be auto, dense or iterative (got 'magic')");
  CHECK_THROWS_WITH(bad(1e-8, 5, 5, "magic", OptionSpelling::kKeywords),
                    "method must be auto, dense or iterative (got 'magic')");
  CHECK_THROWS_WITH(bad(2.0, 5, 5, "auto", OptionSpelling::kCliFlags),
                    "--tol must be in (0, 1) (got 2)");
  CHECK_THROWS_WITH(bad(std::nan(""), 5, 5, "auto", OptionSpelling::kKeywords),
                    Catch::Contains("tol must be in (0, 1)"));
  CHECK_THROWS_WITH(bad(1e-8, 0, 5, "auto", OptionSpelling::kKeywords),
                    "max_matvecs must be >= 1 (got 0)");
  CHECK_THROWS_WITH(bad(1e-8, 5, -1, "auto", OptionSpelling::kCliFlags),
                    "--dense-max must be >= 0 (got -1)");
}
