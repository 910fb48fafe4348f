// Why: builds the row tiles of a graph once per plan: a merge of the tile rows' sorted key lists
// (O(edges of the tile) per tile), then blocks of about equal work over the tiles.
#include "attention/RowTiles.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace diffuser::attention {

namespace {

using graph::Index;

// Cost of a tile in a block, in units of multiply-adds of one feature row: kRowTileRows per
// shared slot, one per remainder edge, plus a fixed amount per row (writing the output row).
constexpr std::int64_t kTileRowCost = 16;
// Target number of blocks (as for the plan's row blocks: enough for dynamic scheduling).
constexpr std::int64_t kTargetTileBlocks = 1024;

}  // namespace

RowTiles::RowTiles(const graph::CsrGraph& g, std::span<const RowRange> dense) {
  const Index n = g.n();
  const auto off = g.offsets();
  const auto col = g.columns();
  shared_bits_.assign(static_cast<std::size_t>((g.nnz() + 63) / 64), 0);
  std::vector<std::int64_t> work;  // per tile, for the blocks below
  std::size_t next_dense = 0;
  Index i = 0;
  while (i < n) {
    if (next_dense < dense.size() && i == dense[next_dense].begin) {
      i = dense[next_dense++].end;
      continue;
    }
    const Index stop = next_dense < dense.size() ? dense[next_dense].begin : n;
    RowTile tile;
    tile.row_begin = i;
    tile.rows = std::min<Index>(kRowTileRows, stop - i);
    // Merge the rows' ascending keys: cursor[r] walks row i + r; a key at every cursor is
    // shared and its edges are marked.
    std::array<Index, kRowTileRows> cursor{}, last{};
    std::int64_t edges = 0;
    for (Index r = 0; r < tile.rows; ++r) {
      cursor[r] = off[i + r];
      last[r] = off[i + r + 1];
      edges += last[r] - cursor[r];
    }
    for (;;) {
      Index key = std::numeric_limits<Index>::max();
      for (Index r = 0; r < tile.rows; ++r) {
        if (cursor[r] < last[r]) key = std::min(key, col[cursor[r]]);
      }
      if (key == std::numeric_limits<Index>::max()) break;
      int holders = 0;
      for (Index r = 0; r < tile.rows; ++r) {
        holders += cursor[r] < last[r] && col[cursor[r]] == key;
      }
      const bool shared = tile.rows > 1 && holders == tile.rows;
      for (Index r = 0; r < tile.rows; ++r) {
        if (cursor[r] < last[r] && col[cursor[r]] == key) {
          if (shared) shared_bits_[cursor[r] >> 6] |= std::uint64_t{1} << (cursor[r] & 63);
          ++cursor[r];
        }
      }
      tile.shared += shared;
    }
    max_shared_ = std::max(max_shared_, tile.shared);
    shared_edges_ += static_cast<std::int64_t>(tile.shared) * tile.rows;
    tiles_.push_back(tile);
    work.push_back(kRowTileRows * static_cast<std::int64_t>(tile.shared) +
                   (edges - static_cast<std::int64_t>(tile.shared) * tile.rows) +
                   kTileRowCost * tile.rows);
    i += tile.rows;
  }
  std::int64_t total = 0;
  for (const std::int64_t w : work) total += w;
  const std::int64_t target = std::max<std::int64_t>(1, total / kTargetTileBlocks);
  std::int64_t acc = 0;
  for (std::size_t t = 0; t < work.size(); ++t) {
    acc += work[t];
    if (acc >= target || t + 1 == work.size()) {
      tile_blocks_.push_back(static_cast<Index>(t) + 1);
      acc = 0;
    }
  }
}

std::size_t RowTiles::bytes() const {
  return tiles_.size() * sizeof(RowTile) + tile_blocks_.size() * sizeof(Index) +
         shared_bits_.size() * sizeof(std::uint64_t);
}

}  // namespace diffuser::attention
