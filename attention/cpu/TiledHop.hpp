// Why: the forward SpMM hop over the plan's row tiles (attention/RowTiles.hpp). The row-by-row
// gather loads one feature row of Y per edge and is bound by those loads; on band patterns the
// rows of a tile share most keys, so here a shared key's row is loaded once per tile and
// multiply-added into the accumulators of all the tile's rows (register-blocked: kRowTileRows
// rows x up to 4 vectors per slab), and only each row's remainder (random keys, the ends of a
// band) is gathered row by row. spmm_hop_forward (OptimizedKernels) calls it for the sparse
// rows when the plan has tiles; dense runs stay on the GEMM path.
#pragma once

#include <cstdint>
#include <vector>

#include "attention/AttentionPlan.hpp"
#include "attention/EdgeLayout.hpp"
#include "attention/cpu/SequenceShape.hpp"

namespace diffuser::attention::cpu {

/// Scratch buffers of one thread for tiled_hop_block (grown on demand, reused across blocks).
template <typename T>
struct TiledHopScratch {
  std::vector<graph::Index> keys;       ///< the tile's shared keys
  std::vector<std::int64_t> slot_at;    ///< per (shared slot, row): layout.at(edge, 0)
  std::vector<std::int64_t> rest_at;    ///< the same for the remainder edges, row after row
  std::vector<graph::Index> rest_keys;  ///< their keys
};

/// The forward hop (same contract as spmm_hop_forward) for the rows of the tiles of block
/// `block` of plan.row_tiles(): out_i = c1 · sum_e a[layout.at(e, h)] · y[col e] + c0 · v_i
/// over row i's edges with key < len, head by head, for rows i < len; rows >= len get 0. Each
/// row's sum runs over its shared keys in ascending order, then over its remainder in
/// ascending order: fixed, so results do not depend on the thread count.
template <typename T>
void tiled_hop_block(const AttentionPlan& plan, const SequenceShape& s, const T* a,
                     EdgeLayout layout, const T* y, T c1, const T* v, T c0, T* out,
                     std::int64_t block, TiledHopScratch<T>& scratch);

}  // namespace diffuser::attention::cpu
