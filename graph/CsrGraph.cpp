// Why: construction, validation and transpose of the CSR token graph.
#include "graph/CsrGraph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/Error.hpp"

namespace diffuser::graph {

namespace {

/// True when invariants I3-I6 hold, given I1 and I2: one pass, parallel over rows, no messages.
/// Large graphs are validated on every construction, so this keeps validate() off the serial
/// path; any violation falls through to the sequential checks, which report the first one.
bool quick_valid(Index n, std::span<const Index> off, std::span<const Index> col,
                 std::span<const float> val) {
  const auto nnz = static_cast<std::int64_t>(col.size());
  bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok) if (n > 4096)
  for (Index i = 0; i < n; ++i) {
    const Index b = off[i], e = off[i + 1];
    if (b < 0 || b > e || e > nnz) {
      ok = false;
      continue;
    }
    if (b == e) continue;
    // Branch-free over the row (vectorisable): columns in range, strictly increasing.
    bool bad = static_cast<std::uint32_t>(col[b]) >= static_cast<std::uint32_t>(n);
    for (Index k = b + 1; k < e; ++k) {
      bad |= (static_cast<std::uint32_t>(col[k]) >= static_cast<std::uint32_t>(n)) |
             (col[k - 1] >= col[k]);
    }
    ok = ok && !bad;
  }
  if (!ok || (!val.empty() && val.size() != col.size())) return false;
  const auto nv = static_cast<std::int64_t>(val.size());
#pragma omp parallel for schedule(static) reduction(&& : ok) if (nv > 65536)
  for (std::int64_t e = 0; e < nv; ++e) ok = ok && std::isfinite(val[e]);
  return ok;
}

}  // namespace

CsrGraph::CsrGraph() : offsets_(1, 0) {}

CsrGraph::CsrGraph(Index n, std::vector<Index> offsets, std::vector<Index> columns,
                   std::vector<float> values)
    : n_(n),
      offsets_(std::move(offsets)),
      columns_(std::move(columns)),
      values_(std::move(values)) {
  validate();
}

void CsrGraph::validate() const {
  DIFFUSER_CHECK(n_ >= 0, "invalid graph (I1): n = {} is negative", n_);
  DIFFUSER_CHECK(offsets_.size() == static_cast<std::size_t>(n_) + 1,
                 "invalid graph (I1): {} row offsets for n = {} (need n + 1)", offsets_.size(), n_);
  DIFFUSER_CHECK(offsets_[0] == 0, "invalid graph (I2): offsets[0] = {} (must be 0)", offsets_[0]);
  DIFFUSER_CHECK(static_cast<std::size_t>(offsets_[n_]) == columns_.size(),
                 "invalid graph (I2): offsets[n] = {} but there are {} column indices",
                 offsets_[n_], columns_.size());
  if (quick_valid(n_, offsets_, columns_, values_)) return;
  for (Index i = 0; i < n_; ++i) {
    DIFFUSER_CHECK(offsets_[i] <= offsets_[i + 1],
                   "invalid graph (I3): offsets decrease at row {} ({} > {})", i, offsets_[i],
                   offsets_[i + 1]);
  }
  for (Index i = 0; i < n_; ++i) {
    for (Index e = offsets_[i]; e < offsets_[i + 1]; ++e) {
      const Index j = columns_[e];
      DIFFUSER_CHECK(j >= 0 && j < n_, "invalid graph (I4): row {} has column {} outside [0, {})",
                     i, j, n_);
      DIFFUSER_CHECK(e == offsets_[i] || columns_[e - 1] < j,
                     "invalid graph (I5): row {} columns not strictly increasing ({} then {})", i,
                     columns_[e - 1], j);
    }
  }
  DIFFUSER_CHECK(values_.empty() || values_.size() == columns_.size(),
                 "invalid graph (I6): {} values for {} edges", values_.size(), columns_.size());
  for (std::size_t e = 0; e < values_.size(); ++e) {
    DIFFUSER_CHECK(std::isfinite(values_[e]), "invalid graph (I6): value of edge {} is {}", e,
                   values_[e]);
  }
}

CsrGraph CsrGraph::from_edges(Index n, std::span<const Index> rows, std::span<const Index> cols,
                              std::span<const float> values) {
  DIFFUSER_CHECK(n >= 0, "graph size n = {} is negative", n);
  DIFFUSER_CHECK(rows.size() == cols.size(), "edge list: {} row indices but {} column indices",
                 rows.size(), cols.size());
  DIFFUSER_CHECK(values.empty() || values.size() == rows.size(),
                 "edge list: {} values for {} edges", values.size(), rows.size());
  DIFFUSER_CHECK(static_cast<std::int64_t>(rows.size()) <= kMaxIndex,
                 "edge list: {} edges exceed the int32 limit of {}", rows.size(), kMaxIndex);
  const bool weighted = !values.empty();
  std::vector<Index> offsets(static_cast<std::size_t>(n) + 1, 0);
  for (std::size_t e = 0; e < rows.size(); ++e) {
    DIFFUSER_CHECK(rows[e] >= 0 && rows[e] < n && cols[e] >= 0 && cols[e] < n,
                   "edge list: edge {} = ({}, {}) outside [0, {})", e, rows[e], cols[e], n);
    ++offsets[rows[e] + 1];
  }
  for (Index i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  std::vector<Index> cursor(offsets.begin(), offsets.end() - 1);
  std::vector<Index> columns(rows.size());
  std::vector<float> vals(weighted ? rows.size() : 0);
  for (std::size_t e = 0; e < rows.size(); ++e) {
    const Index slot = cursor[rows[e]]++;
    columns[slot] = cols[e];
    if (weighted) vals[slot] = values[e];
  }
  // Sort each row and merge duplicates, compacting in place.
  std::vector<Index> new_offsets(offsets.size(), 0);
  std::vector<std::pair<Index, float>> buffer;
  Index write = 0;
  for (Index i = 0; i < n; ++i) {
    const Index begin = offsets[i], end = offsets[i + 1];
    if (weighted) {
      buffer.clear();
      for (Index e = begin; e < end; ++e) buffer.emplace_back(columns[e], vals[e]);
      std::sort(buffer.begin(), buffer.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t k = 0; k < buffer.size(); ++k) {
        if (write > new_offsets[i] && columns[write - 1] == buffer[k].first) {
          vals[write - 1] += buffer[k].second;
        } else {
          columns[write] = buffer[k].first;
          vals[write] = buffer[k].second;
          ++write;
        }
      }
    } else {
      std::sort(columns.begin() + begin, columns.begin() + end);
      for (Index e = begin; e < end; ++e) {
        if (write == new_offsets[i] || columns[write - 1] != columns[e])
          columns[write++] = columns[e];
      }
    }
    new_offsets[i + 1] = write;
  }
  columns.resize(write);
  columns.shrink_to_fit();
  if (weighted) {
    vals.resize(write);
    vals.shrink_to_fit();
  }
  return CsrGraph(n, std::move(new_offsets), std::move(columns), std::move(vals));
}

std::int64_t CsrGraph::find_edge(Index i, Index j) const {
  if (i < 0 || i >= n_) return -1;
  const auto r = row(i);
  const auto it = std::lower_bound(r.begin(), r.end(), j);
  if (it == r.end() || *it != j) return -1;
  return offsets_[i] + (it - r.begin());
}

bool CsrGraph::has_edge(Index i, Index j) const { return find_edge(i, j) >= 0; }

void CsrGraph::set_values(std::vector<float> values) {
  std::swap(values_, values);
  try {
    DIFFUSER_CHECK(values_.empty() || values_.size() == columns_.size(),
                   "invalid graph (I6): {} values for {} edges", values_.size(), columns_.size());
    for (std::size_t e = 0; e < values_.size(); ++e) {
      DIFFUSER_CHECK(std::isfinite(values_[e]), "invalid graph (I6): value of edge {} is {}", e,
                     values_[e]);
    }
  } catch (...) {
    std::swap(values_, values);
    throw;
  }
}

CsrGraph CsrGraph::pattern() const {
  CsrGraph g;
  g.n_ = n_;
  g.offsets_ = offsets_;
  g.columns_ = columns_;
  return g;
}

Transposed transpose(const CsrGraph& g) {
  const Index n = g.n();
  const auto offsets = g.offsets();
  const auto columns = g.columns();
  std::vector<Index> t_offsets(static_cast<std::size_t>(n) + 1, 0);
  for (const Index j : columns) ++t_offsets[j + 1];
  for (Index j = 0; j < n; ++j) t_offsets[j + 1] += t_offsets[j];
  std::vector<Index> cursor(t_offsets.begin(), t_offsets.end() - 1);
  std::vector<Index> t_columns(columns.size());
  std::vector<Index> perm(columns.size());
  for (Index i = 0; i < n; ++i) {
    for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
      const Index slot = cursor[columns[e]]++;
      t_columns[slot] = i;
      perm[slot] = e;
    }
  }
  std::vector<float> t_values;
  if (g.has_values()) {
    t_values.resize(columns.size());
    const auto v = g.values();
    for (std::size_t t = 0; t < perm.size(); ++t) t_values[t] = v[perm[t]];
  }
  return Transposed{CsrGraph(n, std::move(t_offsets), std::move(t_columns), std::move(t_values)),
                    std::move(perm)};
}

}  // namespace diffuser::graph
