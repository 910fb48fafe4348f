// Why: the fast CPU kernels. Layout facts they rely on: activations are [n, W] rows (W = H·D),
// so the dot-product kernels (scores, the fused backward hop) read key row j's whole W values
// once per edge for all heads, while the gather kernels (hops, dq, dk) run head by head with
// the output slab in registers; edge values are addressed through EdgeLayout; columns within a
// row are sorted, so the keys of a padded sequence (j >= len) are a suffix of every row and
// are skipped by one binary search. Rows that hold every key (global tokens) come in dense runs
// that are handled by GEMMs, the rows of short runs packed 16 to a GEMM (DenseGroups.hpp). Sums
// use a fixed order (written out in RowMath.hpp, fixed edge unrolling, fixed GEMM decomposition) so
// results do not depend on the thread count or on buffer alignment.
#include "attention/cpu/OptimizedKernels.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "attention/AttentionDropout.hpp"
#include "attention/cpu/DenseGroups.hpp"
#include "attention/cpu/RowMath.hpp"
#include "attention/cpu/TiledHop.hpp"
#include "core/Threads.hpp"

namespace diffuser::attention::cpu {
namespace {

using graph::Index;

// End of the valid prefix of edges [begin, end) whose column is < len (columns are sorted).
inline Index valid_end(const Index* columns, Index begin, Index end, Index len, Index n) {
  if (len >= n) return end;
  return static_cast<Index>(std::lower_bound(columns + begin, columns + end, len) - columns);
}

// Software prefetch of `count` values at p (the key rows of edges a few steps ahead: their
// columns are random, so the hardware prefetcher cannot guess them).
template <typename T>
inline void prefetch(const T* p, std::int64_t count) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (std::int64_t b = 0; b < count * static_cast<std::int64_t>(sizeof(T)); b += 64) {
    __builtin_prefetch(bytes + b);
  }
}

// How many edges ahead the gather loops prefetch.
constexpr Index kPrefetchAhead = 8;
// How many edges ahead the order conversions (pattern <-> transposed edge order) prefetch.
constexpr Index kConvertAhead = 16;

inline std::int64_t count(std::span<const RowRange> ranges) {
  return static_cast<std::int64_t>(ranges.size());
}

// Opening an OpenMP parallel region wakes the team and ends in a barrier: microseconds on an
// idle machine, far more on a loaded one, which is more than the whole work of a tiny call
// (n = 8, W = 8: a few hundred multiply-adds per kernel). Every parallel region below therefore
// carries `if (parallel_worth(work))`, with `work` about the multiply-adds (or element updates)
// of the region, and runs on the calling thread below kParallelMinWork. The results are the
// same bit for bit either way: every row is computed by one thread in a fixed order whatever
// the team size.

// Work of a kernel that touches every edge's (and every row's) W feature values once.
inline std::int64_t edge_work(const AttentionPlan& plan, std::int64_t width) {
  return (plan.nnz() + plan.n()) * width;
}

// Dense runs (maximal runs of full rows, degree n): their edge values form a row-major
// (rows x n) block per head, addressed here with the EdgeLayout's strides, and the rows of an
// activation tensor form a strided (rows x D) matrix per head. The kernels handle a run with
// single-threaded Eigen GEMMs (one task per run and head, a decomposition that does not depend
// on the thread count; Eigen runs sequentially inside an OpenMP parallel region).
template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using DynStride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Block = Eigen::Map<RowMat<T>, 0, DynStride>;
template <typename T>
using ConstBlock = Eigen::Map<const RowMat<T>, 0, DynStride>;

// Rows [first, first + rows) of an [n, W] tensor, head h's D columns.
template <typename T>
ConstBlock<T> head_rows(const T* x, const SequenceShape& s, Index first, Index rows, int h) {
  return ConstBlock<T>(x + first * s.width + static_cast<std::int64_t>(h) * s.head_dim, rows,
                       s.head_dim, DynStride(s.width, 1));
}
template <typename T>
Block<T> head_rows(T* x, const SequenceShape& s, Index first, Index rows, int h) {
  return Block<T>(x + first * s.width + static_cast<std::int64_t>(h) * s.head_dim, rows, s.head_dim,
                  DynStride(s.width, 1));
}

// Edge values of head h for the dense run starting at edge `first_edge`: rows x cols (cols
// <= n, the leading valid keys), row stride n edges.
template <typename T>
Block<T> run_values(T* values, EdgeLayout layout, std::int64_t first_edge, Index rows, Index n,
                    Index cols, int h) {
  return Block<T>(values + layout.at(first_edge, h), rows, cols,
                  DynStride(n * layout.edge_stride, layout.edge_stride));
}
template <typename T>
ConstBlock<T> run_values(const T* values, EdgeLayout layout, std::int64_t first_edge, Index rows,
                         Index n, Index cols, int h) {
  return ConstBlock<T>(values + layout.at(first_edge, h), rows, cols,
                       DynStride(n * layout.edge_stride, layout.edge_stride));
}

// Packed operands of a dense group (DenseGroups.hpp): row-major blocks in a per-thread buffer.
template <typename T>
using Packed = Eigen::Map<RowMat<T>>;

// Blocks of rows x cols0 and rows x cols1 values at the start of `buffer` (grown as needed).
template <typename T>
std::pair<Packed<T>, Packed<T>> packed_blocks(std::vector<T>& buffer, Index rows, Index cols0,
                                              Index cols1) {
  buffer.resize(static_cast<std::size_t>(rows) * (cols0 + cols1));
  T* p = buffer.data();
  return {Packed<T>(p, rows, cols0),
          Packed<T>(p + static_cast<std::size_t>(rows) * cols0, rows, cols1)};
}

// out row q = the leading cols edge values (head h) of full row unit.row(q), q < out.rows().
template <typename T>
void pack_edge_rows(const T* values, EdgeLayout layout, const Index* off, const DenseUnit& unit,
                    Index n, int h, Packed<T>& out) {
  for (Index q = 0; q < out.rows(); ++q) {
    out.row(q) = run_values(values, layout, off[unit.row(q)], 1, n, out.cols(), h);
  }
}

// The reverse: the leading out.cols() edge values of row unit.row(q) = in row q.
template <typename T>
void unpack_edge_rows(const Packed<T>& in, EdgeLayout layout, const Index* off,
                      const DenseUnit& unit, Index n, int h, T* values) {
  for (Index q = 0; q < in.rows(); ++q) {
    run_values(values, layout, off[unit.row(q)], 1, n, in.cols(), h) = in.row(q);
  }
}

// out row q = head h of activation row unit.row(q).
template <typename T>
void pack_head_rows(const T* x, const SequenceShape& s, const DenseUnit& unit, int h,
                    Packed<T>& out) {
  for (Index q = 0; q < out.rows(); ++q) out.row(q) = head_rows(x, s, unit.row(q), 1, h);
}

// Head h of the unit's rows of `out`: rows r < vr (the valid ones) = scale · E_r · X, where
// E_r is the first s.len edge values (head h) of row unit.row(r) and X the first s.len rows of
// head h of x; the other rows are written 0. One GEMM on the strided operands for a long run;
// for a group, its edge rows packed, one GEMM, the result scattered back. Returns vr.
template <typename T>
Index unit_edge_product(const T* values, EdgeLayout layout, const Index* off, const DenseUnit& unit,
                        Index n, const SequenceShape& s, int h, const T* x, T scale, T* out,
                        std::vector<T>& packed) {
  const Index vr = unit.valid(s.len);
  for (Index r = vr; r < unit.size; ++r) head_rows(out, s, unit.row(r), 1, h).setZero();
  if (vr == 0) return 0;
  const auto xh = head_rows(x, s, 0, s.len, h);
  if (unit.contiguous()) {
    head_rows(out, s, unit.first, vr, h).noalias() =
        scale * (run_values(values, layout, off[unit.first], vr, n, s.len, h) * xh);
    return vr;
  }
  auto [edges, rows] = packed_blocks(packed, vr, s.len, s.head_dim);
  pack_edge_rows(values, layout, off, unit, n, h, edges);
  rows.noalias() = scale * (edges * xh);
  for (Index r = 0; r < vr; ++r) head_rows(out, s, unit.row(r), 1, h) = rows.row(r);
  return vr;
}

// In-place softmax of one row of `count` values at stride `stride` (contiguous rows take the
// vectorised path directly; strided rows go through `scratch`).
template <typename T>
void softmax_row(T* row, std::int64_t stride, Index count, std::vector<T>& scratch) {
  if (count == 0) return;
  T* x = row;
  if (stride != 1) {
    scratch.resize(static_cast<std::size_t>(count));
    for (Index e = 0; e < count; ++e) scratch[e] = row[e * stride];
    x = scratch.data();
  }
  exp_shifted(x, cpu::max(x, count), count);
  const T inv = T(1) / cpu::sum(x, count);
  if (stride != 1) {
    for (Index e = 0; e < count; ++e) row[e * stride] = x[e] * inv;
  } else {
    for (Index e = 0; e < count; ++e) x[e] *= inv;
  }
}

// out[0, kVecs·width) = sum over edges e in [begin, end) of w(e, h) · rows[col[e]][offset ..],
// the accumulators held in registers (kVecs vectors). With kVecs <= 4 even and odd edges go to
// two accumulator sets (more independent FMA chains), added at the end.
template <typename T, int kVecs, typename Weight>
inline void gather_slab(const Index* columns, Index begin, Index end, const T* rows, std::int64_t W,
                        std::int64_t offset, int h, const Weight& weight, T* out) {
  constexpr int kWidth = Simd<T>::kWidth;
  constexpr bool kTwoSets = kVecs <= 4;
  Vec<T> acc[kVecs], acc2[kVecs];
  for (int v = 0; v < kVecs; ++v) acc[v] = acc2[v] = Vec<T>{};
  Index e = begin;
  if constexpr (kTwoSets) {
    for (; e + 2 <= end; e += 2) {
      const T* r0 = rows + columns[e] * W + offset;
      const T* r1 = rows + columns[e + 1] * W + offset;
      prefetch(rows + columns[std::min(e + kPrefetchAhead, end - 1)] * W + offset, kVecs * kWidth);
      prefetch(rows + columns[std::min(e + kPrefetchAhead + 1, end - 1)] * W + offset,
               kVecs * kWidth);
      const Vec<T> w0 = broadcast(weight(e, h)), w1 = broadcast(weight(e + 1, h));
      for (int v = 0; v < kVecs; ++v) {
        acc[v] += w0 * load(r0 + v * kWidth);
        acc2[v] += w1 * load(r1 + v * kWidth);
      }
    }
  }
  for (; e < end; ++e) {
    const T* r = rows + columns[e] * W + offset;
    prefetch(rows + columns[std::min(e + kPrefetchAhead, end - 1)] * W + offset, kVecs * kWidth);
    const Vec<T> w = broadcast(weight(e, h));
    for (int v = 0; v < kVecs; ++v) acc[v] += w * load(r + v * kWidth);
  }
  for (int v = 0; v < kVecs; ++v) store(out + v * kWidth, kTwoSets ? acc[v] + acc2[v] : acc[v]);
}

// acc[0, W) = sum over edges [begin, end) of w(e, h) · rows[col[e]] (head h's D columns), head
// by head, in slabs of up to 8 vectors kept in registers; columns past the last full vector
// (D not a multiple of the vector width) by a scalar loop. `weight(e, h)` returns the value.
template <typename T, typename Weight>
inline void gather_rows(const Index* columns, Index begin, Index end, const T* rows,
                        const SequenceShape& s, const Weight& weight, T* acc) {
  constexpr int kWidth = Simd<T>::kWidth;
  const std::int64_t W = s.width, D = s.head_dim;
  for (int h = 0; h < s.heads; ++h) {
    const std::int64_t base = static_cast<std::int64_t>(h) * D;
    std::int64_t c = 0;
    for (; c + 8 * kWidth <= D; c += 8 * kWidth) {
      gather_slab<T, 8>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
    }
    const auto vecs = static_cast<int>((D - c) / kWidth);
    switch (vecs) {
      case 1:
        gather_slab<T, 1>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      case 2:
        gather_slab<T, 2>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      case 3:
        gather_slab<T, 3>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      case 4:
        gather_slab<T, 4>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      case 5:
        gather_slab<T, 5>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      case 6:
        gather_slab<T, 6>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      case 7:
        gather_slab<T, 7>(columns, begin, end, rows, W, base + c, h, weight, acc + base + c);
        break;
      default:
        break;
    }
    c += static_cast<std::int64_t>(vecs) * kWidth;
    for (; c < D; ++c) {
      T sum = 0;
      for (Index e = begin; e < end; ++e) sum += weight(e, h) * rows[columns[e] * W + base + c];
      acc[base + c] = sum;
    }
  }
}

}  // namespace

template <typename T>
void scores_softmax_forward(const AttentionPlan& plan, const SequenceShape& s, const T* q,
                            const T* k, EdgeLayout layout, T* a) {
  const Index* off = plan.pattern().offsets().data();
  const Index* col = plan.pattern().columns().data();
  const auto blocks = plan.row_blocks();
  const DenseGroups units(plan.dense_runs());
  const Index n = plan.n();
  const int H = s.heads, D = s.head_dim;
  const std::int64_t W = s.width;
  const T scale = T(1) / std::sqrt(static_cast<T>(D));
#pragma omp parallel if (parallel_worth(edge_work(plan, W)))
  {
    std::vector<T> scores(static_cast<std::size_t>(plan.max_degree()) * H);
#pragma omp for schedule(dynamic, 1) nowait
    for (std::int64_t bi = 0; bi < count(blocks); ++bi) {
      for (Index i = blocks[bi].begin; i < blocks[bi].end; ++i) {
        const Index begin = off[i], end = off[i + 1], deg = end - begin;
        const Index nv = i < s.len ? valid_end(col, begin, end, s.len, n) - begin : 0;
        const T* qi = q + i * W;
        Index e = 0;
        for (; e + 4 <= nv; e += 4) {
          const T* k0 = k + col[begin + e] * W;
          const T* k1 = k + col[begin + e + 1] * W;
          const T* k2 = k + col[begin + e + 2] * W;
          const T* k3 = k + col[begin + e + 3] * W;
          for (Index l = 0; l < 4; ++l) {
            prefetch(k + col[begin + std::min(e + kPrefetchAhead + l, nv - 1)] * W, W);
          }
          for (int h = 0; h < H; ++h) {
            const std::int64_t c = static_cast<std::int64_t>(h) * D;
            T* out = scores.data() + static_cast<std::size_t>(h) * deg + e;
            dot4(qi + c, k0 + c, k1 + c, k2 + c, k3 + c, D, out);
            for (int l = 0; l < 4; ++l) out[l] *= scale;
          }
        }
        for (; e < nv; ++e) {
          const T* kj = k + col[begin + e] * W;
          for (int h = 0; h < H; ++h) {
            const std::int64_t c = static_cast<std::int64_t>(h) * D;
            scores[static_cast<std::size_t>(h) * deg + e] = dot(qi + c, kj + c, D) * scale;
          }
        }
        for (int h = 0; h < H; ++h) {
          T* sh = scores.data() + static_cast<std::size_t>(h) * deg;
          if (nv > 0) {
            exp_shifted(sh, cpu::max(sh, nv), nv);
            const T inv = T(1) / cpu::sum(sh, nv);
            for (Index e2 = 0; e2 < nv; ++e2) a[layout.at(begin + e2, h)] = sh[e2] * inv;
          }
          for (Index e2 = nv; e2 < deg; ++e2) a[layout.at(begin + e2, h)] = T(0);
        }
      }
    }
    // Dense runs: S = Q_run K^T / sqrt(D) by GEMM straight into the weights, then row softmax;
    // rows of short runs packed into groups (DenseGroups.hpp), S computed in the packed block.
    std::vector<T> packed;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < units.size() * H; ++task) {
      const DenseUnit unit = units[task / H];
      const int h = static_cast<int>(task % H);
      const Index vr = unit.valid(s.len);
      for (Index r = vr; r < unit.size; ++r) {
        run_values(a, layout, off[unit.row(r)], 1, n, n, h).setZero();
      }
      if (vr == 0) continue;
      const auto kh = head_rows(k, s, 0, s.len, h);
      if (unit.contiguous()) {
        auto block = run_values(a, layout, off[unit.first], vr, n, n, h);
        block.leftCols(s.len).noalias() =
            scale * (head_rows(q, s, unit.first, vr, h) * kh.transpose());
        for (Index r = 0; r < vr; ++r) {
          softmax_row(&block(r, 0), layout.edge_stride, s.len, scores);
        }
        block.rightCols(n - s.len).setZero();
        continue;
      }
      auto [qp, sp] = packed_blocks(packed, vr, D, s.len);
      pack_head_rows(q, s, unit, h, qp);
      sp.noalias() = scale * (qp * kh.transpose());
      for (Index r = 0; r < vr; ++r) softmax_row(&sp(r, 0), 1, s.len, scores);
      unpack_edge_rows(sp, layout, off, unit, n, h, a);
      for (Index r = 0; r < vr; ++r) {
        run_values(a, layout, off[unit.row(r)], 1, n, n, h).rightCols(n - s.len).setZero();
      }
    }
  }
}

template <typename T>
void spmm_hop_forward(const AttentionPlan& plan, const SequenceShape& s, const T* a,
                      EdgeLayout layout, const T* y, T c1, const T* v, T c0, T* out) {
  const Index* off = plan.pattern().offsets().data();
  const Index* col = plan.pattern().columns().data();
  const auto blocks = plan.row_blocks();
  const DenseGroups units(plan.dense_runs());
  const Index n = plan.n();
  const int H = s.heads;
  const std::int64_t W = s.width;
  auto weight = [a, layout](Index e, int h) { return a[layout.at(e, h)]; };
  const RowTiles& tiles = plan.row_tiles();
#pragma omp parallel if (parallel_worth(edge_work(plan, W)))
  {
    // Sparse rows: over the plan's row tiles when it has them (TiledHop.hpp), else row by row.
    if (!tiles.empty()) {
      TiledHopScratch<T> scratch;
#pragma omp for schedule(dynamic, 1) nowait
      for (std::int64_t b = 0; b < tiles.block_count(); ++b) {
        tiled_hop_block(plan, s, a, layout, y, c1, v, c0, out, b, scratch);
      }
    } else {
      std::vector<T> acc(static_cast<std::size_t>(W));
#pragma omp for schedule(dynamic, 1) nowait
      for (std::int64_t bi = 0; bi < count(blocks); ++bi) {
        for (Index i = blocks[bi].begin; i < blocks[bi].end; ++i) {
          T* oi = out + i * W;
          if (i >= s.len) {
            std::fill(oi, oi + W, T(0));
            continue;
          }
          gather_rows(col, off[i], valid_end(col, off[i], off[i + 1], s.len, n), y, s, weight,
                      acc.data());
          const T* vi = v + i * W;
          if (c0 != T(0)) {
            for (std::int64_t c = 0; c < W; ++c) oi[c] = c1 * acc[c] + c0 * vi[c];
          } else {
            for (std::int64_t c = 0; c < W; ++c) oi[c] = c1 * acc[c];
          }
        }
      }
    }
    // Dense runs: out_run = c1 · A_run · Y + c0 · V_run by GEMM. Rows of short runs (global
    // tokens at random positions: runs of one row) are packed into groups (DenseGroups.hpp), so
    // that one GEMM reads Y once per group rather than once per row.
    std::vector<T> packed;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < units.size() * H; ++task) {
      const DenseUnit unit = units[task / H];
      const int h = static_cast<int>(task % H);
      const Index vr = unit_edge_product(a, layout, off, unit, n, s, h, y, c1, out, packed);
      if (c0 == T(0)) continue;
      for (Index r = 0; r < vr; ++r) {
        head_rows(out, s, unit.row(r), 1, h) += c0 * head_rows(v, s, unit.row(r), 1, h);
      }
    }
  }
}

template <typename T>
void transposed_hop_backward(const AttentionPlan& plan, const SequenceShape& s, const T* a_t,
                             EdgeLayout layout, const T* g, const T* y_next, T y_scale, const T* v,
                             T theta_next, T* g_next, T* dv, T* da_t, double* partial) {
  const Index* off = plan.transposed().offsets().data();
  const Index* col = plan.transposed().columns().data();
  const auto blocks = plan.transposed_row_blocks();
  const DenseGroups units(plan.transposed_dense_runs());
  const Index n = plan.n();
  const int H = s.heads, D = s.head_dim;
  const std::int64_t W = s.width;
#pragma omp parallel if (parallel_worth(2 * edge_work(plan, W)))
  {
    std::vector<T> acc_buffer(static_cast<std::size_t>(W));
    T* acc = acc_buffer.data();
#pragma omp for schedule(dynamic, 1) nowait
    for (std::int64_t bi = 0; bi < count(blocks); ++bi) {
      for (Index j = blocks[bi].begin; j < blocks[bi].end; ++j) {
        T* gj = g_next + j * W;
        if (j >= s.len) {
          std::fill(gj, gj + W, T(0));
          if (partial) partial[j] = 0.0;
          continue;
        }
        const T* yj = y_next + j * W;
        const Index begin = off[j], end = valid_end(col, off[j], off[j + 1], s.len, n);
        std::fill(acc, acc + W, T(0));
        Index t = begin;
        for (; t + 4 <= end; t += 4) {
          const T* g0 = g + col[t] * W;
          const T* g1 = g + col[t + 1] * W;
          const T* g2 = g + col[t + 2] * W;
          const T* g3 = g + col[t + 3] * W;
          for (Index l = 0; l < 4; ++l) {
            prefetch(g + col[std::min(t + kPrefetchAhead + l, end - 1)] * W, W);
          }
          for (int h = 0; h < H; ++h) {
            const std::int64_t c = static_cast<std::int64_t>(h) * D;
            T dots[4];
            dot_axpy4(yj + c, g0 + c, g1 + c, g2 + c, g3 + c, a_t[layout.at(t, h)],
                      a_t[layout.at(t + 1, h)], a_t[layout.at(t + 2, h)], a_t[layout.at(t + 3, h)],
                      acc + c, D, dots);
            for (int l = 0; l < 4; ++l) da_t[layout.at(t + l, h)] += y_scale * dots[l];
          }
        }
        for (; t < end; ++t) {
          const T* gi = g + col[t] * W;
          for (int h = 0; h < H; ++h) {
            const std::int64_t c = static_cast<std::int64_t>(h) * D;
            da_t[layout.at(t, h)] += y_scale * dot(gi + c, yj + c, D);
            axpy(a_t[layout.at(t, h)], gi + c, acc + c, D);
          }
        }
        T* dvj = dv + j * W;
        for (std::int64_t c = 0; c < W; ++c) {
          gj[c] = acc[c];
          dvj[c] += theta_next * acc[c];
        }
        if (partial) partial[j] = dot_double(acc, v + j * W, W);
      }
    }
    // Dense runs (keys every query reads): G_next_run = A^T_run · G and
    // dA^T_run += y_scale · Y_next_run · G^T, by GEMM over the valid queries. Rows of short
    // runs are packed into groups (DenseGroups.hpp): their A^T rows, then their dA^T rows
    // (gathered, updated by one GEMM, scattered back), in one (rows x len) block.
    std::vector<T> packed;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < units.size() * H; ++task) {
      const DenseUnit unit = units[task / H];
      const int h = static_cast<int>(task % H);
      const Index vr = unit_edge_product(a_t, layout, off, unit, n, s, h, g, T(1), g_next, packed);
      if (vr == 0) continue;
      const auto gk = head_rows(g, s, 0, s.len, h);
      if (unit.contiguous()) {
        run_values(da_t, layout, off[unit.first], vr, n, s.len, h).noalias() +=
            y_scale * (head_rows(y_next, s, unit.first, vr, h) * gk.transpose());
        continue;
      }
      auto [edges, rows] = packed_blocks(packed, vr, s.len, D);
      pack_edge_rows(da_t, layout, off, unit, n, h, edges);
      pack_head_rows(y_next, s, unit, h, rows);
      edges.noalias() += y_scale * (rows * gk.transpose());
      unpack_edge_rows(edges, layout, off, unit, n, h, da_t);
    }
    // Their dV and dtheta shares, once every head is done.
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t u = 0; u < units.size(); ++u) {
      const DenseUnit unit = units[u];
      for (Index r = 0; r < unit.size; ++r) {
        const Index j = unit.row(r);
        const T* gj = g_next + j * W;
        if (j < s.len) {
          T* dvj = dv + j * W;
          for (std::int64_t c = 0; c < W; ++c) dvj[c] += theta_next * gj[c];
        }
        if (partial) partial[j] = j < s.len ? dot_double(gj, v + j * W, W) : 0.0;
      }
    }
  }
}

template <typename T>
void softmax_backward_dq(const AttentionPlan& plan, const SequenceShape& s, const T* a,
                         const T* a_dropped, T keep_scale, EdgeLayout layout, const T* da_t,
                         EdgeLayout transposed_layout, const T* k, T* dq, T* ds_t) {
  const Index* off = plan.pattern().offsets().data();
  const Index* col = plan.pattern().columns().data();
  const Index* inv = plan.inverse_perm().data();
  const auto blocks = plan.row_blocks();
  const DenseGroups units(plan.dense_runs());
  const Index n = plan.n();
  const int H = s.heads;
  const std::int64_t W = s.width;
  const T scale = T(1) / std::sqrt(static_cast<T>(s.head_dim));
  const EdgeLayout lt = transposed_layout;
  // ds of row i, head h, from da already gathered into dsh[0, nv): dropout, then softmax backward.
  auto head_ds = [&](Index begin, int h, Index nv, T* dsh) {
    if (a_dropped) {
      for (Index e = 0; e < nv; ++e) {
        dsh[e] = a_dropped[layout.at(begin + e, h)] != T(0) ? dsh[e] * keep_scale : T(0);
      }
    }
    T row_dot = 0;
    for (Index e = 0; e < nv; ++e) row_dot += a[layout.at(begin + e, h)] * dsh[e];
    for (Index e = 0; e < nv; ++e) dsh[e] = a[layout.at(begin + e, h)] * (dsh[e] - row_dot) * scale;
  };
  // Sparse rows: all heads of an edge at once (one transposed position per edge, read and
  // written once), ds into ds[h * deg + e] (row order) and ds_t; masked edges get 0 in ds_t.
  auto row_ds = [&](Index i, Index nv, T* ds) {
    const Index begin = off[i], deg = off[i + 1] - begin;
    for (Index e = 0; e < nv; ++e) {
      const Index t = inv[begin + e];
      __builtin_prefetch(da_t + lt.at(inv[begin + std::min(e + kConvertAhead, deg - 1)], 0));
      for (int h = 0; h < H; ++h) ds[static_cast<std::size_t>(h) * deg + e] = da_t[lt.at(t, h)];
    }
    for (int h = 0; h < H; ++h) head_ds(begin, h, nv, ds + static_cast<std::size_t>(h) * deg);
    for (Index e = 0; e < deg; ++e) {
      const Index t = inv[begin + e];
      __builtin_prefetch(ds_t + lt.at(inv[begin + std::min(e + kConvertAhead, deg - 1)], 0), 1);
      for (int h = 0; h < H; ++h) {
        ds_t[lt.at(t, h)] = e < nv ? ds[static_cast<std::size_t>(h) * deg + e] : T(0);
      }
    }
  };
  // Dense-run rows: one head (the run's GEMM task), ds into dsh[0, nv).
  auto run_row_ds = [&](Index i, int h, Index nv, T* dsh) {
    const Index begin = off[i], deg = off[i + 1] - begin;
    for (Index e = 0; e < nv; ++e) dsh[e] = da_t[lt.at(inv[begin + e], h)];
    head_ds(begin, h, nv, dsh);
    for (Index e = 0; e < deg; ++e) ds_t[lt.at(inv[begin + e], h)] = e < nv ? dsh[e] : T(0);
  };
#pragma omp parallel if (parallel_worth(edge_work(plan, W)))
  {
    std::vector<T> ds(static_cast<std::size_t>(plan.max_degree()) * H);
    std::vector<T> acc(static_cast<std::size_t>(W));
#pragma omp for schedule(dynamic, 1) nowait
    for (std::int64_t bi = 0; bi < count(blocks); ++bi) {
      for (Index i = blocks[bi].begin; i < blocks[bi].end; ++i) {
        const Index begin = off[i], deg = off[i + 1] - begin;
        const Index nv = i < s.len ? valid_end(col, begin, off[i + 1], s.len, n) - begin : 0;
        row_ds(i, nv, ds.data());
        auto weight = [&ds, deg, begin](Index e, int h) {
          return ds[static_cast<std::size_t>(h) * deg + (e - begin)];
        };
        gather_rows(col, begin, begin + nv, k, s, weight, acc.data());
        std::copy(acc.begin(), acc.end(), dq + i * W);
      }
    }
    // Dense runs: ds row by row into a (valid rows x len) block, then dq_run = dS · K by GEMM;
    // rows of short runs packed into groups (DenseGroups.hpp).
    std::vector<T> run_ds;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < units.size() * H; ++task) {
      const DenseUnit unit = units[task / H];
      const int h = static_cast<int>(task % H);
      const Index vr = unit.valid(s.len);
      for (Index r = vr; r < unit.size; ++r) {
        run_row_ds(unit.row(r), h, 0, nullptr);
        head_rows(dq, s, unit.row(r), 1, h).setZero();
      }
      if (vr == 0) continue;
      auto [dsh, dqh] = packed_blocks(run_ds, vr, s.len, unit.contiguous() ? 0 : s.head_dim);
      for (Index r = 0; r < vr; ++r) run_row_ds(unit.row(r), h, s.len, &dsh(r, 0));
      const auto kh = head_rows(k, s, 0, s.len, h);
      if (unit.contiguous()) {
        head_rows(dq, s, unit.first, vr, h).noalias() = dsh * kh;
        continue;
      }
      dqh.noalias() = dsh * kh;
      for (Index r = 0; r < vr; ++r) head_rows(dq, s, unit.row(r), 1, h) = dqh.row(r);
    }
  }
}

template <typename T>
void keys_backward(const AttentionPlan& plan, const SequenceShape& s, const T* ds_t,
                   EdgeLayout layout, const T* q, T* dk) {
  const Index* off = plan.transposed().offsets().data();
  const Index* col = plan.transposed().columns().data();
  const auto blocks = plan.transposed_row_blocks();
  const DenseGroups units(plan.transposed_dense_runs());
  const Index n = plan.n();
  const int H = s.heads;
  const std::int64_t W = s.width;
  auto weight = [ds_t, layout](Index t, int h) { return ds_t[layout.at(t, h)]; };
#pragma omp parallel if (parallel_worth(edge_work(plan, W)))
  {
    std::vector<T> acc(static_cast<std::size_t>(W));
#pragma omp for schedule(dynamic, 1) nowait
    for (std::int64_t bi = 0; bi < count(blocks); ++bi) {
      for (Index j = blocks[bi].begin; j < blocks[bi].end; ++j) {
        T* dkj = dk + j * W;
        if (j >= s.len) {
          std::fill(dkj, dkj + W, T(0));
          continue;
        }
        gather_rows(col, off[j], valid_end(col, off[j], off[j + 1], s.len, n), q, s, weight,
                    acc.data());
        std::copy(acc.begin(), acc.end(), dkj);
      }
    }
    // Dense runs: dk_run = dS^T_run · Q by GEMM; rows of short runs packed into groups
    // (DenseGroups.hpp).
    std::vector<T> packed;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < units.size() * H; ++task) {
      const DenseUnit unit = units[task / H];
      const int h = static_cast<int>(task % H);
      unit_edge_product(ds_t, layout, off, unit, n, s, h, q, T(1), dk, packed);
    }
  }
}

namespace {

// ad = a · dropout multiplier of (b, h, e), for every edge and head.
template <typename T>
void apply_dropout(const T* a, std::int64_t nnz, int heads, EdgeLayout layout,
                   const AttentionOptions& o, std::int64_t b, T* ad) {
  const auto p = static_cast<float>(o.dropout);
  const std::int64_t total = nnz * heads;
  // A Philox draw costs tens of operations: count 16 per element.
#pragma omp parallel for schedule(static) if (parallel_worth(16 * total))
  for (std::int64_t x = 0; x < total; ++x) {
    const std::int64_t h = x / nnz, e = x % nnz;
    const std::int64_t at = layout.at(e, h);
    ad[at] = a[at] * static_cast<T>(dropout_multiplier(o.seed, o.stream,
                                                       dropout_index(b, h, e, heads, nnz), p));
  }
}

// out = c · x on rows < len, 0 on the others ([n, W]).
template <typename T>
void scale_rows(const T* x, T c, Index n, Index len, std::int64_t W, T* out) {
#pragma omp parallel for schedule(static) if (parallel_worth(n * W))
  for (Index i = 0; i < n; ++i) {
    for (std::int64_t col = 0; col < W; ++col) {
      out[i * W + col] = i < len ? c * x[i * W + col] : T(0);
    }
  }
}

// Recomputes the hop states Y_1..Y_{K-1} (index k-1) into `hops` by Horner.
template <typename T>
void horner_hops(const AttentionPlan& plan, const SequenceShape& s, const T* ad, EdgeLayout layout,
                 const T* v, const std::vector<double>& theta, std::int64_t seq, T* hops) {
  const int K = static_cast<int>(theta.size()) - 1;
  const T* yin = v;
  T c1 = static_cast<T>(theta[K]);
  for (int kk = K - 1; kk >= 1; --kk) {
    T* out = hops + (kk - 1) * seq;
    spmm_hop_forward(plan, s, ad, layout, yin, c1, v, static_cast<T>(theta[kk]), out);
    yin = out;
    c1 = T(1);
  }
}

}  // namespace

template <typename T>
void optimized_forward(const AttentionPlan& plan, const AttentionOptions& options,
                       const AttentionGeometry& g, const T* q, const T* k, const T* v, T* z,
                       AttentionSaved<T>* saved) {
  const std::int64_t nnz = plan.nnz();
  const int H = g.heads;
  const auto& theta = options.diffusion.theta();
  const int K = options.diffusion.degree();
  const EdgeLayout layout = edge_layout(H, nnz);
  const std::int64_t seq = g.sequence_numel();
  const std::int64_t edge_block = nnz * H;
  const bool dropout = options.dropout > 0;
  const bool store_hops = saved && options.memory == MemoryMode::kStoreHops && K > 1;
  std::vector<T> a_scratch, ad_scratch, ping, pong;
  if (saved) {
    saved->attn.resize(static_cast<std::size_t>(g.batch * edge_block));
    saved->attn_dropped.resize(dropout ? saved->attn.size() : 0);
    saved->hops.resize(store_hops ? static_cast<std::size_t>(g.batch * (K - 1) * seq) : 0);
  } else {
    a_scratch.resize(static_cast<std::size_t>(edge_block));
    if (dropout) ad_scratch.resize(static_cast<std::size_t>(edge_block));
  }
  if (!store_hops && K > 1) {
    ping.resize(static_cast<std::size_t>(seq));
    if (K > 2) pong.resize(static_cast<std::size_t>(seq));
  }
  for (std::int64_t b = 0; b < g.batch; ++b) {
    const SequenceShape s{H, g.head_dim, g.width, g.lengths[b]};
    const std::int64_t off = b * seq;
    T* a = saved ? saved->attn.data() + b * edge_block : a_scratch.data();
    scores_softmax_forward(plan, s, q + off, k + off, layout, a);
    const T* ad = a;
    if (dropout) {
      T* dropped = saved ? saved->attn_dropped.data() + b * edge_block : ad_scratch.data();
      apply_dropout(a, nnz, H, layout, options, b, dropped);
      ad = dropped;
    }
    if (K == 0) {
      scale_rows(v + off, static_cast<T>(theta[0]), g.n, s.len, g.width, z + off);
      continue;
    }
    const T* yin = v + off;
    T c1 = static_cast<T>(theta[K]);
    for (int kk = K - 1; kk >= 0; --kk) {
      T* out = kk == 0      ? z + off
               : store_hops ? saved->hops.data() + (b * (K - 1) + (kk - 1)) * seq
                            : (kk % 2 ? ping.data() : pong.data());
      spmm_hop_forward(plan, s, ad, layout, yin, c1, v + off, static_cast<T>(theta[kk]), out);
      yin = out;
      c1 = T(1);
    }
  }
}

template <typename T>
void optimized_backward(const AttentionPlan& plan, const AttentionGeometry& g, const T* q,
                        const T* k, const T* v, const AttentionSaved<T>& saved, const T* dz, T* dq,
                        T* dk, T* dv, double* dtheta) {
  const auto& options = saved.options;
  const std::int64_t nnz = plan.nnz();
  const int H = g.heads;
  const auto& theta = options.diffusion.theta();
  const int K = options.diffusion.degree();
  const EdgeLayout layout = edge_layout(H, nnz);
  const std::int64_t seq = g.sequence_numel();
  const std::int64_t edge_block = nnz * H;
  const bool dropout = options.dropout > 0;
  const auto keep_scale = static_cast<T>(dropout_keep_scale(static_cast<float>(options.dropout)));
  const bool recompute = options.memory == MemoryMode::kRecompute && K > 1;
  const Index* inv = plan.inverse_perm().data();
  const auto& weights = saved.diffusion_weights();
  // Transposed-order scratch (weights, dA, dS) in [nnz, H]: converting from the pattern's order
  // is a permutation of edges, and this layout moves all heads of an edge in one cache line
  // (docs/architecture.md, "Edge-value layout").
  const EdgeLayout layout_t = EdgeLayout::edge_major(H);

  std::vector<T> a_t(static_cast<std::size_t>(edge_block));
  std::vector<T> da_t(static_cast<std::size_t>(edge_block));
  std::vector<T> ping(K >= 1 ? static_cast<std::size_t>(seq) : 0);
  std::vector<T> pong(K >= 2 ? static_cast<std::size_t>(seq) : 0);
  std::vector<T> hop_buffer(recompute ? static_cast<std::size_t>((K - 1) * seq) : 0);
  std::vector<double> partial(static_cast<std::size_t>(g.n));
  if (dtheta) std::fill(dtheta, dtheta + K + 1, 0.0);

  for (std::int64_t b = 0; b < g.batch; ++b) {
    const SequenceShape s{H, g.head_dim, g.width, g.lengths[b]};
    const std::int64_t off = b * seq;
    const T* a = saved.attn.data() + b * edge_block;
    const T* ad = weights.data() + b * edge_block;
    const T* hops = nullptr;
    if (K > 1) {
      if (recompute) {
        horner_hops(plan, s, ad, layout, v + off, theta, seq, hop_buffer.data());
        hops = hop_buffer.data();
      } else {
        hops = saved.hops.data() + b * (K - 1) * seq;
      }
    }
    // Edge weights scattered into transposed order (reading the pattern order sequentially);
    // dA accumulator zeroed.
#pragma omp parallel for schedule(static) if (parallel_worth(edge_block))
    for (std::int64_t e = 0; e < nnz; ++e) {
      const std::int64_t t = inv[e];
      __builtin_prefetch(a_t.data() + layout_t.at(inv[std::min(e + kConvertAhead, nnz - 1)], 0), 1);
      for (int h = 0; h < H; ++h) a_t[layout_t.at(t, h)] = ad[layout.at(e, h)];
    }
    std::fill(da_t.begin(), da_t.end(), T(0));
    // dV = theta_0 dZ on valid rows; dtheta_0 = <dZ, V>.
    const auto theta0 = static_cast<T>(theta[0]);
#pragma omp parallel for schedule(static) if (parallel_worth(2 * seq))
    for (Index i = 0; i < g.n; ++i) {
      const T* dzi = dz + off + i * g.width;
      T* dvi = dv + off + i * g.width;
      const bool valid = i < s.len;
      for (std::int64_t c = 0; c < g.width; ++c) dvi[c] = valid ? theta0 * dzi[c] : T(0);
      partial[i] = valid ? dot_double(dzi, v + off + i * g.width, g.width) : 0.0;
    }
    auto add_dtheta = [&](int kk) {
      if (!dtheta) return;
      double sum = 0.0;
      for (const double p : partial) sum += p;
      dtheta[kk] += sum;
    };
    add_dtheta(0);
    const T* gk = dz + off;
    for (int kk = 0; kk < K; ++kk) {
      const bool last = kk + 1 == K;
      const T* y_next = last ? v + off : hops + kk * seq;
      const T y_scale = last ? static_cast<T>(theta[K]) : T(1);
      T* gn = kk % 2 == 0 ? ping.data() : pong.data();
      transposed_hop_backward(plan, s, a_t.data(), layout_t, gk, y_next, y_scale, v + off,
                              static_cast<T>(theta[kk + 1]), gn, dv + off, da_t.data(),
                              partial.data());
      add_dtheta(kk + 1);
      gk = gn;
    }
    // a_t is free again: it holds ds in transposed order.
    softmax_backward_dq(plan, s, a, dropout ? ad : nullptr, keep_scale, layout, da_t.data(),
                        layout_t, k + off, dq + off, a_t.data());
    keys_backward(plan, s, a_t.data(), layout_t, q + off, dk + off);
  }
}

#define DIFFUSER_INSTANTIATE(T)                                                                    \
  template void scores_softmax_forward<T>(const AttentionPlan&, const SequenceShape&, const T*,    \
                                          const T*, EdgeLayout, T*);                               \
  template void spmm_hop_forward<T>(const AttentionPlan&, const SequenceShape&, const T*,          \
                                    EdgeLayout, const T*, T, const T*, T, T*);                     \
  template void transposed_hop_backward<T>(const AttentionPlan&, const SequenceShape&, const T*,   \
                                           EdgeLayout, const T*, const T*, T, const T*, T, T*, T*, \
                                           T*, double*);                                           \
  template void softmax_backward_dq<T>(const AttentionPlan&, const SequenceShape&, const T*,       \
                                       const T*, T, EdgeLayout, const T*, EdgeLayout, const T*,    \
                                       T*, T*);                                                    \
  template void keys_backward<T>(const AttentionPlan&, const SequenceShape&, const T*, EdgeLayout, \
                                 const T*, T*);                                                    \
  template void optimized_forward<T>(const AttentionPlan&, const AttentionOptions&,                \
                                     const AttentionGeometry&, const T*, const T*, const T*, T*,   \
                                     AttentionSaved<T>*);                                          \
  template void optimized_backward<T>(const AttentionPlan&, const AttentionGeometry&, const T*,    \
                                      const T*, const T*, const AttentionSaved<T>&, const T*, T*,  \
                                      T*, T*, double*);

DIFFUSER_INSTANTIATE(float)
DIFFUSER_INSTANTIATE(double)
#undef DIFFUSER_INSTANTIATE

}  // namespace diffuser::attention::cpu
