// Why: the tiled forward hop (TiledHop.hpp). Per tile: split each row's edges (keys < len) by
// the plan's shared bits once, branch-free (the shared keys, the edge-value offset of every
// (slot, row), and the remainder), then per head run slabs of columns with kRowTileRows x V
// vector accumulators in registers: per shared slot V loads of the key's row feed
// kRowTileRows x V multiply-adds, the weights read straight from the edge values (no copy).
// Vectors are 64 bytes where the CPU has AVX-512 (4 x 4 accumulators of 16 floats cover a head
// of 64), else 32 bytes; narrower tails use a 32-byte vector, then scalars.
#include "attention/cpu/TiledHop.hpp"

#include <algorithm>
#include <cstring>

#include "attention/RowTiles.hpp"

namespace diffuser::attention::cpu {
namespace {

using graph::Index;

constexpr int R = kRowTileRows;

#if defined(__AVX512F__)
constexpr int kWideBytes = 64;
#else
constexpr int kWideBytes = 32;
#endif

template <typename T, int kBytes>
struct VecOf {
  typedef T type __attribute__((vector_size(kBytes)));
};
template <typename T>
using Wide = typename VecOf<T, kWideBytes>::type;
template <typename T>
using Narrow = typename VecOf<T, 32>::type;

template <typename VT, typename T>
inline VT load_as(const T* p) {
  VT x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
template <typename VT, typename T>
inline void store_as(T* p, VT x) {
  std::memcpy(p, &x, sizeof x);
}

// How many remainder edges ahead the gather prefetches (their keys are random).
constexpr Index kPrefetchAhead = 8;

// One tile's inputs for the slabs of one head.
template <typename T>
struct TileHead {
  const Index* keys;            // the shared keys < len, ascending
  Index slots;                  // their count
  const std::int64_t* slot_at;  // slots x R offsets into a_h (rows past `rows`: row 0's)
  const Index* rest_keys;       // remainder keys, row after row
  const std::int64_t* rest_at;  // their offsets into a_h
  const Index* rest_begin;      // R + 1 positions into rest_keys / rest_at
  const T* a_h;                 // head h's edge values (a + layout.at(0, h))
  const T* y;
  const T* v;  // row row_begin of v
  T* out;      // row row_begin of out
  std::int64_t width;
  int rows;  // rows to write (< R for a tile cut by len, a dense run or n)
  T c1, c0;
};

// Columns [c, c + V · lanes) of the tile's rows; VT is a vector type of T (or T itself). The
// small loops are unrolled so the R x V accumulators stay in registers.
template <typename T, typename VT, int V>
inline void tile_slab(const TileHead<T>& t, std::int64_t c) {
  constexpr int L = static_cast<int>(sizeof(VT) / sizeof(T));
  constexpr int kLine = 64 / static_cast<int>(sizeof(T));
  const std::int64_t W = t.width;
  const T* __restrict a = t.a_h;
  const T* __restrict y = t.y;
  const Index* rest_keys = t.rest_keys;
  const Index rest_total = t.rest_begin[R];
  // The first remainder rows (random keys) are fetched while the shared slots run.
  for (Index k = 0; k < std::min(kPrefetchAhead, rest_total); ++k) {
    const T* p = y + rest_keys[k] * W + c;
#pragma GCC unroll 16
    for (int b = 0; b < V * L; b += kLine) __builtin_prefetch(p + b);
  }
  VT acc[R][V];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int u = 0; u < V; ++u) acc[r][u] = VT{} + T(0);
  }
  const Index* keys = t.keys;
  const std::int64_t* at = t.slot_at;
  for (Index k = 0; k < t.slots; ++k, at += R) {
    const T* yr = y + keys[k] * W + c;
    VT yv[V];
#pragma GCC unroll 4
    for (int u = 0; u < V; ++u) yv[u] = load_as<VT>(yr + u * L);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const T wr = a[at[r]];
#pragma GCC unroll 4
      for (int u = 0; u < V; ++u) acc[r][u] += yv[u] * wr;
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const Index end = t.rest_begin[r + 1];
    for (Index k = t.rest_begin[r]; k < end; ++k) {
      const T* ahead = y + rest_keys[std::min(k + kPrefetchAhead, rest_total - 1)] * W + c;
#pragma GCC unroll 16
      for (int b = 0; b < V * L; b += kLine) __builtin_prefetch(ahead + b);
      const T* yr = y + rest_keys[k] * W + c;
      const T wr = a[t.rest_at[k]];
#pragma GCC unroll 4
      for (int u = 0; u < V; ++u) acc[r][u] += load_as<VT>(yr + u * L) * wr;
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    if (r >= t.rows) break;
    T* o = t.out + r * W + c;
    if (t.c0 != T(0)) {
      const T* vr = t.v + r * W + c;
#pragma GCC unroll 4
      for (int u = 0; u < V; ++u) {
        store_as(o + u * L, acc[r][u] * t.c1 + load_as<VT>(vr + u * L) * t.c0);
      }
    } else {
#pragma GCC unroll 4
      for (int u = 0; u < V; ++u) store_as(o + u * L, acc[r][u] * t.c1);
    }
  }
}

// Head h's D columns starting at `base`: 4-vector slabs, then 1..3 wide vectors, a 32-byte
// vector, scalars.
template <typename T>
void tile_head(const TileHead<T>& t, std::int64_t base, std::int64_t D) {
  constexpr std::int64_t LW = sizeof(Wide<T>) / sizeof(T);
  constexpr std::int64_t LN = sizeof(Narrow<T>) / sizeof(T);
  std::int64_t c = 0;
  for (; c + 4 * LW <= D; c += 4 * LW) tile_slab<T, Wide<T>, 4>(t, base + c);
  switch ((D - c) / LW) {
    case 3:
      tile_slab<T, Wide<T>, 3>(t, base + c);
      break;
    case 2:
      tile_slab<T, Wide<T>, 2>(t, base + c);
      break;
    case 1:
      tile_slab<T, Wide<T>, 1>(t, base + c);
      break;
    default:
      break;
  }
  c += (D - c) / LW * LW;
  if constexpr (LN < LW) {
    if (c + LN <= D) {
      tile_slab<T, Narrow<T>, 1>(t, base + c);
      c += LN;
    }
  }
  for (; c < D; ++c) tile_slab<T, T, 1>(t, base + c);
}

}  // namespace

template <typename T>
void tiled_hop_block(const AttentionPlan& plan, const SequenceShape& s, const T* a,
                     EdgeLayout layout, const T* y, T c1, const T* v, T c0, T* out,
                     std::int64_t block, TiledHopScratch<T>& scratch) {
  const RowTiles& tiles = plan.row_tiles();
  const Index* off = plan.pattern().offsets().data();
  const Index* col = plan.pattern().columns().data();
  const std::uint64_t* bits = tiles.shared_bits().data();
  const RowTile* tile_list = tiles.tiles().data();
  const Index n = plan.n(), len = s.len;
  const std::int64_t W = s.width, D = s.head_dim;
  const Index first = tiles.tile_blocks()[block], last = tiles.tile_blocks()[block + 1];
  // One more slot than the largest tile: the sink of the branch-free matching below.
  const Index sink = tiles.max_shared();
  const std::size_t max_slots = static_cast<std::size_t>(sink) + 1;
  if (scratch.slot_at.size() < max_slots * R) {
    scratch.slot_at.resize(max_slots * R);
    scratch.keys.resize(max_slots);
  }
  std::int64_t* slot_at = scratch.slot_at.data();
  Index* keys = scratch.keys.data();
  for (Index ti = first; ti < last; ++ti) {
    const RowTile& tile = tile_list[ti];
    const Index i0 = tile.row_begin;
    const int rows = static_cast<int>(std::clamp<Index>(len - i0, 0, tile.rows));
    // Rows >= len: 0.
    std::fill(out + (i0 + rows) * W, out + (i0 + tile.rows) * W, T(0));
    if (rows == 0) continue;
    const Index edges = off[i0 + rows] - off[i0];
    if (scratch.rest_at.size() < static_cast<std::size_t>(edges)) {
      scratch.rest_at.resize(edges);
      scratch.rest_keys.resize(edges);
    }
    std::int64_t* rest_at = scratch.rest_at.data();
    Index* rest_keys = scratch.rest_keys.data();
    Index rest_begin[R + 1];
    Index rest = 0, slots = 0;
    // Each valid row's edges with key < len: its k-th shared edge goes to slot k (every row
    // holds the tile's shared keys, in the same ascending order, so the shared keys < len are
    // the same prefix in every row), every other edge to the row's remainder. Both stores
    // happen unconditionally: the unused one goes to the sink slot or just past the
    // remainder's end, and is overwritten or ignored.
    for (int r = 0; r < rows; ++r) {
      rest_begin[r] = rest;
      const Index begin = off[i0 + r];
      Index end = off[i0 + r + 1];
      if (len < n) end = static_cast<Index>(std::lower_bound(col + begin, col + end, len) - col);
      if (tile.shared == 0) {
        for (Index e = begin; e < end; ++e, ++rest) {
          rest_at[rest] = layout.at(e, 0);
          rest_keys[rest] = col[e];
        }
        continue;
      }
      Index k = 0;
      for (Index e = begin; e < end; ++e) {
        const Index key = col[e];
        const std::int64_t at = layout.at(e, 0);
        const bool shared = (bits[e >> 6] >> (e & 63)) & 1U;
        const std::size_t slot = static_cast<std::size_t>(shared ? k : sink);
        slot_at[slot * R + r] = at;
        keys[slot] = key;
        rest_at[rest] = at;
        rest_keys[rest] = key;
        k += shared;
        rest += !shared;
      }
      slots = k;  // the same for every row
    }
    for (int r = rows; r <= R; ++r) rest_begin[r] = rest;
    // Rows of the R that are not computed (past `rows`) take row 0's weights; never stored.
    for (Index k = 0; k < slots; ++k) {
      std::int64_t* slot = slot_at + static_cast<std::size_t>(k) * R;
      for (int r = rows; r < R; ++r) slot[r] = slot[0];
    }
    // The next tile's edge values (one stretch per head) are fetched while this one runs.
    const bool has_next = ti + 1 < last && layout.edge_stride == 1;
    const Index next_begin = has_next ? off[tile_list[ti + 1].row_begin] : 0;
    const Index next_end = has_next ? off[tile_list[ti + 1].row_begin + tile_list[ti + 1].rows] : 0;
    TileHead<T> t{keys, slots,      slot_at,      rest_keys, rest_at, rest_begin, a,
                  y,    v + i0 * W, out + i0 * W, W,         rows,    c1,         c0};
    for (int h = 0; h < s.heads; ++h) {
      t.a_h = a + layout.at(0, h);
      for (Index e = next_begin; e < next_end; e += 64 / static_cast<Index>(sizeof(T))) {
        __builtin_prefetch(t.a_h + e);
      }
      tile_head(t, static_cast<std::int64_t>(h) * D, D);
    }
  }
}

template void tiled_hop_block<float>(const AttentionPlan&, const SequenceShape&, const float*,
                                     EdgeLayout, const float*, float, const float*, float, float*,
                                     std::int64_t, TiledHopScratch<float>&);
template void tiled_hop_block<double>(const AttentionPlan&, const SequenceShape&, const double*,
                                      EdgeLayout, const double*, double, const double*, double,
                                      double*, std::int64_t, TiledHopScratch<double>&);

}  // namespace diffuser::attention::cpu
