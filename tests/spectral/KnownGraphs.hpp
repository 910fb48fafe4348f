// Why: graphs whose spectra are known in closed form (cycles, paths, complete and complete
// bipartite graphs, hypercubes, the Petersen graph) and small seeded random/window patterns,
// built edge by edge so the tests do not depend on the pattern builders they help check.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::testing {

using graph::CsrGraph;
using graph::Index;

/// Undirected graph from an edge list (both directions are inserted), no self-loops added.
CsrGraph undirected(Index n, const std::vector<std::pair<Index, Index>>& edges);
/// Adds a self-loop to every node.
CsrGraph with_self_loops(const CsrGraph& g);

CsrGraph cycle(Index n);                        ///< C_n, 2-regular
CsrGraph path(Index n);                         ///< P_n
CsrGraph complete(Index n);                     ///< K_n without self-loops
CsrGraph complete_bipartite(Index a, Index b);  ///< K_{a,b}
CsrGraph hypercube(int d);                      ///< Q_d on 2^d nodes, d-regular, bipartite
CsrGraph petersen();                            ///< 10 nodes, 3-regular
/// Disjoint union (b's nodes shifted by a.n()).
CsrGraph disjoint_union(const CsrGraph& a, const CsrGraph& b);

/// Directed pattern: self-loop, window |i - j| <= w, `global` first tokens as full rows and
/// columns, and `random` uniformly random directed keys per row (seeded; duplicates merge).
CsrGraph window_pattern(Index n, Index w, Index global, Index random, std::uint64_t seed);
/// Directed Erdos-Renyi-like pattern with `per_row` random keys per row (seeded), plus
/// self-loops when `loops`.
CsrGraph random_pattern(Index n, Index per_row, bool loops, std::uint64_t seed);

/// Dense float64 adjacency (0/1 pattern, values ignored).
Eigen::MatrixXd dense_pattern(const CsrGraph& g);
/// Dense M = D^{-1/2} S D^{-1/2} of the symmetrised pattern, with the isolated-node convention.
Eigen::MatrixXd dense_normalized_adjacency(const CsrGraph& g);
/// Dense row-normalised walk matrix of the directed pattern (dangling rows -> self-loop).
Eigen::MatrixXd dense_walk(const CsrGraph& g);

/// Ascending eigenvalues of a dense symmetric matrix (float64).
Eigen::VectorXd symmetric_eigenvalues(const Eigen::MatrixXd& a);
/// The second-largest modulus among the eigenvalues of a dense stochastic matrix, counting
/// multiplicity: sort |mu| descending, return entry 1.
double second_largest_modulus_dense(const Eigen::MatrixXd& p);

}  // namespace diffuser::testing
