// Why: token graphs for Python: CsrGraph with zero-copy read-only numpy views of its arrays,
// the pattern builders behind the same spec strings as the CLI, graph file I/O, and the
// statistics of `diffuser graph stats`. Long calls release the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include "Arrays.hpp"
#include "Bindings.hpp"
#include "graph/BoostInterop.hpp"
#include "graph/CsrGraph.hpp"
#include "graph/GraphExport.hpp"
#include "graph/GraphOps.hpp"
#include "graph/MatrixMarket.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::python {

namespace {

using graph::CsrGraph;
using graph::Index;

template <typename T>
nb::object view(nb::handle self, std::span<const T> s) {
  const std::size_t shape[1] = {s.size()};
  // A 0-length span may have a null data pointer; numpy needs a valid one.
  static const T kEmpty{};
  const T* data = s.empty() ? &kEmpty : s.data();
  return nb::cast(nb::ndarray<nb::numpy, const T, nb::ndim<1>>(data, 1, shape, self));
}

std::vector<float> value_vector(nb::handle obj, std::int64_t nnz) {
  if (obj.is_none()) return {};
  const nb::ndarray<> a = cpu_array(obj, "values");
  if (a.ndim() != 1 || static_cast<std::int64_t>(a.shape(0)) != nnz) {
    throw nb::value_error(
        fmt::format("values must have shape [nnz] = [{}], got {}", nnz, shape_string(a)).c_str());
  }
  if (has_dtype<float>(a)) {
    const auto e = elements<float>(a);
    return {e.begin(), e.end()};
  }
  if (has_dtype<double>(a)) {
    const auto e = elements<double>(a);
    return {e.begin(), e.end()};
  }
  throw nb::type_error(
      fmt::format("values must be float32 or float64, got {}", dtype_name(a.dtype())).c_str());
}

nb::dict degree_dict(const graph::DegreeStats& s) {
  nb::dict d;
  d["min"] = s.min;
  d["mean"] = s.mean;
  d["max"] = s.max;
  d["median"] = s.median;
  d["stddev"] = s.stddev;
  d["zeros"] = s.zeros;
  return d;
}

graph::HopOptions hop_options(Index max_hops, Index exact_limit, double exact_work, Index samples,
                              std::uint64_t seed) {
  graph::HopOptions h;
  h.max_hops = max_hops;
  h.exact_max_nodes = exact_limit;
  h.exact_max_work = exact_work;
  h.sample_sources = samples;
  h.seed = seed;
  if (max_hops < 1) throw nb::value_error("max_hops must be >= 1");
  if (samples < 1) throw nb::value_error("samples must be >= 1");
  return h;
}

nb::dict diameter_dict(const graph::DiameterResult& d) {
  nb::dict j;
  j["value"] = d.exact ? nb::cast(d.value) : nb::none();
  j["lower"] = d.lower;
  j["upper"] = d.upper >= 0 ? nb::cast(d.upper) : nb::none();
  j["exact"] = d.exact;
  j["strongly_connected"] = d.strongly_connected;
  j["method"] = d.method;
  return j;
}

nb::dict receptive_dict(const graph::ReceptiveField& rf) {
  nb::dict j;
  std::vector<Index> ks;
  for (std::size_t k = 1; k <= rf.fraction.size(); ++k) ks.push_back(static_cast<Index>(k));
  j["k"] = ks;
  j["fraction"] = rf.fraction;
  j["mean_keys"] = rf.mean_keys;
  j["exact"] = rf.exact;
  j["sources"] = rf.sources;
  return j;
}

}  // namespace

void bind_graph(nb::module_& m) {
  nb::class_<CsrGraph>(m, "CsrGraph",
                       "Square n x n CSR token graph: row i = query i, its columns = the keys j "
                       "it attends to (sorted, no duplicates); int32 indices, optional float32 "
                       "edge values. Invariants I1-I6 are checked on construction.")
      .def(
          "__init__",
          [](CsrGraph* self, Index n, nb::handle indptr, nb::handle indices, nb::handle values) {
            std::vector<Index> offsets = index_vector(indptr, "indptr");
            std::vector<Index> columns = index_vector(indices, "indices");
            std::vector<float> vals =
                value_vector(values, static_cast<std::int64_t>(columns.size()));
            new (self) CsrGraph(n, std::move(offsets), std::move(columns), std::move(vals));
          },
          nb::arg("n"), nb::arg("indptr"), nb::arg("indices"), nb::arg("values") = nb::none(),
          "Copies indptr [n+1] and indices [nnz] (int32, or int64 within int32 range) and values "
          "[nnz] (float32/float64) and validates them; DiffuserError names the violated invariant.")
      .def_static(
          "from_edges",
          [](Index n, nb::handle rows, nb::handle cols, nb::handle values) {
            const std::vector<Index> r = index_vector(rows, "rows");
            const std::vector<Index> c = index_vector(cols, "cols");
            if (r.size() != c.size()) {
              throw nb::value_error(
                  fmt::format("rows has {} entries but cols has {}", r.size(), c.size()).c_str());
            }
            const std::vector<float> v = value_vector(values, static_cast<std::int64_t>(r.size()));
            return CsrGraph::from_edges(n, r, c, v);
          },
          nb::arg("n"), nb::arg("rows"), nb::arg("cols"), nb::arg("values") = nb::none(),
          "Graph from an unsorted edge list (duplicates merge, their values add).")
      .def_prop_ro("n", &CsrGraph::n)
      .def_prop_ro("nnz", &CsrGraph::nnz)
      .def_prop_ro("has_values", &CsrGraph::has_values)
      .def_prop_ro(
          "indptr", [](nb::handle self) { return view(self, nb::cast<CsrGraph&>(self).offsets()); },
          "Row offsets [n+1], int32: a read-only view (no copy) that keeps the graph alive.")
      .def_prop_ro(
          "indices",
          [](nb::handle self) { return view(self, nb::cast<CsrGraph&>(self).columns()); },
          "Column (key) indices [nnz], int32: a read-only view (no copy).")
      .def_prop_ro(
          "values",
          [](nb::handle self) -> nb::object {
            const CsrGraph& g = nb::cast<CsrGraph&>(self);
            if (!g.has_values()) return nb::none();
            return view(self, g.values());
          },
          "Edge values [nnz], float32 (read-only view), or None for a pattern.")
      .def("degree", &CsrGraph::degree, nb::arg("i"))
      .def("has_edge", &CsrGraph::has_edge, nb::arg("i"), nb::arg("j"))
      .def("validate", &CsrGraph::validate, "Checks invariants I1-I6 (DiffuserError otherwise).")
      .def("pattern", &CsrGraph::pattern, "The same graph without values.")
      .def("__eq__", [](const CsrGraph& a, const CsrGraph& b) { return a == b; })
      .def("__repr__", [](const CsrGraph& g) {
        return fmt::format("CsrGraph(n={}, nnz={}{})", g.n(), g.nnz(),
                           g.has_values() ? ", values" : "");
      });

  m.def(
      "build_pattern",
      [](const std::string& spec, Index n) {
        if (n < 1) throw nb::value_error(fmt::format("n = {} must be >= 1", n).c_str());
        const graph::PatternSpec s = graph::parse_pattern_spec(spec);
        graph::validate_spec(s);
        nb::gil_scoped_release release;
        return graph::build_pattern(n, s);
      },
      nb::arg("spec"), nb::arg("n"));
  m.def(
      "canonical_spec",
      [](const std::string& spec) {
        const graph::PatternSpec s = graph::parse_pattern_spec(spec);
        graph::validate_spec(s);
        return graph::format_pattern_spec(s);
      },
      nb::arg("spec"));
  m.def("preset_names", &graph::preset_names);

  m.def(
      "read_graph",
      [](const std::string& path) {
        nb::gil_scoped_release release;
        return graph::read_graph(path);
      },
      nb::arg("path"));
  m.def(
      "write_graph",
      [](const std::string& path, const CsrGraph& g, bool force) {
        nb::gil_scoped_release release;
        graph::write_graph(path, g, force);
      },
      nb::arg("path"), nb::arg("graph"), nb::arg("force") = false);
  m.def(
      "parse_matrix_market",
      [](const std::string& text, const std::string& name) {
        return graph::parse_matrix_market(text, name);
      },
      nb::arg("text"), nb::arg("name") = "<string>");

  m.def("degree_stats", [](const CsrGraph& g) { return degree_dict(graph::degree_stats(g)); });
  m.def("in_degree_stats",
        [](const CsrGraph& g) { return degree_dict(graph::in_degree_stats(g)); });
  m.def("count_self_loops", &graph::count_self_loops);
  m.def("is_symmetric", &graph::is_symmetric);
  m.def("symmetrize", &graph::symmetrize);
  m.def("restrict_causal", &graph::restrict_causal);
  m.def("crop", &graph::crop, nb::arg("graph"), nb::arg("length"));
  m.def("graph_union", &graph::graph_union);
  m.def(
      "transpose",
      [](const CsrGraph& g) {
        graph::Transposed t = graph::transpose(g);
        const std::size_t nnz = t.perm.size();
        return nb::make_tuple(std::move(t.graph), owned_array(std::move(t.perm), {nnz}));
      },
      "(transposed graph, perm): edge t of the transpose is edge perm[t] of the input.");
  m.def(
      "bfs_hops",
      [](const CsrGraph& g, Index source) {
        if (source < 0 || source >= g.n()) {
          throw nb::value_error(fmt::format("source {} is outside [0, {})", source, g.n()).c_str());
        }
        std::vector<Index> d = graph::bfs_hops(g, source);
        const std::size_t n = d.size();
        return owned_array(std::move(d), {n});
      },
      nb::arg("graph"), nb::arg("source"));
  m.def("connected_components", [](const CsrGraph& g) {
    graph::Components c = graph::connected_components(g);
    nb::dict d;
    d["count"] = c.count;
    d["largest"] = c.largest;
    const std::size_t n = c.label.size(), k = c.sizes.size();
    d["label"] = owned_array(std::move(c.label), {n});
    d["sizes"] = owned_array(std::move(c.sizes), {k});
    return d;
  });
  m.def("strong_component_count", &graph::strong_component_count);
  m.def(
      "hop_analysis",
      [](const CsrGraph& g, Index max_hops, Index exact_limit, double exact_work, Index samples,
         std::uint64_t seed) {
        const graph::HopOptions h = hop_options(max_hops, exact_limit, exact_work, samples, seed);
        graph::HopAnalysis a;
        {
          nb::gil_scoped_release release;
          a = graph::hop_analysis(g, h);
        }
        nb::dict d;
        d["diameter"] = diameter_dict(a.diameter);
        d["receptive_field"] = receptive_dict(a.receptive_field);
        return d;
      },
      nb::arg("graph"), nb::arg("max_hops") = 5, nb::arg("exact_limit") = 20000,
      nb::arg("exact_work") = 2e10, nb::arg("samples") = 256, nb::arg("seed") = 0);
}

}  // namespace diffuser::python
