// Why: the pattern builders. A row is assembled from (1) one contiguous interval of keys that
// contains i (self-loop, window, blocks, full or global row: each contains i, so their union is
// an interval), (2) a short sorted list of "extra" keys outside that interval (dilated, global
// keys, expander and random-cell keys), and (3) the random keys, drawn last among the keys
// still missing. Pass 1 counts each row, pass 2 writes it at its prefix-summed offset; both are
// parallel over rows, and every random draw depends only on (seed, component, row), so the
// graph is identical for any thread count. Memory is the output plus O(n) (O(n D) for expander
// and O(M) for random cells).
#include "graph/Patterns.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <numeric>

#include "core/Error.hpp"
#include "core/MemoryBudget.hpp"
#include "core/Rng.hpp"
#include "graph/GraphOps.hpp"

namespace diffuser::graph {

std::uint64_t pattern_stream_seed(std::uint64_t seed, PatternStream component,
                                  std::uint64_t index) {
  std::uint64_t state = seed;
  const std::uint64_t a = splitmix64(state);
  state = a ^ (static_cast<std::uint64_t>(component) * 0xD1B54A32D192ED03ULL);
  const std::uint64_t b = splitmix64(state);
  state = b ^ index;
  return splitmix64(state);
}

namespace {

/// Below this many rows a loop runs on one thread (thread start-up would dominate).
constexpr Index kParallelRows = 4096;

/// Floyd's sampling into a reused sorted buffer. Each new t exceeds every value chosen so
/// far, so it is appended; a fresh x is inserted at its sorted place.
template <typename T>
void floyd_into(Rng& rng, std::int64_t range, std::int64_t count, std::vector<T>& chosen) {
  chosen.clear();
  for (std::int64_t t = range - count; t < range; ++t) {
    const auto x = static_cast<T>(rng.uniform_below(static_cast<std::uint64_t>(t) + 1));
    const auto it = std::lower_bound(chosen.begin(), chosen.end(), x);
    if (it != chosen.end() && *it == x) {
      chosen.push_back(static_cast<T>(t));
    } else {
      chosen.insert(it, x);
    }
  }
}

/// Per-pattern data shared by all rows.
struct Context {
  Index n = 0;
  const PatternSpec* spec = nullptr;
  std::vector<Index> globals;           // sorted global positions
  std::vector<std::uint8_t> is_global;  // n flags
  CsrGraph expander;                    // expander edges (empty graph when unused)
  CsrGraph cells;                       // random-cell edges (empty graph when unused)
};

/// Floyd's sampling tuned for the per-row random keys. It draws exactly the set floyd_into
/// would (the set depends only on the draws and on membership, not on how membership is
/// tested): membership uses an open-addressing hash table at most 1/4 full, and the sample is
/// sorted by a counting sort on value buckets (bucket = value * B / range, monotone in value,
/// B about 2R) followed by an insertion-sort pass over the nearly sorted result.
/// O(R) expected time per row, with few unpredictable branches.
class BucketSampler {
 public:
  /// Appends `count` distinct sorted values from [0, range) to `out` (0 < count < range).
  void sample(Rng& rng, std::int64_t range, std::int64_t count, std::vector<Index>& out) {
    std::size_t slots = 16;
    while (slots < 4 * static_cast<std::size_t>(count)) slots *= 2;
    const std::size_t mask = slots - 1;
    const int shift = 64 - std::countr_zero(slots);
    slots_.assign(slots, -1);
    values_.clear();
    auto home = [&](std::uint64_t x) {
      return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ULL) >> shift);
    };
    for (std::int64_t t = range - count; t < range; ++t) {
      auto x = static_cast<Index>(rng.uniform_below(static_cast<std::uint64_t>(t) + 1));
      std::size_t h = home(static_cast<std::uint64_t>(x));
      while (slots_[h] >= 0 && slots_[h] != x) h = (h + 1) & mask;
      if (slots_[h] == x) {
        x = static_cast<Index>(t);  // x already chosen: take t, larger than every value so far
        h = home(static_cast<std::uint64_t>(x));
        while (slots_[h] >= 0) h = (h + 1) & mask;
      }
      slots_[h] = x;
      values_.push_back(x);
    }
    // Counting sort on monotone value buckets, then insertion sort within equal buckets.
    std::size_t buckets = 16;
    while (buckets < 2 * static_cast<std::size_t>(count)) buckets *= 2;
    const bool direct = static_cast<std::int64_t>(buckets) >= range;
    if (direct) buckets = static_cast<std::size_t>(range);
    const std::uint64_t mult =
        direct ? 0
               : static_cast<std::uint64_t>((static_cast<Uint128>(buckets) << 64) /
                                            static_cast<std::uint64_t>(range));
    auto bucket_of = [&](Index x) {
      const auto u = static_cast<std::uint64_t>(x);
      return static_cast<std::size_t>(
          direct ? u : static_cast<std::uint64_t>((static_cast<Uint128>(u) * mult) >> 64));
    };
    start_.assign(buckets + 1, 0);
    for (const Index v : values_) ++start_[bucket_of(v) + 1];
    for (std::size_t b = 0; b < buckets; ++b) start_[b + 1] += start_[b];
    const std::size_t first = out.size();
    out.resize(first + values_.size());
    for (const Index v : values_) out[first + start_[bucket_of(v)]++] = v;
    for (std::size_t q = first + 1; q < out.size(); ++q) {
      const Index v = out[q];
      std::size_t p = q;
      while (p > first && out[p - 1] > v) {
        out[p] = out[p - 1];
        --p;
      }
      out[p] = v;
    }
  }

 private:
  std::vector<Index> slots_;
  std::vector<Index> values_;
  std::vector<std::uint32_t> start_;
};

/// Thread-local scratch for one row.
struct RowScratch {
  std::vector<Index> extras;
  std::vector<Index> base;
  std::vector<Index> ranks;
  BucketSampler sampler;
};

/// The interval part of row i: [lo, hi], always containing i.
struct Interval {
  std::int64_t lo, hi;
};

Interval row_interval(const Context& c, Index i) {
  const PatternSpec& s = *c.spec;
  const std::int64_t n = c.n;
  std::int64_t lo = i, hi = i;
  if (c.is_global[i] || s.full) {
    lo = 0;
    hi = n - 1;
  } else {
    if (s.window > 0) {
      lo = std::max<std::int64_t>(0, i - static_cast<std::int64_t>(s.window));
      hi = std::min<std::int64_t>(n - 1, i + static_cast<std::int64_t>(s.window));
    }
    if (s.blocks > 0) {
      const std::int64_t chunk = s.blocks / 2;
      const std::int64_t b = i / chunk;
      lo = std::min(lo, std::max<std::int64_t>(0, (b - 1) * chunk));
      hi = std::max(hi, std::min(n - 1, (b + 2) * chunk - 1));
    }
  }
  if (s.causal) hi = std::min<std::int64_t>(hi, i);
  return {lo, hi};
}

/// Appends the keys of `keys` (sorted) that lie outside [lo, hi] and below `limit`.
void append_outside(std::span<const Index> keys, const Interval& iv, std::int64_t limit,
                    std::vector<Index>& out) {
  const auto lo_it = std::lower_bound(keys.begin(), keys.end(), iv.lo);
  out.insert(out.end(), keys.begin(), lo_it);
  const auto hi_it = std::upper_bound(lo_it, keys.end(), iv.hi);
  const auto end_it = std::lower_bound(hi_it, keys.end(), limit);
  out.insert(out.end(), hi_it, end_it);
}

/// Sorted, duplicate-free keys of row i that lie outside its interval (dilated, global,
/// expander, random cells), restricted to keys < limit (i + 1 when causal, n otherwise).
void row_extras(const Context& c, Index i, const Interval& iv, std::int64_t limit, RowScratch& sc) {
  const PatternSpec& s = *c.spec;
  auto& ex = sc.extras;
  ex.clear();
  if (iv.lo == 0 && iv.hi == limit - 1) return;  // the interval already holds every allowed key
  int sources = 0;
  if (s.dilated > 0) {
    const std::int64_t d = s.dilation;
    const std::int64_t k_lo = std::max<std::int64_t>(-s.dilated, -(i / d));
    const std::int64_t k_hi = std::min<std::int64_t>(s.dilated, (limit - 1 - i) / d);
    for (std::int64_t k = k_lo; k <= k_hi; ++k) {
      const std::int64_t j = i + k * d;
      if (j < iv.lo || j > iv.hi) ex.push_back(static_cast<Index>(j));
    }
    ++sources;
  }
  if (!c.globals.empty()) {
    append_outside(c.globals, iv, limit, ex);
    ++sources;
  }
  if (c.expander.n() > 0) {
    append_outside(c.expander.row(i), iv, limit, ex);
    ++sources;
  }
  if (c.cells.n() > 0) {
    append_outside(c.cells.row(i), iv, limit, ex);
    ++sources;
  }
  if (sources > 1) {
    std::sort(ex.begin(), ex.end());
    ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
  }
}

/// Number of random keys row i receives, given its base size.
std::int64_t random_count(const Context& c, Index i, std::int64_t limit, std::int64_t base) {
  if (c.spec->random == 0 || c.is_global[i]) return 0;
  return std::min<std::int64_t>(c.spec->random, limit - base);
}

/// Writes the base row (interval merged with the extras, which all lie outside it) to out;
/// returns its length.
std::int64_t write_base(const Interval& iv, const std::vector<Index>& ex, Index* out) {
  const auto split = std::lower_bound(ex.begin(), ex.end(), iv.lo);
  Index* w = std::copy(ex.begin(), split, out);
  for (std::int64_t j = iv.lo; j <= iv.hi; ++j) *w++ = static_cast<Index>(j);
  w = std::copy(split, ex.end(), w);
  return w - out;
}

/// Writes row i (row_count entries) to out.
void write_row(const Context& c, Index i, Index* out, RowScratch& sc) {
  const PatternSpec& s = *c.spec;
  const std::int64_t limit = s.causal ? static_cast<std::int64_t>(i) + 1 : c.n;
  const Interval iv = row_interval(c, i);
  row_extras(c, i, iv, limit, sc);
  if (s.random == 0 || c.is_global[i]) {
    write_base(iv, sc.extras, out);
    return;
  }
  sc.base.resize(static_cast<std::size_t>(iv.hi - iv.lo + 1) + sc.extras.size() + 1);
  const std::int64_t base = write_base(iv, sc.extras, sc.base.data());
  sc.base[static_cast<std::size_t>(base)] = std::numeric_limits<Index>::max();  // sentinel
  const Index* b = sc.base.data();
  const std::int64_t available = limit - base;
  const std::int64_t r = std::min<std::int64_t>(s.random, available);
  sc.ranks.clear();
  if (r == available) {
    sc.ranks.resize(static_cast<std::size_t>(r));
    std::iota(sc.ranks.begin(), sc.ranks.end(), 0);
  } else if (r > 0) {
    Rng rng(pattern_stream_seed(s.seed, PatternStream::kRandomKeys, static_cast<std::uint64_t>(i)));
    sc.sampler.sample(rng, available, r, sc.ranks);
  }
  // Rank k (0-based, ascending) among the keys missing from the sorted base row is the key
  // k + p, where p counts the base keys below it. One branch-free merge: with p base keys
  // written so far, the next output is the base key b[p] when b[p] <= rank + p, else the key
  // rank + p (the sentinel after the base row ends the base side).
  std::int64_t p = 0, q = 0;
  Index* w = out;
  const std::int64_t nr = static_cast<std::int64_t>(sc.ranks.size());
  const Index* ranks = sc.ranks.data();
  while (q < nr) {
    const std::int64_t key = ranks[q] + p;
    const bool take_base = b[p] <= key;
    *w++ = take_base ? b[p] : static_cast<Index>(key);
    p += take_base ? 1 : 0;
    q += take_base ? 0 : 1;
  }
  std::copy(b + p, b + base, w);
}

/// Number of extras of row i when the global keys are the only extra source (no copy).
std::int64_t global_extras_count(const Context& c, const Interval& iv, std::int64_t limit) {
  if (iv.lo == 0 && iv.hi == limit - 1) return 0;
  const auto& g = c.globals;
  const auto lo_it = std::lower_bound(g.begin(), g.end(), iv.lo);
  const auto hi_it = std::upper_bound(lo_it, g.end(), iv.hi);
  const auto end_it = std::lower_bound(hi_it, g.end(), limit);
  return (lo_it - g.begin()) + (end_it - hi_it);
}

std::int64_t row_count(const Context& c, Index i, RowScratch& sc) {
  const PatternSpec& s = *c.spec;
  const std::int64_t limit = s.causal ? static_cast<std::int64_t>(i) + 1 : c.n;
  const Interval iv = row_interval(c, i);
  std::int64_t extras = 0;
  if (s.dilated == 0 && c.expander.n() == 0 && c.cells.n() == 0) {
    extras = global_extras_count(c, iv, limit);
  } else {
    row_extras(c, i, iv, limit, sc);
    extras = static_cast<std::int64_t>(sc.extras.size());
  }
  const std::int64_t base = iv.hi - iv.lo + 1 + extras;
  return base + random_count(c, i, limit, base);
}

/// The expander component: for d < D, a uniformly random permutation pi_d (Fisher-Yates with
/// its own stream) contributes edges (i, pi_d(i)) and (pi_d(i), i).
CsrGraph expander_edges(Index n, const PatternSpec& s) {
  const std::int64_t d_count = s.expander;
  DIFFUSER_CHECK(2 * d_count * n <= kMaxIndex,
                 "pattern: expander {} on n = {} needs {} edges, more than the int32 limit {}",
                 s.expander, n, 2 * d_count * n, kMaxIndex);
  const std::size_t per = 2 * static_cast<std::size_t>(n);
  std::vector<Index> rows(per * static_cast<std::size_t>(d_count));
  std::vector<Index> cols(rows.size());
#pragma omp parallel for schedule(dynamic, 1) if (d_count * n > 65536)
  for (std::int64_t d = 0; d < d_count; ++d) {
    std::vector<Index> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    Rng rng(pattern_stream_seed(s.seed, PatternStream::kExpander, static_cast<std::uint64_t>(d)));
    for (std::int64_t t = n - 1; t >= 1; --t) {
      const auto u =
          static_cast<std::int64_t>(rng.uniform_below(static_cast<std::uint64_t>(t) + 1));
      std::swap(perm[t], perm[u]);
    }
    const std::size_t base = per * static_cast<std::size_t>(d);
    for (Index i = 0; i < n; ++i) {
      rows[base + 2 * i] = i;
      cols[base + 2 * i] = perm[i];
      rows[base + 2 * i + 1] = perm[i];
      cols[base + 2 * i + 1] = i;
    }
  }
  return CsrGraph::from_edges(n, rows, cols);
}

/// The random-cells component: M cells (i, j), i and j uniform in [0, n) (with replacement;
/// duplicates merge). Draw k comes from chunk k / kRandomCellsChunk's stream, i first, then j.
CsrGraph random_cell_edges(Index n, const PatternSpec& s) {
  const std::int64_t m = s.random_cells;
  DIFFUSER_CHECK(m <= kMaxIndex, "pattern: random-cells {} exceeds the int32 edge limit {}", m,
                 kMaxIndex);
  std::vector<Index> rows(static_cast<std::size_t>(m));
  std::vector<Index> cols(rows.size());
  const std::int64_t chunks = (m + kRandomCellsChunk - 1) / kRandomCellsChunk;
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    Rng rng(
        pattern_stream_seed(s.seed, PatternStream::kRandomCells, static_cast<std::uint64_t>(ch)));
    const std::int64_t end = std::min(m, (ch + 1) * kRandomCellsChunk);
    for (std::int64_t k = ch * kRandomCellsChunk; k < end; ++k) {
      rows[k] = static_cast<Index>(rng.uniform_below(static_cast<std::uint64_t>(n)));
      cols[k] = static_cast<Index>(rng.uniform_below(static_cast<std::uint64_t>(n)));
    }
  }
  return CsrGraph::from_edges(n, rows, cols);
}

std::vector<Index> prefix_offsets(const std::vector<std::int64_t>& counts, Index n,
                                  const PatternSpec& spec) {
  std::vector<Index> offsets(static_cast<std::size_t>(n) + 1, 0);
  std::int64_t total = 0;
  for (Index i = 0; i < n; ++i) total += counts[i];
  DIFFUSER_CHECK(total <= kMaxIndex,
                 "pattern '{}' on n = {} tokens has {} edges, more than the int32 limit {}",
                 format_pattern_spec(spec), n, total, kMaxIndex);
  std::int64_t run = 0;
  for (Index i = 0; i < n; ++i) {
    run += counts[i];
    offsets[i + 1] = static_cast<Index>(run);
  }
  return offsets;
}

/// Token-level builder (block_size 1, no crop).
CsrGraph build_tokens(Index n, const PatternSpec& spec) {
  Context c;
  c.n = n;
  c.spec = &spec;
  c.globals = global_positions(n, spec);
  c.is_global.assign(static_cast<std::size_t>(n), 0);
  for (const Index g : c.globals) c.is_global[g] = 1;
  if (spec.expander > 0) c.expander = expander_edges(n, spec);
  if (spec.random_cells > 0) c.cells = random_cell_edges(n, spec);

  std::vector<std::int64_t> counts(static_cast<std::size_t>(n), 0);
#pragma omp parallel if (n > kParallelRows)
  {
    RowScratch sc;
#pragma omp for schedule(dynamic, 512)
    for (Index i = 0; i < n; ++i) counts[i] = row_count(c, i, sc);
  }
  std::vector<Index> offsets = prefix_offsets(counts, n, spec);
  counts = {};
  std::vector<Index> columns(static_cast<std::size_t>(offsets[n]));
#pragma omp parallel if (n > kParallelRows)
  {
    RowScratch sc;
    sc.ranks.reserve(static_cast<std::size_t>(spec.random));
#pragma omp for schedule(dynamic, 512)
    for (Index i = 0; i < n; ++i) write_row(c, i, columns.data() + offsets[i], sc);
  }
  return CsrGraph(n, std::move(offsets), std::move(columns));
}

/// Block-level builder: the pattern on ceil(n / B) blocks, each block edge (bi, bj) expanded to
/// all token pairs (i, j) with i in block bi and j in block bj (then j <= i when causal).
CsrGraph build_blocked(Index n, const PatternSpec& spec) {
  const std::int64_t bs = spec.block_size;
  const auto nb = static_cast<Index>((n + bs - 1) / bs);
  PatternSpec inner = spec;
  inner.block_size = 1;
  const CsrGraph blocks = build_tokens(nb, inner);
  auto block_len = [&](Index kb) {
    return std::min<std::int64_t>(bs, n - static_cast<std::int64_t>(kb) * bs);
  };
  std::vector<std::int64_t> counts(static_cast<std::size_t>(n), 0);
#pragma omp parallel for schedule(dynamic, 512) if (n > kParallelRows)
  for (Index i = 0; i < n; ++i) {
    const Index bi = static_cast<Index>(i / bs);
    std::int64_t cnt = 0;
    for (const Index kb : blocks.row(bi)) {
      cnt += (spec.causal && kb == bi) ? i - static_cast<std::int64_t>(kb) * bs + 1 : block_len(kb);
    }
    counts[i] = cnt;
  }
  std::vector<Index> offsets = prefix_offsets(counts, n, spec);
  counts = {};
  std::vector<Index> columns(static_cast<std::size_t>(offsets[n]));
#pragma omp parallel for schedule(dynamic, 512) if (n > kParallelRows)
  for (Index i = 0; i < n; ++i) {
    const Index bi = static_cast<Index>(i / bs);
    Index* w = columns.data() + offsets[i];
    for (const Index kb : blocks.row(bi)) {
      const std::int64_t start = static_cast<std::int64_t>(kb) * bs;
      const std::int64_t end = (spec.causal && kb == bi) ? i + 1 : start + block_len(kb);
      for (std::int64_t j = start; j < end; ++j) *w++ = static_cast<Index>(j);
    }
  }
  return CsrGraph(n, std::move(offsets), std::move(columns));
}

}  // namespace

std::vector<std::int64_t> floyd_sample(std::uint64_t stream_seed, std::int64_t range,
                                       std::int64_t count) {
  DIFFUSER_CHECK(range >= 0 && count >= 0 && count <= range,
                 "floyd_sample: cannot draw {} distinct values from [0, {})", count, range);
  Rng rng(stream_seed);
  std::vector<std::int64_t> chosen;
  chosen.reserve(static_cast<std::size_t>(count));
  floyd_into(rng, range, count, chosen);
  return chosen;
}

std::vector<Index> global_positions(Index n, const PatternSpec& spec) {
  validate_spec(spec);
  DIFFUSER_CHECK(n >= 0, "pattern: n = {} is negative", n);
  std::vector<Index> pos;
  if (spec.global_positions == GlobalPositions::kList) {
    pos = spec.global_list;
    std::sort(pos.begin(), pos.end());
    for (std::size_t k = 0; k < pos.size(); ++k) {
      DIFFUSER_CHECK(pos[k] >= 0 && pos[k] < n,
                     "pattern: global position {} is outside [0, {}) (n = {})", pos[k], n, n);
      DIFFUSER_CHECK(k == 0 || pos[k] != pos[k - 1], "pattern: global position {} is repeated",
                     pos[k]);
    }
    return pos;
  }
  const std::int64_t g = std::min<std::int64_t>(spec.global, n);
  pos.resize(static_cast<std::size_t>(g));
  switch (spec.global_positions) {
    case GlobalPositions::kFirst:
      std::iota(pos.begin(), pos.end(), 0);
      break;
    case GlobalPositions::kSpread:
      for (std::int64_t k = 0; k < g; ++k) {
        pos[k] = g == 1 ? 0 : static_cast<Index>(k * (static_cast<std::int64_t>(n) - 1) / (g - 1));
      }
      break;
    case GlobalPositions::kRandom: {
      const auto sample =
          floyd_sample(pattern_stream_seed(spec.seed, PatternStream::kGlobalPositions, 0), n, g);
      for (std::int64_t k = 0; k < g; ++k) pos[k] = static_cast<Index>(sample[k]);
      break;
    }
    case GlobalPositions::kList:
      break;
  }
  return pos;
}

namespace {

/// A lower bound on the edges of `spec` on n tokens, from the parts whose size is known without
/// building anything: full rows (full pattern, global rows) and the window around each query.
/// Blocks, random keys and the rest only add edges, so the bound holds for every pattern.
std::int64_t edge_lower_bound(Index n, const PatternSpec& spec) {
  const auto nn = static_cast<std::int64_t>(n);
  const std::int64_t triangle = nn * (nn + 1) / 2;
  if (spec.full) return spec.causal ? triangle : nn * nn;
  const std::int64_t r = std::min<std::int64_t>(spec.window, nn - 1);
  // Non-causal: every row holds [i - r, i + r] clipped to [0, n), at least r + 1 keys. Causal:
  // row i holds min(i, r) + 1 keys.
  const std::int64_t window = spec.causal ? r * (r + 1) / 2 + (nn - r) * (r + 1) : nn * (r + 1);
  const std::int64_t globals = spec.global_positions == GlobalPositions::kList
                                   ? static_cast<std::int64_t>(spec.global_list.size())
                                   : std::min<std::int64_t>(spec.global, nn);
  // Non-causal global rows hold all n keys (causal ones may hold as few as one).
  return std::max(window, spec.causal ? nn : globals * nn);
}

/// Refuses, before any allocation, a pattern that cannot fit the int32 edge limit or this
/// machine's memory (offsets, per-row counts and at least edge_lower_bound columns).
void check_pattern_size(Index n, const PatternSpec& spec) {
  const std::int64_t edges = edge_lower_bound(n, spec);
  DIFFUSER_CHECK(edges <= kMaxIndex,
                 "pattern '{}' on n = {} tokens has at least {} edges, more than the int32 limit "
                 "{} (docs/architecture.md, \"Index width\")",
                 format_pattern_spec(spec), n, edges, kMaxIndex);
  const auto nn = static_cast<std::uint64_t>(n);
  check_memory_budget(13 * nn + 4 * static_cast<std::uint64_t>(edges),
                      fmt::format("pattern '{}' on n = {} tokens", format_pattern_spec(spec), n));
}

}  // namespace

CsrGraph build_pattern(Index n, const PatternSpec& spec) {
  validate_spec(spec);
  DIFFUSER_CHECK(n >= 0, "pattern: n = {} is negative", n);
  if (spec.crop_from > 0) {
    DIFFUSER_CHECK(n <= spec.crop_from,
                   "pattern: n = {} exceeds crop-from = {} (the pattern is built at crop-from "
                   "tokens and cropped to n)",
                   n, spec.crop_from);
    PatternSpec inner = spec;
    inner.crop_from = 0;
    return crop(build_pattern(spec.crop_from, inner), n);
  }
  if (n == 0) return CsrGraph();
  check_pattern_size(n, spec);
  if (spec.block_size > 1) return build_blocked(n, spec);
  return build_tokens(n, spec);
}

}  // namespace diffuser::graph
