// Why: the spectral analysis for Python — gap, lambda2, |mu2| of the walk, Cheeger bounds, sweep
// cuts, diffusion maps and the epsilon-vs-hops curve — returning every eigenvalue with its
// residual, convergence status and method (nothing hidden), with the GIL released while the
// solvers run. The keys of analyze() are those of `diffuser spectral FILE`.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/complex.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "Arrays.hpp"
#include "Bindings.hpp"
#include "JsonToPython.hpp"
#include "analysis/HopEpsilon.hpp"
#include "analysis/HopSuggestion.hpp"
#include "analysis/HopSuggestionJson.hpp"
#include "core/Diffusion.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/ExpanderMetrics.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SpectrumJson.hpp"
#include "spectral/SweepCut.hpp"

namespace diffuser::python {

namespace {

using graph::CsrGraph;
using graph::Index;

spectral::SolverOptions solver_options(double tol, std::int64_t max_matvecs, Index dense_max,
                                       const std::string& method, bool shift_invert,
                                       std::uint64_t seed) {
  return spectral::make_solver_options(tol, max_matvecs, dense_max, method, shift_invert, seed,
                                       spectral::OptionSpelling::kKeywords);
}

nb::dict diffused_dict(const spectral::DiffusedSpectrum& d) {
  return nb::cast<nb::dict>(to_python(spectral::diffused_json(d)));
}

nb::dict sweep_dict(const spectral::SweepCut& s) {
  nb::dict j;
  std::vector<Index> set = s.set;
  const std::size_t size = set.size();
  j["set"] = owned_array(std::move(set), {size});
  j["cut"] = s.cut;
  j["volume"] = s.volume;
  j["total_volume"] = s.total_volume;
  j["conductance"] = s.conductance;
  return j;
}

/// The summary of `diffuser spectral FILE` (without file, timings and the "about" texts).
nb::dict summary_dict(const spectral::GraphSpectrum& s, const spectral::ExpanderMetrics& e) {
  nb::dict j = nb::cast<nb::dict>(to_python(spectral::spectrum_json(s, e)));
  if (e.sweep) j["sweep"] = sweep_dict(*e.sweep);
  return j;
}

}  // namespace

void bind_spectral(nb::module_& m) {
  nb::class_<spectral::EigenResult>(m, "EigenResult",
                                    "One eigenvalue with its evidence: residual ||A x - lambda "
                                    "x|| / ||x|| on the matrix named by op, convergence, method.")
      .def_ro("value", &spectral::EigenResult::value)
      .def_ro("imag", &spectral::EigenResult::imag)
      .def_ro("residual", &spectral::EigenResult::residual)
      .def_ro("converged", &spectral::EigenResult::converged)
      .def_prop_ro("method",
                   [](const spectral::EigenResult& r) { return spectral::to_string(r.method); })
      .def_ro("matvecs", &spectral::EigenResult::matvecs)
      .def_ro("iterations", &spectral::EigenResult::iterations)
      .def_ro("op", &spectral::EigenResult::op)
      .def_ro("note", &spectral::EigenResult::note)
      .def_prop_ro("vector",
                   [](const spectral::EigenResult& r) {
                     std::vector<double> v = r.vector;
                     const std::size_t n = v.size();
                     return nb::cast(owned_array(std::move(v), {n}));
                   })
      .def_prop_ro("modulus", &spectral::EigenResult::modulus)
      .def("__repr__", [](const spectral::EigenResult& r) {
        return fmt::format("EigenResult(value={}, residual={:.3g}, converged={}, method={})",
                           r.value, r.residual, r.converged ? "True" : "False",
                           spectral::to_string(r.method));
      });

  nb::class_<spectral::GraphSpectrum>(
      m, "GraphSpectrum",
      "M = D^-1/2 S D^-1/2 of the symmetrised pattern S: mu2 (Fiedler), mu_min; mu2_walk of the "
      "directed walk P = D_out^-1 G; lambda2 = 1 - mu2 of the normalised Laplacian.")
      .def_ro("n", &spectral::GraphSpectrum::n)
      .def_ro("nnz", &spectral::GraphSpectrum::nnz)
      .def_ro("nnz_symmetric", &spectral::GraphSpectrum::nnz_symmetric)
      .def_ro("isolated_nodes", &spectral::GraphSpectrum::isolated_nodes)
      .def_ro("components", &spectral::GraphSpectrum::components)
      .def_ro("bipartite", &spectral::GraphSpectrum::bipartite)
      .def_ro("pattern_symmetric", &spectral::GraphSpectrum::pattern_symmetric)
      .def_ro("mu2", &spectral::GraphSpectrum::mu2)
      .def_ro("mu_min", &spectral::GraphSpectrum::mu_min)
      .def_ro("mu2_walk", &spectral::GraphSpectrum::mu2_walk)
      .def_prop_ro("lambda2", &spectral::GraphSpectrum::lambda2)
      .def_prop_ro("lambda_max", &spectral::GraphSpectrum::lambda_max)
      .def_prop_ro("converged", &spectral::GraphSpectrum::converged)
      .def_ro("seconds", &spectral::GraphSpectrum::seconds);

  m.def(
      "spectral_analyze",
      [](const CsrGraph& g, double tol, std::int64_t max_matvecs, Index dense_max,
         const std::string& method, bool shift_invert, std::uint64_t seed, double mixing_tol,
         std::optional<Diffusion> diffusion) {
        const spectral::SolverOptions o =
            solver_options(tol, max_matvecs, dense_max, method, shift_invert, seed);
        if (!(mixing_tol > 0.0 && mixing_tol < 1.0)) {
          throw nb::value_error(
              fmt::format("mixing_tol must be in (0, 1), got {}", mixing_tol).c_str());
        }
        if (g.n() < 2) {
          throw nb::value_error(
              fmt::format("the graph has n = {} nodes; a spectral gap needs n >= 2", g.n())
                  .c_str());
        }
        std::optional<spectral::GraphSpectrum> s;
        std::optional<spectral::ExpanderMetrics> e;
        std::optional<spectral::DiffusedSpectrum> d;
        {
          nb::gil_scoped_release release;
          const spectral::NormalizedAdjacency adj(g);
          s = spectral::graph_spectrum(g, adj, o);
          e = spectral::expander_metrics(*s, adj, mixing_tol);
          if (diffusion) d = spectral::diffused_spectrum(*s, *diffusion);
        }
        nb::dict j = summary_dict(*s, *e);
        if (d) j["diffused"] = diffused_dict(*d);
        return nb::make_tuple(j, *s);
      },
      nb::arg("graph"), nb::arg("tol") = 1e-10, nb::arg("max_matvecs") = 20000,
      nb::arg("dense_max") = 512, nb::arg("method") = "auto", nb::arg("shift_invert") = true,
      nb::arg("seed") = 20221021, nb::arg("mixing_tol") = 1e-3,
      nb::arg("diffusion").none() = nb::none(),
      "(summary dict with the keys of `diffuser spectral FILE`, GraphSpectrum).");
  m.def(
      "diffused_spectrum",
      [](const spectral::GraphSpectrum& s, const Diffusion& d) {
        return diffused_dict(spectral::diffused_spectrum(s, d));
      },
      nb::arg("spectrum"), nb::arg("diffusion"));
  m.def(
      "sweep_cut",
      [](const CsrGraph& g, nb::handle x) {
        const nb::ndarray<> a = cpu_array(x, "x");
        if (!has_dtype<double>(a) || a.ndim() != 1) {
          throw nb::type_error(fmt::format("x must be a 1-D float64 array, got {} {}",
                                           dtype_name(a.dtype()), shape_string(a))
                                   .c_str());
        }
        const spectral::NormalizedAdjacency adj(g);
        return sweep_dict(spectral::fiedler_sweep_cut(adj, elements<double>(a)));
      },
      nb::arg("graph"), nb::arg("x"));
  m.def(
      "set_conductance",
      [](const CsrGraph& g, nb::handle set) {
        const std::vector<Index> s = index_vector(set, "set");
        const spectral::NormalizedAdjacency adj(g);
        return sweep_dict(spectral::set_conductance(adj, s));
      },
      nb::arg("graph"), nb::arg("set"));
  m.def(
      "epsilon_vs_hops",
      [](const spectral::GraphSpectrum& s, double alpha, const std::vector<int>& hops,
         std::optional<std::vector<double>> all_eigenvalues) {
        const std::vector<double> all = all_eigenvalues.value_or(std::vector<double>{});
        nb::list out;
        for (const analysis::HopEpsilon& h : analysis::epsilon_vs_hops(s, all, alpha, hops)) {
          nb::dict j;
          j["diffusion"] = h.diffusion;
          j["epsilon"] = h.epsilon;
          j["exact"] = h.exact;
          j["second_largest"] = h.second_largest;
          j["gap"] = h.gap;
          out.append(j);
        }
        return out;
      },
      nb::arg("spectrum"), nb::arg("alpha"), nb::arg("hops"),
      nb::arg("all_eigenvalues").none() = nb::none(),
      "Approximation epsilon of PPR(alpha, K) vs full attention for each K (docs/spectral.md).");
  m.def(
      "suggest_hops",
      [](const spectral::GraphSpectrum& s, double alpha, std::optional<double> epsilon,
         double rel_tol, int max_hops, std::optional<std::vector<double>> all_eigenvalues) {
        const std::vector<double> all = all_eigenvalues.value_or(std::vector<double>{});
        analysis::HopCriteria c;
        c.alpha = alpha;
        c.target_epsilon = epsilon;
        c.relative_tolerance = rel_tol;
        c.max_hops = max_hops;
        const analysis::HopSuggestion h = analysis::suggest_hops(s, all, c);
        nb::dict j = nb::cast<nb::dict>(to_python(analysis::suggestion_json(h, alpha)));
        j["diffusion"] = Diffusion::ppr(alpha, h.hops);
        j["exact"] = h.exact;
        return j;
      },
      nb::arg("spectrum"), nb::arg("alpha"), nb::arg("epsilon").none(), nb::arg("rel_tol"),
      nb::arg("max_hops"), nb::arg("all_eigenvalues").none() = nb::none(),
      "Hops K of PPR diffusion from the spectral gap (analysis/HopSuggestion.hpp).");
}

}  // namespace diffuser::python
