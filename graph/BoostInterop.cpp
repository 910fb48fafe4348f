// Why: the Boost.Graph side of diffuser. A CsrGraph is copied into Boost's own
// compressed_sparse_row_graph (rows are already sorted, so the copy is one linear pass); BFS,
// Tarjan's strong components and disjoint sets then run on it. All-source BFS is parallel over
// sources with per-thread buffers; per-source results are reduced in source order, so every
// number is the same for any thread count.
#include "graph/BoostInterop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/pending/disjoint_sets.hpp>
#include <boost/property_map/property_map.hpp>
#include <cmath>
#include <iterator>
#include <utility>

#include "core/Error.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::graph {

namespace {

using BoostCsr =
    boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, boost::no_property,
                                       boost::no_property, std::uint32_t, std::uint32_t>;

/// Input iterator over the (row, column) pairs of a CsrGraph in CSR order, so Boost can build
/// its graph without an intermediate edge array.
class EdgePairIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = std::pair<std::uint32_t, std::uint32_t>;
  using difference_type = std::ptrdiff_t;
  using pointer = const value_type*;
  using reference = const value_type&;

  EdgePairIterator(const CsrGraph& g, std::int64_t edge) : g_(&g), edge_(edge) { settle(); }
  reference operator*() const { return pair_; }
  pointer operator->() const { return &pair_; }
  EdgePairIterator& operator++() {
    ++edge_;
    settle();
    return *this;
  }
  bool operator!=(const EdgePairIterator& o) const { return edge_ != o.edge_; }
  bool operator==(const EdgePairIterator& o) const { return edge_ == o.edge_; }

 private:
  void settle() {
    if (edge_ >= g_->nnz()) return;
    while (g_->offsets()[row_ + 1] <= edge_) ++row_;
    pair_ = {static_cast<std::uint32_t>(row_), static_cast<std::uint32_t>(g_->columns()[edge_])};
  }
  const CsrGraph* g_;
  std::int64_t edge_;
  Index row_ = 0;
  value_type pair_{0, 0};
};

BoostCsr to_boost(const CsrGraph& g) {
  return BoostCsr(boost::edges_are_sorted, EdgePairIterator(g, 0), EdgePairIterator(g, g.nnz()),
                  static_cast<std::uint32_t>(g.n()), static_cast<std::uint32_t>(g.nnz()));
}

/// Per-thread BFS buffers.
struct BfsScratch {
  std::vector<Index> dist;
  std::vector<boost::default_color_type> color;
  explicit BfsScratch(Index n)
      : dist(static_cast<std::size_t>(n)), color(static_cast<std::size_t>(n)) {}
};

/// Boost BFS from s; afterwards sc.dist holds hop distances (-1 = unreachable).
void bfs(const BoostCsr& bg, Index s, BfsScratch& sc) {
  std::fill(sc.dist.begin(), sc.dist.end(), -1);
  sc.dist[s] = 0;
  const auto index = boost::get(boost::vertex_index, bg);
  auto dist_map = boost::make_iterator_property_map(sc.dist.begin(), index);
  auto color_map = boost::make_iterator_property_map(sc.color.begin(), index);
  boost::breadth_first_search(bg, static_cast<std::uint32_t>(s),
                              boost::visitor(boost::make_bfs_visitor(boost::record_distances(
                                                 dist_map, boost::on_tree_edge())))
                                  .color_map(color_map));
}

/// Eccentricity (largest finite distance), number of reached nodes, and farthest node
/// (smallest index among those at the largest distance) of the last BFS.
struct Sweep {
  Index ecc = 0;
  Index reached = 0;
  Index farthest = 0;
};

Sweep summarize(const std::vector<Index>& dist) {
  Sweep s;
  for (std::size_t j = 0; j < dist.size(); ++j) {
    if (dist[j] < 0) continue;
    ++s.reached;
    if (dist[j] > s.ecc) {
      s.ecc = dist[j];
      s.farthest = static_cast<Index>(j);
    }
  }
  return s;
}

Sweep sweep_from(const BoostCsr& bg, Index n, Index s) {
  BfsScratch sc(n);
  bfs(bg, s, sc);
  return summarize(sc.dist);
}

}  // namespace

std::vector<Index> bfs_hops(const CsrGraph& g, Index source) {
  DIFFUSER_CHECK(source >= 0 && source < g.n(), "bfs_hops: source {} outside [0, {})", source,
                 g.n());
  const BoostCsr bg = to_boost(g);
  BfsScratch sc(g.n());
  bfs(bg, source, sc);
  return std::move(sc.dist);
}

Components connected_components(const CsrGraph& g) {
  const Index n = g.n();
  Components c;
  std::vector<Index> rank(static_cast<std::size_t>(n)), parent(static_cast<std::size_t>(n));
  const boost::typed_identity_property_map<Index> id;
  auto rank_map = boost::make_iterator_property_map(rank.begin(), id);
  auto parent_map = boost::make_iterator_property_map(parent.begin(), id);
  boost::disjoint_sets<decltype(rank_map), decltype(parent_map)> sets(rank_map, parent_map);
  for (Index i = 0; i < n; ++i) sets.make_set(i);
  for (Index i = 0; i < n; ++i) {
    for (const Index j : g.row(i)) sets.union_set(i, j);
  }
  c.label.assign(static_cast<std::size_t>(n), -1);
  std::vector<Index> root_label(static_cast<std::size_t>(n), -1);
  for (Index i = 0; i < n; ++i) {
    const Index root = sets.find_set(i);
    if (root_label[root] < 0) {
      root_label[root] = c.count++;
      c.sizes.push_back(0);
    }
    c.label[i] = root_label[root];
    ++c.sizes[c.label[i]];
  }
  c.largest = c.sizes.empty() ? 0 : *std::max_element(c.sizes.begin(), c.sizes.end());
  return c;
}

Index strong_component_count(const CsrGraph& g) {
  if (g.n() == 0) return 0;
  const BoostCsr bg = to_boost(g);
  std::vector<std::uint32_t> comp(static_cast<std::size_t>(g.n()));
  return static_cast<Index>(boost::strong_components(
      bg, boost::make_iterator_property_map(comp.begin(), boost::get(boost::vertex_index, bg))));
}

HopAnalysis hop_analysis(const CsrGraph& g, const HopOptions& options) {
  DIFFUSER_CHECK(options.max_hops >= 1, "hop analysis: max_hops = {} must be >= 1",
                 options.max_hops);
  DIFFUSER_CHECK(options.sample_sources >= 1, "hop analysis: sample_sources = {} must be >= 1",
                 options.sample_sources);
  DIFFUSER_CHECK(options.exact_max_nodes >= 0, "hop analysis: exact_max_nodes = {} is negative",
                 options.exact_max_nodes);
  const Index n = g.n();
  const Index kmax = options.max_hops;
  HopAnalysis out;
  auto& dia = out.diameter;
  auto& rf = out.receptive_field;
  if (n == 0) {
    dia.value = dia.lower = dia.upper = 0;
    dia.exact = dia.strongly_connected = true;
    dia.method = "empty graph";
    rf.fraction.assign(static_cast<std::size_t>(kmax), 0.0);
    rf.mean_keys = rf.fraction;
    rf.exact = true;
    return out;
  }
  const double bfs_work = static_cast<double>(n) + static_cast<double>(g.nnz());
  const bool exact =
      n <= options.exact_max_nodes && static_cast<double>(n) * bfs_work <= options.exact_max_work;
  std::vector<Index> sources;
  if (exact) {
    sources.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) sources[i] = i;
  } else {
    const double affordable = std::max(8.0, std::floor(options.sample_max_work / bfs_work));
    const Index s = static_cast<Index>(std::min<double>(
        {static_cast<double>(options.sample_sources), static_cast<double>(n), affordable}));
    for (const auto v : floyd_sample(options.seed, n, s)) sources.push_back(static_cast<Index>(v));
  }
  const auto count = static_cast<std::int64_t>(sources.size());
  const BoostCsr bg = to_boost(g);
  // Per-source results, reduced in source order afterwards (thread-count independent).
  std::vector<Sweep> sweeps(static_cast<std::size_t>(count));
  std::vector<std::int64_t> within(static_cast<std::size_t>(count * kmax), 0);
#pragma omp parallel if (count * (g.nnz() + n) > 100000)
  {
    BfsScratch sc(n);
    std::vector<std::int64_t> hist(static_cast<std::size_t>(kmax) + 1);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t s = 0; s < count; ++s) {
      bfs(bg, sources[s], sc);
      sweeps[s] = summarize(sc.dist);
      std::fill(hist.begin(), hist.end(), 0);
      for (const Index d : sc.dist) {
        if (d >= 0 && d <= kmax) ++hist[d];
      }
      std::int64_t run = hist[0];
      for (Index k = 1; k <= kmax; ++k) {
        run += hist[k];
        within[s * kmax + (k - 1)] = run;
      }
    }
  }
  rf.exact = exact;
  rf.sources = static_cast<Index>(count);
  rf.fraction.assign(static_cast<std::size_t>(kmax), 0.0);
  rf.mean_keys.assign(static_cast<std::size_t>(kmax), 0.0);
  for (Index k = 0; k < kmax; ++k) {
    long double total = 0;
    for (std::int64_t s = 0; s < count; ++s)
      total += static_cast<long double>(within[s * kmax + k]);
    rf.mean_keys[k] = static_cast<double>(total / count);
    rf.fraction[k] = static_cast<double>(total / count / n);
  }
  Index max_ecc = 0;
  bool all_reached = true;
  for (const Sweep& s : sweeps) {
    max_ecc = std::max(max_ecc, s.ecc);
    all_reached = all_reached && s.reached == n;
  }
  if (exact) {
    dia.value = dia.lower = dia.upper = max_ecc;
    dia.exact = true;
    dia.strongly_connected = all_reached;
    dia.method = fmt::format("exact: all-source BFS ({} sources)", n);
    return out;
  }
  // Bounds. Hub h = node of largest in + out degree (smallest index on ties).
  const Transposed t = transpose(g);
  const BoostCsr bt = to_boost(t.graph);
  Index hub = 0;
  std::int64_t best = -1;
  for (Index i = 0; i < n; ++i) {
    const std::int64_t d = static_cast<std::int64_t>(g.degree(i)) + t.graph.degree(i);
    if (d > best) {
      best = d;
      hub = i;
    }
  }
  // Double sweeps from node 0, node n - 1 and the hub: BFS, then BFS from the farthest node.
  dia.lower = max_ecc;
  Sweep from_hub;
  for (const Index start : {Index{0}, static_cast<Index>(n - 1), hub}) {
    const Sweep a = sweep_from(bg, n, start);
    const Sweep b = sweep_from(bg, n, a.farthest);
    dia.lower = std::max({dia.lower, a.ecc, b.ecc});
    if (start == hub) from_hub = a;
  }
  const Sweep back = sweep_from(bt, n, hub);
  dia.strongly_connected = from_hub.reached == n && back.reached == n;
  std::string upper_text = "no upper bound (the graph is not strongly connected)";
  if (dia.strongly_connected) {
    dia.upper = from_hub.ecc + back.ecc;
    upper_text = fmt::format("upper = ecc_out + ecc_in of hub node {} = {} + {}", hub, from_hub.ecc,
                             back.ecc);
  }
  dia.exact = dia.upper == dia.lower;
  dia.value = dia.exact ? dia.lower : -1;
  dia.method = fmt::format(
      "{}bounds (n = {}, nnz = {}: beyond the exact limits of {} nodes and {:g} BFS steps): "
      "lower from double sweeps (from node 0, node n-1 and the hub) and {} sampled sources; {}",
      dia.exact ? "exact, bounds meet: " : "", n, g.nnz(), options.exact_max_nodes,
      options.exact_max_work, count, upper_text);
  return out;
}

DiameterResult diameter(const CsrGraph& g, const HopOptions& options) {
  return hop_analysis(g, options).diameter;
}

ReceptiveField receptive_field(const CsrGraph& g, const HopOptions& options) {
  return hop_analysis(g, options).receptive_field;
}

}  // namespace diffuser::graph
