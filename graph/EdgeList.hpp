// Why: plain edge lists ("i j" or "i j w" per line) are the simplest way to hand a token graph to
// scripts and other tools. The reader is strict and names file and line on every error; the
// writer records n and the edge count so a round trip is exact and truncation is detected.
#pragma once

#include <string>
#include <string_view>

#include "graph/CsrGraph.hpp"

namespace diffuser::graph {

/// Reads an edge list: one edge per line, `i j` (pattern) or `i j w` (weighted), 0-based,
/// i = query, j = key, fields separated by blanks. Lines starting with '#' are comments and
/// blank lines are skipped, except two directives before the first edge: `# nodes: N` fixes
/// n (otherwise n = largest index + 1) and `# edges: M` declares the number of edge lines.
/// All edge lines have the same field count. Duplicate edges merge (weights add).
/// Errors name file and line: empty file, bad directive, wrong or inconsistent field count,
/// non-numeric field, negative index, index >= declared n, non-finite weight, fewer or more
/// edges than declared, more than 2^31 - 1 edges.
CsrGraph read_edge_list(const std::string& path);

/// Parses edge-list text held in memory; `name` is used in error messages.
CsrGraph parse_edge_list(std::string_view text, const std::string& name);

/// Writes `# nodes: N`, `# edges: M`, then one `i j` (or `i j w`) line per edge in CSR order,
/// atomically.
void write_edge_list(const std::string& path, const CsrGraph& g);

}  // namespace diffuser::graph
