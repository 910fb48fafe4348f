// Why: for a short sequence the attention graph itself is the clearest picture: tokens as
// nodes, one arrow per edge whose width shows its weight. graph::write_dot labels edges with
// numbers; this writer encodes the weight as pen width and colour so that Graphviz draws where
// the attention mass goes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::viz {

/// Largest graph write_weighted_dot accepts (Graphviz cannot lay out much more legibly).
inline constexpr std::int64_t kWeightedDotMaxEdges = 20000;

/// Writes a Graphviz digraph atomically: node i labelled labels[i] (or "i" when labels is
/// empty), pinned in sequence order on a circle (clockwise from the top; `layout=neato`, so
/// `dot -Tsvg FILE` draws it with straight edges), one arrow query i -> key j per edge with
/// penwidth = 0.2 + 4 w / w_max, a grey level darkening with w and tooltip = w
/// (w = |edge value|, w_max the largest). Edges with w < min_weight w_max are left out (0: keep
/// all). Throws diffuser::Error when the graph has no values, labels has neither 0 nor n
/// entries, min_weight is outside [0, 1], or more than kWeightedDotMaxEdges edges would be
/// drawn.
void write_weighted_dot(const std::string& path, const graph::CsrGraph& g,
                        const std::vector<std::string>& labels = {}, double min_weight = 0.0);

}  // namespace diffuser::viz
