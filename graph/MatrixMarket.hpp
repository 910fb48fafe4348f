// Why: Matrix Market (NIST coordinate format) is how token graphs travel to SciPy, MATLAB and
// other graph tools. Rows are queries and columns are keys, 1-based in the file. The reader is
// strict: every malformed file is a diffuser::Error naming the file and line.
// Format: https://math.nist.gov/MatrixMarket/formats.html
#pragma once

#include <string>
#include <string_view>

#include "graph/CsrGraph.hpp"

namespace diffuser::graph {

/// Reads a Matrix Market file: `%%MatrixMarket matrix coordinate F S` with field F in
/// {pattern, real, double, integer} and symmetry S in {general, symmetric} (case-insensitive),
/// then '%' comment lines and blank lines, then the size line `n n entries` (square), then
/// `entries` lines `i j` (pattern) or `i j value`, 1-based. A symmetric file stores the lower
/// triangle (i >= j) and each off-diagonal entry also gives (j, i). Duplicate entries merge
/// (values add). A pattern file gives a graph without values. Errors name file and line: empty
/// file, bad header, bad or missing size line, non-square size, wrong field count,
/// non-numeric field, non-integer value in an integer file, non-finite value, index out of
/// range, entry above the diagonal in a symmetric file, fewer or more entries than declared,
/// more than 2^31 - 1 edges.
CsrGraph read_matrix_market(const std::string& path);

/// Parses Matrix Market text held in memory; `name` is used in error messages.
CsrGraph parse_matrix_market(std::string_view text, const std::string& name);

/// Writes `coordinate pattern general` (no values) or `coordinate real general` (values in the
/// shortest form that reads back to the same float), one line per edge in CSR order, 1-based,
/// atomically (core/AtomicFile.hpp).
void write_matrix_market(const std::string& path, const CsrGraph& g);

}  // namespace diffuser::graph
