// Why: the test oracle for the pattern builders. It follows docs/patterns.md literally with a
// dense n x n membership matrix (only for small n): one predicate per component, a set-based
// Floyd sampler, and the random keys picked from an explicitly listed set of missing keys.
// Nothing here shares code with graph/Patterns.cpp except the documented seed function and the
// Rng class.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

#include "core/Rng.hpp"
#include "graph/CsrGraph.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::testing {

/// Dense 0/1 membership: m[i][j] = 1 iff query i attends key j.
using Dense = std::vector<std::vector<char>>;

/// Floyd's sampler written with a std::set, as stated in docs/patterns.md.
inline std::vector<std::int64_t> reference_floyd(std::uint64_t stream_seed, std::int64_t range,
                                                 std::int64_t count) {
  Rng rng(stream_seed);
  std::set<std::int64_t> chosen;
  for (std::int64_t t = range - count; t < range; ++t) {
    const auto x = static_cast<std::int64_t>(rng.uniform_below(static_cast<std::uint64_t>(t) + 1));
    if (chosen.count(x)) {
      chosen.insert(t);
    } else {
      chosen.insert(x);
    }
  }
  return {chosen.begin(), chosen.end()};
}

inline std::vector<char> reference_globals(std::int64_t n, const graph::PatternSpec& s) {
  using graph::GlobalPositions;
  std::vector<char> is_global(static_cast<std::size_t>(n), 0);
  const std::int64_t g = std::min<std::int64_t>(s.global, n);
  switch (s.global_positions) {
    case GlobalPositions::kFirst:
      for (std::int64_t k = 0; k < g; ++k) is_global[k] = 1;
      break;
    case GlobalPositions::kSpread:
      for (std::int64_t k = 0; k < g; ++k) is_global[g == 1 ? 0 : k * (n - 1) / (g - 1)] = 1;
      break;
    case GlobalPositions::kRandom:
      for (const auto p : reference_floyd(
               graph::pattern_stream_seed(s.seed, graph::PatternStream::kGlobalPositions, 0), n,
               g)) {
        is_global[p] = 1;
      }
      break;
    case GlobalPositions::kList:
      for (const auto p : s.global_list) is_global[p] = 1;
      break;
  }
  return is_global;
}

/// The token-level pattern (block_size 1, no crop) by brute force.
inline Dense reference_tokens(std::int64_t n, const graph::PatternSpec& s) {
  Dense m(static_cast<std::size_t>(n), std::vector<char>(static_cast<std::size_t>(n), 0));
  const auto is_global = reference_globals(n, s);
  Dense extra = m;
  for (std::int64_t d = 0; d < s.expander; ++d) {
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) perm[i] = i;
    Rng rng(graph::pattern_stream_seed(s.seed, graph::PatternStream::kExpander,
                                       static_cast<std::uint64_t>(d)));
    for (std::int64_t t = n - 1; t >= 1; --t) {
      std::swap(perm[t], perm[rng.uniform_below(static_cast<std::uint64_t>(t) + 1)]);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      extra[i][perm[i]] = 1;
      extra[perm[i]][i] = 1;
    }
  }
  // Random cells: chunk c's stream yields draws [c * chunk, (c + 1) * chunk), i then j.
  for (std::int64_t c = 0; c * graph::kRandomCellsChunk < s.random_cells; ++c) {
    Rng rng(graph::pattern_stream_seed(s.seed, graph::PatternStream::kRandomCells,
                                       static_cast<std::uint64_t>(c)));
    const std::int64_t end = std::min(s.random_cells, (c + 1) * graph::kRandomCellsChunk);
    for (std::int64_t k = c * graph::kRandomCellsChunk; k < end; ++k) {
      const auto i = static_cast<std::int64_t>(rng.uniform_below(static_cast<std::uint64_t>(n)));
      const auto j = static_cast<std::int64_t>(rng.uniform_below(static_cast<std::uint64_t>(n)));
      extra[i][j] = 1;
    }
  }
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      bool in = i == j;
      in = in || (s.window > 0 && std::llabs(i - j) <= s.window);
      if (s.blocks > 0) {
        const std::int64_t c = s.blocks / 2;
        in = in || std::llabs(i / c - j / c) <= 1;
      }
      if (s.dilated > 0) {
        in = in || ((j - i) % s.dilation == 0 && std::llabs(j - i) <= s.dilated * s.dilation);
      }
      in = in || is_global[i] || is_global[j] || s.full || extra[i][j];
      if (s.causal && j > i) in = false;
      m[i][j] = in ? 1 : 0;
    }
  }
  if (s.random > 0) {
    for (std::int64_t i = 0; i < n; ++i) {
      if (is_global[i]) continue;
      std::vector<std::int64_t> missing;
      for (std::int64_t j = 0; j < n; ++j) {
        if (!m[i][j] && (!s.causal || j <= i)) missing.push_back(j);
      }
      const auto count = static_cast<std::int64_t>(missing.size());
      if (count <= s.random) {
        for (const auto j : missing) m[i][j] = 1;
      } else {
        for (const auto r :
             reference_floyd(graph::pattern_stream_seed(s.seed, graph::PatternStream::kRandomKeys,
                                                        static_cast<std::uint64_t>(i)),
                             count, s.random)) {
          m[i][missing[r]] = 1;
        }
      }
    }
  }
  return m;
}

/// The full documented pattern (crop and block expansion included) by brute force.
inline Dense reference_pattern(std::int64_t n, const graph::PatternSpec& s) {
  if (s.crop_from > 0) {
    graph::PatternSpec inner = s;
    inner.crop_from = 0;
    const Dense big = reference_pattern(s.crop_from, inner);
    Dense m(static_cast<std::size_t>(n), std::vector<char>(static_cast<std::size_t>(n), 0));
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < n; ++j) m[i][j] = big[i][j];
    }
    return m;
  }
  if (s.block_size > 1) {
    const std::int64_t b = s.block_size;
    graph::PatternSpec inner = s;
    inner.block_size = 1;
    const Dense blocks = reference_tokens((n + b - 1) / b, inner);
    Dense m(static_cast<std::size_t>(n), std::vector<char>(static_cast<std::size_t>(n), 0));
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        m[i][j] = blocks[i / b][j / b] && (!s.causal || j <= i);
      }
    }
    return m;
  }
  return reference_tokens(n, s);
}

/// Dense membership of a CSR graph.
inline Dense to_dense(const graph::CsrGraph& g) {
  Dense m(static_cast<std::size_t>(g.n()), std::vector<char>(static_cast<std::size_t>(g.n()), 0));
  for (graph::Index i = 0; i < g.n(); ++i) {
    for (const graph::Index j : g.row(i)) m[i][j] = 1;
  }
  return m;
}

}  // namespace diffuser::testing
