// Why: in band-like patterns (windows, overlapping blocks) consecutive query rows share most of
// their keys. A gather kernel that walks one row at a time loads every key's feature row once
// per edge and is bound by those loads; grouping kRowTileRows consecutive rows into a tile lets
// the forward SpMM hop load a key shared by the tile's rows once and multiply-add it into all
// of their accumulators. The grouping depends on the pattern only, so it is built once per plan
// (docs/architecture.md, "Row tiles of the SpMM hop"). To keep the plan small it stores one bit
// per edge (shared or not) and 12 bytes per tile; the kernel rebuilds the (key, row) -> edge
// table of a tile per call from the bits. A key is shared only when every row of the tile holds
// it, so a shared key has an edge in every row (no holes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "attention/RowRange.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::attention {

/// Rows per tile (a tile of the last rows before a dense run or the end may hold fewer).
inline constexpr int kRowTileRows = 4;

/// Up to kRowTileRows consecutive rows [row_begin, row_begin + rows) and the number of keys
/// they share.
struct RowTile {
  graph::Index row_begin = 0;
  graph::Index rows = 0;
  graph::Index shared = 0;
};

/// The row tiles of one graph: every row outside its dense runs belongs to exactly one tile;
/// tiles follow the rows in order and never cross a dense run. Per tile of two rows or more,
/// the keys held by every row of the tile are its shared keys (a tile of one row shares
/// nothing); an edge is marked shared when its key is a shared key of its row's tile, so each
/// row of a tile has exactly `shared` marked edges, with the same keys in the same (ascending)
/// order, and its unmarked edges are its remainder. Immutable.
class RowTiles {
 public:
  RowTiles() = default;

  /// Tiles of g over the rows outside `dense` (maximal runs of rows left to other kernels,
  /// ascending), grouped into blocks of about equal work.
  RowTiles(const graph::CsrGraph& g, std::span<const RowRange> dense);

  bool empty() const { return tiles_.empty(); }

  std::span<const RowTile> tiles() const { return tiles_; }

  /// Tiles [tile_blocks()[b], tile_blocks()[b + 1]) form block b (blocks of about equal work,
  /// for dynamic scheduling over threads); block_count() + 1 entries.
  std::span<const graph::Index> tile_blocks() const { return tile_blocks_; }
  std::int64_t block_count() const { return static_cast<std::int64_t>(tile_blocks_.size()) - 1; }

  /// Whether edge e of the graph is shared (edges of dense-run rows never are).
  bool shared(std::int64_t e) const { return (shared_bits_[e >> 6] >> (e & 63)) & 1U; }

  /// The marks as bits, edge e at bit e % 64 of word e / 64.
  std::span<const std::uint64_t> shared_bits() const { return shared_bits_; }

  /// Largest `shared` of a tile (for the kernels' scratch buffers).
  graph::Index max_shared() const { return max_shared_; }

  /// Number of shared edges (the other edges of tiled rows are remainders).
  std::int64_t shared_edges() const { return shared_edges_; }

  std::size_t bytes() const;

 private:
  std::vector<RowTile> tiles_;
  std::vector<graph::Index> tile_blocks_{0};
  std::vector<std::uint64_t> shared_bits_;
  graph::Index max_shared_ = 0;
  std::int64_t shared_edges_ = 0;
};

}  // namespace diffuser::attention
