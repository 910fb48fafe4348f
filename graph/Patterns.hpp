// Why: attention patterns (window, global, random, blocks, dilated, random cells, expander,
// full, block-level BigBird, cropped Diffuser) are built here straight into CSR in O(nnz) time
// and memory, never through an n x n matrix. Rows are built in parallel; every random draw
// comes from a generator seeded by (seed, component, row or chunk), so the graph is the same
// for any thread count. The definitions are in docs/patterns.md.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "graph/PatternSpec.hpp"

namespace diffuser::graph {

/// Builds the pattern `spec` on n tokens (n >= 0). Row i holds, sorted and without duplicates:
/// the self-loop i; window keys |i - j| <= R; block keys; dilated keys; all global keys; every
/// key when i is global or the pattern is full; expander and random-cell keys; then (non-global
/// rows only) min(random, remaining) keys drawn uniformly without replacement among the keys
/// not yet in the row. With causal, only keys j <= i are ever used. Throws diffuser::Error for
/// an invalid spec or when the pattern would exceed the int32 edge limit (2^31 - 1).
CsrGraph build_pattern(Index n, const PatternSpec& spec);

/// Ids of the random streams (the `component` argument of pattern_stream_seed).
enum class PatternStream : std::uint64_t {
  kGlobalPositions = 1,  ///< index 0: the G random global positions
  kRandomKeys = 2,       ///< index = query row (block row with block_size > 1)
  kRandomCells = 3,      ///< index = chunk c of draws [c * 65536, (c + 1) * 65536)
  kExpander = 4,         ///< index = permutation number d
};

/// Draws per random-cells chunk (one generator per chunk keeps the draw parallel and
/// thread-count independent).
inline constexpr std::int64_t kRandomCellsChunk = 65536;

/// Seed of the generator diffuser::Rng used for (seed, component, index):
/// a = splitmix64(seed); b = splitmix64(a ^ component * 0xD1B54A32D192ED03);
/// result = splitmix64(b ^ index), each splitmix64 call starting from the given state.
std::uint64_t pattern_stream_seed(std::uint64_t seed, PatternStream component, std::uint64_t index);

/// Robert Floyd's sampling of `count` distinct integers from [0, range) (Bentley & Floyd,
/// "A sample of brilliance", CACM 1987): for t = range - count .. range - 1, draw
/// x = rng.uniform_below(t + 1) and insert x, or t when x is already chosen. Returns the
/// sample sorted ascending. count <= range.
std::vector<std::int64_t> floyd_sample(std::uint64_t stream_seed, std::int64_t range,
                                       std::int64_t count);

/// The global token positions a spec selects on n tokens (sorted, distinct; G clamped to n).
std::vector<Index> global_positions(Index n, const PatternSpec& spec);

}  // namespace diffuser::graph
