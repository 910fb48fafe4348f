// Why: sequential BFS (labels and colours depend only on the graph, not on thread count).
#include "spectral/Components.hpp"

#include "core/Error.hpp"

namespace diffuser::spectral {

graph::Index Components::first_bipartite() const {
  for (graph::Index c = 0; c < count; ++c) {
    if (bipartite[c]) return c;
  }
  return -1;
}

Components find_components(const graph::CsrGraph& s) {
  const graph::Index n = s.n();
  Components out;
  out.label.assign(n, -1);
  out.colour.assign(n, 0);
  std::vector<graph::Index> queue(n);
  for (graph::Index root = 0; root < n; ++root) {
    if (out.label[root] >= 0) continue;
    const graph::Index id = out.count++;
    bool bip = true;
    std::size_t head = 0, tail = 0;
    queue[tail++] = root;
    out.label[root] = id;
    while (head < tail) {
      const graph::Index v = queue[head++];
      for (graph::Index w : s.row(v)) {
        if (out.label[w] < 0) {
          out.label[w] = id;
          out.colour[w] = static_cast<std::int8_t>(1 - out.colour[v]);
          queue[tail++] = w;
        } else {
          DIFFUSER_CHECK(out.label[w] == id,
                         "components: pattern is not symmetric (edge ({}, {}) crosses a BFS "
                         "frontier without its reverse)",
                         v, w);
          if (out.colour[w] == out.colour[v]) bip = false;  // odd cycle or self-loop
        }
      }
    }
    out.bipartite.push_back(bip);
  }
  return out;
}

}  // namespace diffuser::spectral
