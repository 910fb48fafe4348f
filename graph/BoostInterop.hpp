// Why: hop-distance questions about a token graph (how many diffusion hops connect two tokens,
// how much of the sequence a query sees after k hops, is the pattern connected) are answered
// with Boost.Graph's tested algorithms. This is the only place that includes Boost.Graph; the
// rest of diffuser sees plain vectors and structs.
//
// Direction: distances follow query -> key edges (row i to its columns), the direction in
// which one diffusion hop A V moves information (query i reads key j). Components treat every
// edge as undirected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::graph {

/// Hop distances from `source` along query -> key edges: dist[source] = 0, dist[j] = the least
/// number of edges on a path source -> j, -1 when j is unreachable. Size n. Boost BFS.
std::vector<Index> bfs_hops(const CsrGraph& g, Index source);

/// Weakly connected components (every edge taken as undirected; Boost disjoint sets).
struct Components {
  Index count = 0;           ///< number of components (0 for n = 0)
  std::vector<Index> label;  ///< n labels in [0, count), numbered by their smallest node
  std::vector<Index> sizes;  ///< count sizes
  Index largest = 0;         ///< size of the largest component
};
Components connected_components(const CsrGraph& g);

/// Number of strongly connected components along query -> key edges (Boost's Tarjan).
Index strong_component_count(const CsrGraph& g);

/// Knobs for the all-source hop analyses.
/// Exact (all-source) analysis needs n <= exact_max_nodes and n (n + nnz) <= exact_max_work
/// (one BFS costs about n + nnz steps). Beyond, S = min(sample_sources, n,
/// max(8, sample_max_work / (n + nnz))) sources are sampled, so huge graphs stay tractable.
struct HopOptions {
  Index exact_max_nodes = 20000;  ///< all-source BFS (exact) up to this many nodes
  double exact_max_work = 2e10;   ///< and up to this many BFS steps in total
  Index sample_sources = 256;     ///< sources sampled beyond the exact limits
  double sample_max_work = 4e9;   ///< cap on the sampled BFS steps (at least 8 sources)
  std::uint64_t seed = 0;         ///< seed of the source sample
  Index max_hops = 5;             ///< receptive fields for k = 1..max_hops
};

/// Diameter along query -> key edges: the largest finite hop distance d(i, j) over ordered
/// pairs with j reachable from i. Exact (all-source BFS, parallel over sources, O(n nnz)) within
/// the HopOptions limits; beyond, bounds:
///  - lower: the largest eccentricity seen by double sweeps (BFS from node 0, node n-1 and the
///    hub h, each followed by a BFS from the farthest node found) and by the sampled sources;
///  - upper (strongly connected graphs only): ecc_out(h) + ecc_in(h) for the hub h of largest
///    in + out degree, since d(i, j) <= d(i, h) + d(h, j) (2 ecc(h) when symmetric).
/// When the bounds meet, the value is exact.
struct DiameterResult {
  Index value = -1;                 ///< the diameter when exact, else -1
  Index lower = 0;                  ///< lower bound (== value when exact)
  Index upper = -1;                 ///< upper bound, -1 when none is known
  bool exact = false;               ///< value is exact
  bool strongly_connected = false;  ///< every key reachable from every query
  std::string method;               ///< how it was obtained, in words
};

/// Receptive field after k hops: fraction[k-1] = (1 / (S n)) sum over sources i of
/// |{j : d(i, j) <= k}|, the share of (query, key) pairs within k hops; mean_keys[k-1] = the same
/// count averaged over sources (keys within k hops of a query). Exact (S = n) within the
/// HopOptions limits; beyond, S sources (HopOptions) drawn uniformly without replacement
/// (seeded), and the values are estimates.
struct ReceptiveField {
  std::vector<double> fraction;   ///< k = 1..max_hops
  std::vector<double> mean_keys;  ///< k = 1..max_hops
  bool exact = false;
  Index sources = 0;  ///< number of BFS sources used
};

/// Both analyses from one set of BFS runs.
struct HopAnalysis {
  DiameterResult diameter;
  ReceptiveField receptive_field;
};

DiameterResult diameter(const CsrGraph& g, const HopOptions& options = {});
ReceptiveField receptive_field(const CsrGraph& g, const HopOptions& options = {});
HopAnalysis hop_analysis(const CsrGraph& g, const HopOptions& options = {});

}  // namespace diffuser::graph
