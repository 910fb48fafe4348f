// Why: disconnected and bipartite graphs are exactly where iterative eigen-solvers are least
// reliable (repeated eigenvalue 1, eigenvalue -1 at the far end) and where the answer is known
// exactly from the graph's structure; one BFS finds both.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::spectral {

/// Connected components and 2-colourings of an undirected (symmetric) pattern.
struct Components {
  graph::Index count = 0;
  std::vector<graph::Index> label;  ///< component id of each node, ids in order of first node
  std::vector<std::int8_t> colour;  ///< BFS 2-colouring (0/1) inside each component
  std::vector<bool> bipartite;      ///< per component: no odd cycle and no self-loop
  /// Id of the first bipartite component, or -1.
  graph::Index first_bipartite() const;
};

/// BFS over a symmetric pattern s (e.g. NormalizedAdjacency::pattern()) in O(n + nnz). Throws
/// diffuser::Error when an edge leads into an earlier component (only possible when s is not
/// symmetric).
Components find_components(const graph::CsrGraph& s);

}  // namespace diffuser::spectral
