// Why: building the run/single/full-column plan and the chunked, thread-count independent
// prefix sums behind it.
#include "spectral/RowSumPlan.hpp"

#include <algorithm>
#include <cstdint>

#include "core/Error.hpp"
#include "core/Threads.hpp"

namespace diffuser::spectral {

RowSumPlan::RowSumPlan(const graph::CsrGraph& pattern) : n_(pattern.n()) {
  const graph::Index n = n_;
  // Full columns: in-degree n (a 0/1 pattern has no duplicate edges). Counted per block of rows
  // in parallel, then added (integers: the same for any thread count).
  const int blocks = static_cast<int>(std::clamp<std::int64_t>(num_threads(), 1, 8));
  std::vector<std::vector<graph::Index>> part(blocks, std::vector<graph::Index>(n, 0));
  const auto off = pattern.offsets();
  const auto col = pattern.columns();
#pragma omp parallel for schedule(static, 1) if (pattern.nnz() > 100000)
  for (int b = 0; b < blocks; ++b) {
    const graph::Index lo = static_cast<graph::Index>(std::int64_t{n} * b / blocks);
    const graph::Index hi = static_cast<graph::Index>(std::int64_t{n} * (b + 1) / blocks);
    for (graph::Index e = off[lo]; e < off[hi]; ++e) ++part[b][col[e]];
  }
  std::vector<graph::Index> indeg(n, 0);
  for (int b = 0; b < blocks; ++b) {
    for (graph::Index j = 0; j < n; ++j) indeg[j] += part[b][j];
  }
  std::vector<char> is_full(n, 0);
  for (graph::Index j = 0; j < n; ++j) {
    if (indeg[j] == n) {
      is_full[j] = 1;
      full_.push_back(j);
    }
  }
  // Count, then fill, runs and singles per row (rows in parallel).
  std::vector<std::int64_t> nruns(static_cast<std::size_t>(n) + 1, 0), nsingles(nruns);
  auto scan_row = [&](graph::Index i, graph::Index* runs, graph::Index* singles,
                      std::int64_t& r_count, std::int64_t& s_count) {
    const auto cols = pattern.row(i);
    std::size_t a = 0;
    r_count = s_count = 0;
    while (a < cols.size()) {
      std::size_t b = a + 1;
      while (b < cols.size() && cols[b] == cols[b - 1] + 1) ++b;
      if (static_cast<graph::Index>(b - a) >= kMinRun) {
        if (runs != nullptr) {
          runs[2 * r_count] = cols[a];
          runs[2 * r_count + 1] = cols[b - 1] + 1;
        }
        ++r_count;
      } else {
        for (std::size_t k = a; k < b; ++k) {
          if (is_full[cols[k]]) continue;
          if (singles != nullptr) singles[s_count] = cols[k];
          ++s_count;
        }
      }
      a = b;
    }
  };
#pragma omp parallel for schedule(static) if (pattern.nnz() > 100000)
  for (graph::Index i = 0; i < n; ++i) {
    scan_row(i, nullptr, nullptr, nruns[i + 1], nsingles[i + 1]);
  }
  run_offsets_.assign(static_cast<std::size_t>(n) + 1, 0);
  single_offsets_.assign(static_cast<std::size_t>(n) + 1, 0);
  for (graph::Index i = 0; i < n; ++i) {
    run_offsets_[i + 1] = run_offsets_[i] + 2 * nruns[i + 1];
    single_offsets_[i + 1] = single_offsets_[i] + nsingles[i + 1];
  }
  runs_.resize(static_cast<std::size_t>(run_offsets_[n]));
  singles_.resize(static_cast<std::size_t>(single_offsets_[n]));
#pragma omp parallel for schedule(static) if (pattern.nnz() > 100000)
  for (graph::Index i = 0; i < n; ++i) {
    std::int64_t rc = 0, sc = 0;
    scan_row(i, runs_.data() + run_offsets_[i], singles_.data() + single_offsets_[i], rc, sc);
  }
}

namespace {

// A scratch buffer of doubles whose data() is 64-byte aligned, so that a block row of 8
// doubles is one cache line (a plain vector's heap block is only 16-byte aligned and every
// gathered row would straddle two lines).
struct AlignedScratch {
  std::vector<double> raw;
  double* get(std::size_t count) {
    if (raw.size() < count + 8) raw.resize(count + 8);
    const auto addr = reinterpret_cast<std::uintptr_t>(raw.data());
    return raw.data() + ((64 - addr % 64) % 64) / sizeof(double);
  }
};

struct BlockPlanView {
  graph::Index n;
  const graph::Index* full;
  std::size_t nfull;
  const std::int64_t* run_offsets;
  const graph::Index* runs;
  bool use_runs;
  const std::int64_t* single_offsets;
  const graph::Index* singles;
  bool parallel;
};

// The row sums for a compile-time block width B (B = 0: the width b at run time; B = 1 is
// RowSumPlan::row_sums). Every column follows the same arithmetic in the same order, so column
// k of a block equals the single-vector sums of column k bit for bit.
template <int B>
void block_row_sums(const BlockPlanView& v, const double* w, int b_runtime, double* out) {
  const int b = B > 0 ? B : b_runtime;
  const graph::Index n = v.n;
  const std::size_t nb = static_cast<std::size_t>(n) * b;
  // Scratch buffers live per calling thread and are reused across calls (a fresh n-vector per
  // product costs page faults and kernel page clearing on every Lanczos step). Inside the
  // parallel regions they are reached through plain pointers: a thread_local named there would
  // be the worker thread's own (empty) instance.
  thread_local AlignedScratch wz_buf, prefix_buf, chunk_buf;
  double c[RowSumPlan::kMaxBlock] = {};
  const double* wp = w;
  if (v.nfull > 0) {
    double* wz = wz_buf.get(nb);
    std::copy(w, w + nb, wz);
    for (std::size_t f = 0; f < v.nfull; ++f) {
      const std::size_t j = static_cast<std::size_t>(v.full[f]);
      for (int k = 0; k < b; ++k) {
        c[k] += w[j * b + k];
        wz[j * b + k] = 0.0;
      }
    }
    wp = wz;
  }
  double* prefix = nullptr;
  if (v.use_runs) {
    prefix = prefix_buf.get(nb + b);
    const graph::Index chunks = (n + RowSumPlan::kChunk - 1) / RowSumPlan::kChunk;
    double* chunk_sum = chunk_buf.get((static_cast<std::size_t>(chunks) + 1) * b);
    std::fill(chunk_sum, chunk_sum + (static_cast<std::size_t>(chunks) + 1) * b, 0.0);
#pragma omp parallel for schedule(static) if (v.parallel)
    for (graph::Index ch = 0; ch < chunks; ++ch) {
      const graph::Index lo = ch * RowSumPlan::kChunk;
      const graph::Index hi = std::min(n, lo + RowSumPlan::kChunk);
      double acc[RowSumPlan::kMaxBlock] = {};
      for (graph::Index j = lo; j < hi; ++j) {
        const double* src = wp + static_cast<std::size_t>(j) * b;
        double* dst = prefix + static_cast<std::size_t>(j + 1) * b;
        for (int k = 0; k < b; ++k) {
          acc[k] += src[k];
          dst[k] = acc[k];
        }
      }
      for (int k = 0; k < b; ++k) chunk_sum[static_cast<std::size_t>(ch + 1) * b + k] = acc[k];
    }
    for (graph::Index ch = 0; ch < chunks; ++ch) {
      for (int k = 0; k < b; ++k) {
        chunk_sum[static_cast<std::size_t>(ch + 1) * b + k] +=
            chunk_sum[static_cast<std::size_t>(ch) * b + k];
      }
    }
#pragma omp parallel for schedule(static) if (v.parallel)
    for (graph::Index ch = 1; ch < chunks; ++ch) {
      const graph::Index lo = ch * RowSumPlan::kChunk;
      const graph::Index hi = std::min(n, lo + RowSumPlan::kChunk);
      const double* add = chunk_sum + static_cast<std::size_t>(ch) * b;
      for (graph::Index j = lo; j < hi; ++j) {
        double* dst = prefix + static_cast<std::size_t>(j + 1) * b;
        for (int k = 0; k < b; ++k) dst[k] += add[k];
      }
    }
    for (int k = 0; k < b; ++k) prefix[k] = 0.0;
  }
  const double* p = prefix;
#pragma omp parallel for schedule(static) if (v.parallel)
  for (graph::Index i = 0; i < n; ++i) {
    double acc[RowSumPlan::kMaxBlock];
    for (int k = 0; k < b; ++k) acc[k] = c[k];
    for (std::int64_t r = v.run_offsets[i]; r < v.run_offsets[i + 1]; r += 2) {
      const double* pe = p + static_cast<std::size_t>(v.runs[r + 1]) * b;
      const double* pb = p + static_cast<std::size_t>(v.runs[r]) * b;
      for (int k = 0; k < b; ++k) acc[k] += pe[k] - pb[k];
    }
    // Four independent partial sums (combined in a fixed order), each b wide: the gathers of
    // random keys overlap instead of waiting on one chain of dependent additions (2x faster at
    // n = 10^5 for b = 1).
    double a0[RowSumPlan::kMaxBlock] = {}, a1[RowSumPlan::kMaxBlock] = {};
    double a2[RowSumPlan::kMaxBlock] = {}, a3[RowSumPlan::kMaxBlock] = {};
    std::int64_t s = v.single_offsets[i];
    const std::int64_t end = v.single_offsets[i + 1];
    for (; s + 4 <= end; s += 4) {
      const double* q0 = wp + static_cast<std::size_t>(v.singles[s]) * b;
      const double* q1 = wp + static_cast<std::size_t>(v.singles[s + 1]) * b;
      const double* q2 = wp + static_cast<std::size_t>(v.singles[s + 2]) * b;
      const double* q3 = wp + static_cast<std::size_t>(v.singles[s + 3]) * b;
      for (int k = 0; k < b; ++k) {
        a0[k] += q0[k];
        a1[k] += q1[k];
        a2[k] += q2[k];
        a3[k] += q3[k];
      }
    }
    for (; s < end; ++s) {
      const double* q0 = wp + static_cast<std::size_t>(v.singles[s]) * b;
      for (int k = 0; k < b; ++k) a0[k] += q0[k];
    }
    double* o = out + static_cast<std::size_t>(i) * b;
    for (int k = 0; k < b; ++k) o[k] = acc[k] + ((a0[k] + a1[k]) + (a2[k] + a3[k]));
  }
}

}  // namespace

void RowSumPlan::row_sums_block(const double* w, int b, double* out) const {
  DIFFUSER_CHECK(b >= 1 && b <= kMaxBlock, "row sums: block width {} is not in [1, {}]", b,
                 kMaxBlock);
  const BlockPlanView v{n_,
                        full_.data(),
                        full_.size(),
                        run_offsets_.data(),
                        runs_.data(),
                        !runs_.empty(),
                        single_offsets_.data(),
                        singles_.data(),
                        stored_entries() + n_ > 100000};
  switch (b) {
    case 1:
      block_row_sums<1>(v, w, b, out);
      break;
    case 4:
      block_row_sums<4>(v, w, b, out);
      break;
    case 8:
      block_row_sums<8>(v, w, b, out);
      break;
    default:
      block_row_sums<0>(v, w, b, out);
      break;
  }
}

void RowSumPlan::row_sums(const double* w, double* out) const { row_sums_block(w, 1, out); }

}  // namespace diffuser::spectral
