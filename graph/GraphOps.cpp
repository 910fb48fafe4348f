// Why: set operations and statistics on CSR graphs. Each operation is two passes over the rows
// (count, then fill at the prefix-summed offsets), parallel over rows without atomics, so the
// result is the same for any thread count.
#include "graph/GraphOps.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/Error.hpp"

namespace diffuser::graph {

namespace {

/// Below this many rows a loop runs on one thread (thread start-up would dominate).
constexpr Index kParallelRows = 4096;

/// Exclusive prefix sum of per-row counts into CSR offsets, with the int32 edge-limit check.
std::vector<Index> offsets_from_counts(const std::vector<std::int64_t>& counts, const char* what) {
  std::vector<Index> offsets(counts.size() + 1, 0);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    total += counts[i];
    DIFFUSER_CHECK(total <= kMaxIndex, "{}: the result has more than {} edges (int32 limit)", what,
                   kMaxIndex);
    offsets[i + 1] = static_cast<Index>(total);
  }
  return offsets;
}

/// Keeps the edges (i, j) for which keep(i, j) is true; values carried over.
template <typename Keep>
CsrGraph filter_edges(const CsrGraph& g, const char* what, Keep keep) {
  const Index n = g.n();
  const auto off = g.offsets();
  const auto col = g.columns();
  std::vector<std::int64_t> counts(static_cast<std::size_t>(n), 0);
#pragma omp parallel for schedule(dynamic, 256) if (n > kParallelRows)
  for (Index i = 0; i < n; ++i) {
    std::int64_t c = 0;
    for (Index e = off[i]; e < off[i + 1]; ++e) c += keep(i, col[e]) ? 1 : 0;
    counts[i] = c;
  }
  std::vector<Index> offsets = offsets_from_counts(counts, what);
  std::vector<Index> columns(static_cast<std::size_t>(offsets[n]));
  std::vector<float> values(g.has_values() ? columns.size() : 0);
  const auto val = g.values();
#pragma omp parallel for schedule(dynamic, 256) if (n > kParallelRows)
  for (Index i = 0; i < n; ++i) {
    Index w = offsets[i];
    for (Index e = off[i]; e < off[i + 1]; ++e) {
      if (!keep(i, col[e])) continue;
      columns[w] = col[e];
      if (!values.empty()) values[w] = val[e];
      ++w;
    }
  }
  return CsrGraph(n, std::move(offsets), std::move(columns), std::move(values));
}

DegreeStats stats_of(std::vector<Index> degrees) {
  DegreeStats s;
  if (degrees.empty()) return s;
  const auto [mn, mx] = std::minmax_element(degrees.begin(), degrees.end());
  s.min = *mn;
  s.max = *mx;
  long double sum = 0;
  for (const Index d : degrees) {
    sum += d;
    s.zeros += d == 0 ? 1 : 0;
  }
  const auto n = static_cast<long double>(degrees.size());
  s.mean = static_cast<double>(sum / n);
  long double var = 0;
  for (const Index d : degrees) var += (d - sum / n) * (d - sum / n);
  s.stddev = static_cast<double>(std::sqrt(var / n));
  const std::size_t mid = degrees.size() / 2;
  std::nth_element(degrees.begin(), degrees.begin() + static_cast<std::ptrdiff_t>(mid),
                   degrees.end());
  const Index upper = degrees[mid];
  if (degrees.size() % 2 == 1) {
    s.median = upper;
  } else {
    const Index lower =
        *std::max_element(degrees.begin(), degrees.begin() + static_cast<std::ptrdiff_t>(mid));
    s.median = 0.5 * (static_cast<double>(lower) + static_cast<double>(upper));
  }
  return s;
}

}  // namespace

CsrGraph graph_union(const CsrGraph& a, const CsrGraph& b) {
  DIFFUSER_CHECK(a.n() == b.n(), "graph_union: graphs have different sizes (n = {} and n = {})",
                 a.n(), b.n());
  DIFFUSER_CHECK(a.has_values() == b.has_values(),
                 "graph_union: only the {} graph has edge values; the sum would be ambiguous "
                 "(use pattern() on it first)",
                 a.has_values() ? "first" : "second");
  const Index n = a.n();
  const bool weighted = a.has_values();
  std::vector<std::int64_t> counts(static_cast<std::size_t>(n), 0);
#pragma omp parallel for schedule(dynamic, 256) if (n > kParallelRows)
  for (Index i = 0; i < n; ++i) {
    const auto ra = a.row(i);
    const auto rb = b.row(i);
    std::size_t p = 0, q = 0;
    std::int64_t c = 0;
    while (p < ra.size() && q < rb.size()) {
      if (ra[p] < rb[q]) {
        ++p;
      } else if (rb[q] < ra[p]) {
        ++q;
      } else {
        ++p;
        ++q;
      }
      ++c;
    }
    counts[i] = c + static_cast<std::int64_t>(ra.size() - p + rb.size() - q);
  }
  std::vector<Index> offsets = offsets_from_counts(counts, "graph_union");
  std::vector<Index> columns(static_cast<std::size_t>(offsets[n]));
  std::vector<float> values(weighted ? columns.size() : 0);
  const auto va = a.values();
  const auto vb = b.values();
#pragma omp parallel for schedule(dynamic, 256) if (n > kParallelRows)
  for (Index i = 0; i < n; ++i) {
    const auto ra = a.row(i);
    const auto rb = b.row(i);
    const Index ea = a.offsets()[i], eb = b.offsets()[i];
    std::size_t p = 0, q = 0;
    Index w = offsets[i];
    while (p < ra.size() || q < rb.size()) {
      const bool take_a = q == rb.size() || (p < ra.size() && ra[p] <= rb[q]);
      const bool take_b = p == ra.size() || (q < rb.size() && rb[q] <= ra[p]);
      columns[w] = take_a ? ra[p] : rb[q];
      if (weighted) {
        values[w] = (take_a ? va[ea + static_cast<Index>(p)] : 0.0f) +
                    (take_b ? vb[eb + static_cast<Index>(q)] : 0.0f);
      }
      p += take_a ? 1 : 0;
      q += take_b ? 1 : 0;
      ++w;
    }
  }
  return CsrGraph(n, std::move(offsets), std::move(columns), std::move(values));
}

CsrGraph symmetrize(const CsrGraph& g) { return graph_union(g, transpose(g).graph); }

CsrGraph restrict_causal(const CsrGraph& g) {
  return filter_edges(g, "restrict_causal", [](Index i, Index j) { return j <= i; });
}

CsrGraph crop(const CsrGraph& g, Index length) {
  DIFFUSER_CHECK(length >= 0 && length <= g.n(), "crop: length {} outside [0, {}] (n = {})", length,
                 g.n(), g.n());
  const auto off = g.offsets();
  const auto col = g.columns();
  std::vector<std::int64_t> counts(static_cast<std::size_t>(length), 0);
#pragma omp parallel for schedule(dynamic, 256) if (length > kParallelRows)
  for (Index i = 0; i < length; ++i) {
    const auto r = g.row(i);
    counts[i] = std::lower_bound(r.begin(), r.end(), length) - r.begin();
  }
  std::vector<Index> offsets = offsets_from_counts(counts, "crop");
  std::vector<Index> columns(static_cast<std::size_t>(offsets[length]));
  std::vector<float> values(g.has_values() ? columns.size() : 0);
  const auto val = g.values();
#pragma omp parallel for schedule(dynamic, 256) if (length > kParallelRows)
  for (Index i = 0; i < length; ++i) {
    const Index count = offsets[i + 1] - offsets[i];
    std::copy_n(col.begin() + off[i], count, columns.begin() + offsets[i]);
    if (!values.empty()) std::copy_n(val.begin() + off[i], count, values.begin() + offsets[i]);
  }
  return CsrGraph(length, std::move(offsets), std::move(columns), std::move(values));
}

CsrGraph restrict_keys(const CsrGraph& g, std::span<const std::uint8_t> key_mask,
                       bool keep_self_loops) {
  DIFFUSER_CHECK(key_mask.size() == static_cast<std::size_t>(g.n()),
                 "restrict_keys: key mask has {} entries for a graph with n = {}", key_mask.size(),
                 g.n());
  return filter_edges(g, "restrict_keys", [&](Index i, Index j) {
    return key_mask[j] != 0 || (keep_self_loops && i == j);
  });
}

DegreeStats degree_stats(const CsrGraph& g) {
  std::vector<Index> d(static_cast<std::size_t>(g.n()));
  for (Index i = 0; i < g.n(); ++i) d[i] = g.degree(i);
  return stats_of(std::move(d));
}

DegreeStats in_degree_stats(const CsrGraph& g) {
  std::vector<Index> d(static_cast<std::size_t>(g.n()), 0);
  for (const Index j : g.columns()) ++d[j];
  return stats_of(std::move(d));
}

std::int64_t count_self_loops(const CsrGraph& g) {
  std::int64_t c = 0;
  for (Index i = 0; i < g.n(); ++i) c += g.has_edge(i, i) ? 1 : 0;
  return c;
}

bool is_symmetric(const CsrGraph& g) {
  const Transposed t = transpose(g);
  return std::equal(g.offsets().begin(), g.offsets().end(), t.graph.offsets().begin()) &&
         std::equal(g.columns().begin(), g.columns().end(), t.graph.columns().begin());
}

}  // namespace diffuser::graph
