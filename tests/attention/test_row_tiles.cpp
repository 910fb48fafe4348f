// Why: the row tiles (attention/RowTiles.hpp) decide which edges the tiled SpMM hop
// (attention/cpu/TiledHop.hpp) takes from a shared slot and which from a row's remainder; an
// edge lost or counted twice there, a tile that crosses a dense run or a block list that skips
// a tile would silently change the hop. So: the tile invariants on window, block, random,
// global patterns and mixtures (n from 1 to 300, with dense runs), the hop with tiles against
// a double oracle of its definition and against the untiled path (float and double, several
// head shapes, valid length < n with the padded inputs poisoned, c0 = 0 and != 0, both edge
// layouts), a whole forward against the reference kernels, and bitwise-identical results on 1
// and 2 threads.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>

#include "attention/SparseAttention.hpp"
#include "attention/cpu/OptimizedKernels.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using namespace diffuser::attention::test;
using diffuser::Diffusion;
using diffuser::testing::rel_error;

namespace {

// A pattern mixing the families the tiles meet: a window of radius `window` (< 0: none),
// overlapping blocks of `block` tokens at stride block / 2 (0: none), random keys with
// probability `density`, and `globals` global tokens (full rows and columns; the first half at
// 0, 1, ... so that they form a dense run of several rows, the rest at random positions).
struct Mix {
  const char* name;
  Index window;
  Index block;
  double density;
  Index globals;
  bool self_loops;
};

CsrGraph mixed_pattern(Index n, const Mix& m, std::uint64_t seed) {
  diffuser::Rng rng(seed);
  std::vector<char> global(static_cast<std::size_t>(n), 0);
  for (Index g = 0; g < std::min(n, m.globals / 2); ++g) global[g] = 1;
  for (Index g = m.globals / 2; g < m.globals; ++g) {
    global[static_cast<std::size_t>(rng.uniform() * n) % static_cast<std::size_t>(n)] = 1;
  }
  const Index chunk = std::max<Index>(1, m.block / 2);
  std::vector<Index> rows, cols;
  for (Index i = 0; i < n; ++i) {
    bool any = false;
    for (Index j = 0; j < n; ++j) {
      bool take = (m.self_loops && i == j) || global[i] || global[j];
      take = take || (m.window >= 0 && std::abs(i - j) <= m.window);
      take = take || (m.block > 0 && std::abs(i / chunk - j / chunk) <= 1);
      take = take || (m.density > 0 && rng.uniform() < m.density);
      if (take) {
        rows.push_back(i);
        cols.push_back(j);
        any = true;
      }
    }
    if (!any) {
      rows.push_back(i);
      cols.push_back((i * 7 + 3) % n);
    }
  }
  return CsrGraph::from_edges(n, rows, cols);
}

std::vector<Mix> mixes() {
  return {
      {"window 3", 3, 0, 0.0, 0, true},
      {"window 0 (self-loops only)", 0, 0, 0.0, 0, true},
      {"blocks 8", -1, 8, 0.0, 0, true},
      {"blocks 16 + random", -1, 16, 0.05, 0, true},
      {"random 0.1", -1, 0, 0.1, 0, true},
      {"random 0.3, no self-loops", -1, 0, 0.3, 0, false},
      {"global 4", -1, 0, 0.0, 4, true},
      {"window 5 + global 6 + random", 5, 0, 0.04, 6, true},
      {"blocks 8 + global 3 + random", -1, 8, 0.08, 3, true},
      {"window 2 + blocks 6 + global 2", 2, 6, 0.0, 2, false},
      // A dense run of 20 rows (GEMM on the run) and ~20 scattered global rows (the hop packs
      // them 16 at a time).
      {"blocks 8 + global 40", -1, 8, 0.02, 40, true},
  };
}

const std::vector<Index> kSizes = {1, 2, 3, 5, 8, 17, 64, 131, 300};

bool holds(const CsrGraph& g, Index i, Index key) {
  const auto c = g.columns();
  return std::binary_search(c.begin() + g.offsets()[i], c.begin() + g.offsets()[i + 1], key);
}

// Keys of row i's edges that RowTiles marks shared (ascending) and the others.
void split_row(const CsrGraph& g, const RowTiles& tiles, Index i, std::vector<Index>& shared,
               std::vector<Index>& rest) {
  shared.clear();
  rest.clear();
  for (Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) {
    (tiles.shared(e) ? shared : rest).push_back(g.columns()[e]);
  }
}

// Every invariant of RowTiles that the tiled hop relies on (RowTiles.hpp).
void check_tiles(const AttentionPlan& plan) {
  const CsrGraph& g = plan.pattern();
  const RowTiles& tiles = plan.row_tiles();
  const Index n = g.n();
  REQUIRE(tiles.shared_bits().size() == static_cast<std::size_t>((g.nnz() + 63) / 64));
  std::vector<char> dense(static_cast<std::size_t>(n), 0);
  for (const RowRange& run : plan.dense_runs()) {
    for (Index i = run.begin; i < run.end; ++i) {
      dense[i] = 1;
      for (Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) REQUIRE_FALSE(tiles.shared(e));
    }
  }
  std::vector<int> covered(static_cast<std::size_t>(n), 0);
  Index previous_end = 0, max_shared = 0;
  std::int64_t shared_edges = 0;
  std::vector<Index> keys, shared, rest;
  for (const RowTile& t : tiles.tiles()) {
    REQUIRE(t.rows >= 1);
    REQUIRE(t.rows <= kRowTileRows);
    REQUIRE(t.row_begin >= previous_end);  // in row order
    previous_end = t.row_begin + t.rows;
    REQUIRE(previous_end <= n);
    for (Index i = t.row_begin; i < previous_end; ++i) {
      REQUIRE_FALSE(dense[i]);  // never crosses (or holds) a dense row
      ++covered[i];
    }
    if (t.rows == 1) REQUIRE(t.shared == 0);
    max_shared = std::max(max_shared, t.shared);
    shared_edges += static_cast<std::int64_t>(t.shared) * t.rows;
    // Every row's shared edges have the same keys in the same ascending order (so the kernel's
    // slot k is the k-th shared edge of every row); with the remainder they are all its edges,
    // each once.
    split_row(g, tiles, t.row_begin, keys, rest);
    REQUIRE(static_cast<Index>(keys.size()) == t.shared);
    for (std::size_t k = 1; k < keys.size(); ++k) REQUIRE(keys[k - 1] < keys[k]);
    for (Index i = t.row_begin; i < previous_end; ++i) {
      split_row(g, tiles, i, shared, rest);
      REQUIRE(shared == keys);
      REQUIRE(static_cast<Index>(shared.size() + rest.size()) == g.degree(i));
      for (std::size_t k = 1; k < rest.size(); ++k) REQUIRE(rest[k - 1] < rest[k]);
      std::vector<Index> all;
      std::merge(shared.begin(), shared.end(), rest.begin(), rest.end(), std::back_inserter(all));
      const auto row = g.columns().subspan(g.offsets()[i], g.degree(i));
      REQUIRE(all == std::vector<Index>(row.begin(), row.end()));
    }
    // Shared exactly when every row of the tile (of two rows or more) holds the key.
    for (Index e = g.offsets()[t.row_begin]; e < g.offsets()[t.row_begin + 1]; ++e) {
      bool all = t.rows > 1;
      for (Index i = t.row_begin; i < previous_end; ++i) all = all && holds(g, i, g.columns()[e]);
      REQUIRE(all == tiles.shared(e));
    }
  }
  for (Index i = 0; i < n; ++i) REQUIRE(covered[i] == (dense[i] ? 0 : 1));
  REQUIRE(tiles.max_shared() == max_shared);
  REQUIRE(tiles.shared_edges() == shared_edges);
  // Blocks: 0, strictly increasing, ending at the last tile.
  const auto blocks = tiles.tile_blocks();
  REQUIRE(!blocks.empty());
  REQUIRE(blocks.front() == 0);
  REQUIRE(blocks.back() == static_cast<Index>(tiles.tiles().size()));
  for (std::size_t b = 1; b < blocks.size(); ++b) REQUIRE(blocks[b - 1] < blocks[b]);
  REQUIRE(tiles.block_count() == static_cast<std::int64_t>(blocks.size()) - 1);
}

// The hop from its definition, in double: out_i = c1 · sum_e a[e, h] y[col e] + c0 · v_i over
// row i's edges with key < len, rows i >= len 0; `scale` gets the same sum over absolute values
// (the size a rounding error is measured against).
template <typename T>
std::vector<double> oracle_hop(const CsrGraph& g, const cpu::SequenceShape& s,
                               const std::vector<T>& a, EdgeLayout layout, const std::vector<T>& y,
                               double c1, const std::vector<T>& v, double c0,
                               std::vector<double>& scale) {
  const Index n = g.n();
  std::vector<double> out(static_cast<std::size_t>(n * s.width), 0.0);
  scale.assign(out.size(), 0.0);
  for (Index i = 0; i < s.len; ++i) {
    for (int h = 0; h < s.heads; ++h) {
      for (int d = 0; d < s.head_dim; ++d) {
        const std::int64_t c = static_cast<std::int64_t>(h) * s.head_dim + d;
        double sum = 0, size = 0;
        for (Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) {
          const Index j = g.columns()[e];
          if (j >= s.len) continue;
          const double term = static_cast<double>(a[layout.at(e, h)]) * y[j * s.width + c];
          sum += term;
          size += std::abs(term);
        }
        const double vc = c0 != 0 ? c0 * static_cast<double>(v[i * s.width + c]) : 0.0;
        out[i * s.width + c] = c1 * sum + vc;
        scale[i * s.width + c] = std::abs(c1) * size + std::abs(vc);
      }
    }
  }
  return out;
}

// Largest |x - want| relative to the oracle's scale of that value.
template <typename T>
double scaled_error(const std::vector<T>& x, const std::vector<double>& want,
                    const std::vector<double>& scale) {
  REQUIRE(x.size() == want.size());
  double worst = 0;
  for (std::size_t q = 0; q < x.size(); ++q) {
    const double err = std::abs(static_cast<double>(x[q]) - want[q]);
    if (!(err <= std::numeric_limits<double>::max())) return err;  // NaN or inf
    if (err > 0) worst = std::max(worst, err / std::max(scale[q], 1e-300));
  }
  return worst;
}

// One hop on poisoned output; the padded rows of y and v and the values of edges to padded keys
// are NaN, so any use of them shows.
template <typename T>
struct HopInputs {
  std::vector<T> a, y, v;
};

template <typename T>
HopInputs<T> hop_inputs(const CsrGraph& g, const cpu::SequenceShape& s, EdgeLayout layout,
                        std::uint64_t seed) {
  const Index n = g.n();
  const std::size_t size = static_cast<std::size_t>(n * s.width);
  HopInputs<T> x{random_tensor<T>(static_cast<std::size_t>(g.nnz() * s.heads), seed),
                 random_tensor<T>(size, seed + 1), random_tensor<T>(size, seed + 2)};
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (Index j = s.len; j < n; ++j) {
    std::fill(x.y.begin() + j * s.width, x.y.begin() + (j + 1) * s.width, nan);
    std::fill(x.v.begin() + j * s.width, x.v.begin() + (j + 1) * s.width, nan);
  }
  for (std::int64_t e = 0; e < g.nnz(); ++e) {
    if (g.columns()[e] < s.len) continue;
    for (int h = 0; h < s.heads; ++h) x.a[layout.at(e, h)] = nan;
  }
  return x;
}

template <typename T>
std::vector<T> hop(const AttentionPlan& plan, const cpu::SequenceShape& s, const HopInputs<T>& x,
                   EdgeLayout layout, T c1, T c0) {
  auto out = diffuser::testing::poisoned<T>(x.y.size());
  cpu::spmm_hop_forward<T>(plan, s, x.a.data(), layout, x.y.data(), c1, x.v.data(), c0, out.data());
  return out;
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

struct HeadShape {
  int heads, dim;
};
// D = 1, D not a multiple of any vector width, exactly one or several vectors, D = 64.
const std::vector<HeadShape> kHeadShapes = {{1, 1},  {2, 5},  {3, 7},  {1, 16},
                                            {2, 24}, {1, 33}, {1, 64}, {2, 20}};

template <typename T>
void check_hop_against_oracle(double tolerance) {
  std::uint64_t seed = 900;
  int shape = 0;
  for (const Mix& m : mixes()) {
    for (const Index n : {Index{1}, Index{7}, Index{64}, Index{131}}) {
      const CsrGraph g = mixed_pattern(n, m, seed++);
      const AttentionPlan tiled(g), untiled(g, PlanOptions{true, false}),
          sparse_tiled(g, PlanOptions{false, true});
      REQUIRE(untiled.row_tiles().empty());
      const HeadShape hs = kHeadShapes[shape++ % kHeadShapes.size()];
      const std::int64_t width = static_cast<std::int64_t>(hs.heads) * hs.dim;
      for (const Index len : {n, std::max<Index>(1, n - n / 3), std::max<Index>(1, n / 5)}) {
        for (const T c0 : {T(0), T(0.375)}) {
          for (const bool edge_major : {false, true}) {
            const EdgeLayout layout =
                edge_major ? EdgeLayout::edge_major(hs.heads) : EdgeLayout::head_major(g.nnz());
            const cpu::SequenceShape s{hs.heads, hs.dim, width, len};
            const auto x = hop_inputs<T>(g, s, layout, seed++);
            const T c1 = T(0.75);
            INFO(m.name << ", n = " << n << ", len = " << len << ", H = " << hs.heads << ", D = "
                        << hs.dim << ", c0 = " << c0 << (edge_major ? ", [nnz, H]" : ", [H, nnz]"));
            std::vector<double> scale;
            const auto want = oracle_hop(g, s, x.a, layout, x.y, c1, x.v, c0, scale);
            const auto got = hop(tiled, s, x, layout, c1, c0);
            const auto plain = hop(untiled, s, x, layout, c1, c0);
            const auto all_sparse = hop(sparse_tiled, s, x, layout, c1, c0);
            CHECK(scaled_error(got, want, scale) <= tolerance);
            CHECK(scaled_error(plain, want, scale) <= tolerance);
            CHECK(scaled_error(all_sparse, want, scale) <= tolerance);
            for (std::size_t q = static_cast<std::size_t>(len * width); q < got.size(); ++q) {
              REQUIRE(got[q] == T(0));
              REQUIRE(all_sparse[q] == T(0));
            }
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("Row tiles: invariants on window, block, random, global patterns and mixtures",
          "[attention][row-tiles]") {
  std::uint64_t seed = 100;
  for (const Mix& m : mixes()) {
    for (const Index n : kSizes) {
      INFO(m.name << ", n = " << n);
      const CsrGraph g = mixed_pattern(n, m, seed++);
      const AttentionPlan plan(g);
      check_tiles(plan);
      // Without dense runs every row is tiled; without tiles there are none.
      const AttentionPlan all_sparse(g, PlanOptions{false, true});
      REQUIRE(all_sparse.dense_runs().empty());
      check_tiles(all_sparse);
      const AttentionPlan untiled(g, PlanOptions{true, false});
      REQUIRE(untiled.row_tiles().empty());
      REQUIRE(untiled.row_tiles().block_count() == 0);
      REQUIRE(plan.bytes() >= untiled.bytes());
    }
  }
  // The pattern builders' own families.
  for (const std::string spec :
       {"window=4", "blocks=16", "window=2,global=3,random=4", "preset=bigbird",
        "blocks=8,global=5,global-positions=random,random=3"}) {
    for (const Index n : {Index{1}, Index{9}, Index{100}, Index{300}}) {
      INFO(spec << ", n = " << n);
      check_tiles(AttentionPlan(
          diffuser::graph::build_pattern(n, diffuser::graph::parse_pattern_spec(spec))));
    }
  }
}

TEST_CASE("Row tiles: a band shares the keys all tile rows hold", "[attention][row-tiles]") {
  // Window of radius 2 over 10 rows, no dense runs: tiles rows 0-3, 4-7, 8-9; tile 0's rows
  // hold keys 0..5 and all four hold 1, 2; tile 1 (rows 4..7) shares 5, 6; tile 2 (rows 8, 9)
  // shares 7..9.
  const AttentionPlan plan(mixed_pattern(10, {"", 2, 0, 0.0, 0, true}, 1));
  const RowTiles& tiles = plan.row_tiles();
  REQUIRE(tiles.tiles().size() == 3);
  CHECK(tiles.tiles()[2].row_begin == 8);
  CHECK(tiles.tiles()[2].rows == 2);
  std::vector<Index> shared, rest;
  split_row(plan.pattern(), tiles, 3, shared, rest);
  CHECK(shared == std::vector<Index>{1, 2});
  CHECK(rest == std::vector<Index>{3, 4, 5});
  split_row(plan.pattern(), tiles, 4, shared, rest);
  CHECK(shared == std::vector<Index>{5, 6});
  split_row(plan.pattern(), tiles, 9, shared, rest);
  CHECK(shared == std::vector<Index>{7, 8, 9});
  CHECK(rest.empty());
  CHECK(tiles.shared_edges() == 4 * 2 + 4 * 2 + 2 * 3);
}

TEST_CASE("Tiled hop matches the oracle and the untiled hop in float", "[attention][row-tiles]") {
  // Rounding error of a sum of m terms in T, against the sum of their absolute values: at most
  // about m · eps (m <= 131 here), typically sqrt(m) · eps.
  check_hop_against_oracle<float>(2e-6);
}

TEST_CASE("Tiled hop matches the oracle and the untiled hop in double", "[attention][row-tiles]") {
  check_hop_against_oracle<double>(4e-15);
}

TEST_CASE("Forward with row tiles matches the reference kernels", "[attention][row-tiles]") {
  // The whole diffusion forward (K hops through the tiled kernel) against the plain reference.
  std::uint64_t seed = 40;
  for (const Mix& m : mixes()) {
    const Index n = 97;
    const AttentionPlan plan(mixed_pattern(n, m, seed++));
    REQUIRE_FALSE(plan.row_tiles().empty());
    AttentionOptions o;
    o.heads = 2;
    o.diffusion = Diffusion::ppr(0.2, 4);
    const int dim = 12;
    const std::vector<Index> lengths = {n, 70};
    const std::size_t size = lengths.size() * n * o.heads * dim;
    const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
               v = random_tensor<float>(size, 3);
    const auto fast =
        run_forward<float>(plan, o, q, k, v, 2, lengths, nullptr, Kernels::kOptimized);
    const auto ref = run_forward<float>(plan, o, q, k, v, 2, lengths, nullptr, Kernels::kReference);
    INFO(m.name);
    CHECK(rel_error(fast, ref) <= 1e-5);
  }
}

TEST_CASE("Tiled hop: 1 thread and 2 threads give bitwise identical results",
          "[attention][row-tiles][determinism]") {
  // Many tile blocks (large enough to open a parallel region), dense runs next to band rows.
  for (const Mix& m : {mixes()[7], mixes()[8], mixes()[10]}) {
    const CsrGraph g = mixed_pattern(300, m, 5);
    const AttentionPlan plan(g);
    REQUIRE(plan.row_tiles().block_count() > 8);
    for (const Index len : {Index{300}, Index{211}}) {
      const cpu::SequenceShape s{2, 20, 40, len};
      const EdgeLayout layout = EdgeLayout::head_major(g.nnz());
      const auto x = hop_inputs<float>(g, s, layout, 77);
      std::vector<float> one, two;
      {
        diffuser::ThreadCountGuard guard(1);
        one = hop(plan, s, x, layout, 0.5f, 0.25f);
      }
      {
        diffuser::ThreadCountGuard guard(2);
        two = hop(plan, s, x, layout, 0.5f, 0.25f);
      }
      INFO(m.name << ", len = " << len);
      CHECK(bitwise_equal(one, two));
    }
  }
}
