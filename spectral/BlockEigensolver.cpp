// Why: the block product and the thick-restarted block Lanczos method on top of it.
//
// Method: block Krylov-Schur, i.e. block Lanczos with full reorthogonalisation and thick
// restarts (Y. Zhou, Y. Saad, "Block Krylov-Schur method for large symmetric eigenvalue
// problems", Numer. Algorithms 47 (2008) 341-359; the single-vector Krylov-Schur restart is
// G. W. Stewart, SIAM J. Matrix Anal. Appl. 23 (2001) 601-614). Why this one and not LOBPCG or
// Chebyshev-filtered subspace iteration: mu2 of an expander sits at the edge of the bulk of its
// spectrum, next to a dense cluster (docs/spectral.md §3). Methods with a fixed small subspace
// (LOBPCG without a preconditioner, a Chebyshev filter applied to p vectors) converge at a rate
// set by the gap between mu2 and the first eigenvalue outside the block, which is tiny here;
// a Krylov basis of many blocks builds the near-optimal polynomial that separates mu2 from the
// cluster, as single-vector Lanczos does, while each step multiplies b vectors for less than b
// times the price of one. Measured at n = 100,000 it still needs 3x the vector applications of
// single-vector Lanczos and is slower overall, so it is opt-in (docs/benchmarks.md).
//
// The basis V (n x (1 + cap), row-major) holds the deflated vector v1 = D^{1/2} 1 / sqrt(vol)
// in column 0 (locked: every new block is orthogonalised against it), then the Krylov blocks.
// With W = M Q for the newest block Q: C = V^T W, R = W - V C (two classical Gram-Schmidt
// passes), H += the column block C (the projected matrix V^T M V, computed explicitly, so the
// arrowhead left by a restart needs no special case), R = Q' B by Cholesky-QR twice. Rayleigh-
// Ritz on H gives theta, y; the Krylov relation M V = V H + R E^T gives the residual of the
// Ritz vector V y as ||R y_last|| = sqrt(y_last^T (R^T R) y_last), from the b x b Gram matrix of
// R. When the basis is full, the best half of the Ritz vectors is kept (V <- V Y_k, H <- diag)
// and the expansion continues from Q'.
//
// Determinism: every product with n rows either gives each row to one thread (the block
// product, R -= V C, V Y) or sums fixed chunks of rows in chunk order (V^T W), so results do not
// depend on the thread count. The dense n-row kernels are written here instead of calling Eigen's
// GEMM, whose blocking depends on the number of threads.
#include "spectral/BlockEigensolver.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "spectral/RowSumPlan.hpp"

namespace diffuser::spectral {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Rows per chunk of the n-row kernels (fixed: the summation order of the chunked reductions
// must not depend on the thread count).
constexpr std::int64_t kRowChunk = 256;

bool parallel_rows(std::int64_t n, std::int64_t width) { return n * width >= (1 << 16); }

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMap = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using ConstRowMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

// The n-row kernels split the rows into fixed chunks of kRowChunk and hand each chunk to Eigen's
// matrix product inside an OpenMP loop. The loops have no `if` clause on purpose: inside an
// active parallel region, or with one OpenMP thread, Eigen runs its product on the calling
// thread with blocking sizes that depend only on the operand sizes, so every chunk is computed
// the same way for any thread count. (Outside a region Eigen could split a product over threads
// with thread-count dependent blocking.)
std::int64_t chunk_count(std::int64_t n) { return (n + kRowChunk - 1) / kRowChunk; }

// Hand-written kernels for the skinny shapes of the orthogonalisation (b = 4 or 8 columns
// against up to a few hundred basis columns): Eigen's general product packs both operands on
// every call, which costs as much as the product at these shapes. Fixed loop orders: the same
// bits for any thread count.

// Chunk partial of C = A^T W for rows [lo, hi): tiles of kTile basis columns held in registers
// while the rows stream by.
template <int B>
void gram_chunk(const double* a, std::int64_t lda, int ncols, const double* w, std::int64_t lo,
                std::int64_t hi, double* c) {
  constexpr int kTile = 8;
  int j0 = 0;
  for (; j0 + kTile <= ncols; j0 += kTile) {
    double acc[kTile][B] = {};
    for (std::int64_t i = lo; i < hi; ++i) {
      const double* ai = a + i * lda + j0;
      const double* wi = w + i * B;
      for (int jj = 0; jj < kTile; ++jj) {
        for (int k = 0; k < B; ++k) acc[jj][k] += ai[jj] * wi[k];
      }
    }
    for (int jj = 0; jj < kTile; ++jj) {
      for (int k = 0; k < B; ++k) c[(j0 + jj) * B + k] = acc[jj][k];
    }
  }
  for (; j0 < ncols; ++j0) {
    double acc[B] = {};
    for (std::int64_t i = lo; i < hi; ++i) {
      const double aij = a[i * lda + j0];
      const double* wi = w + i * B;
      for (int k = 0; k < B; ++k) acc[k] += aij * wi[k];
    }
    for (int k = 0; k < B; ++k) c[j0 * B + k] = acc[k];
  }
}

// W[lo, hi) -= A[lo, hi) C, four rows at a time (independent accumulators).
template <int B>
void subtract_chunk(const double* a, std::int64_t lda, int ncols, const double* c, double* w,
                    std::int64_t lo, std::int64_t hi) {
  std::int64_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    double acc[4][B] = {};
    const double* a0 = a + i * lda;
    for (int j = 0; j < ncols; ++j) {
      const double* cj = c + j * B;
      for (int r = 0; r < 4; ++r) {
        const double v = a0[r * lda + j];
        for (int k = 0; k < B; ++k) acc[r][k] += v * cj[k];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int k = 0; k < B; ++k) w[(i + r) * B + k] -= acc[r][k];
    }
  }
  for (; i < hi; ++i) {
    double acc[B] = {};
    for (int j = 0; j < ncols; ++j) {
      const double v = a[i * lda + j];
      for (int k = 0; k < B; ++k) acc[k] += v * c[j * B + k];
    }
    for (int k = 0; k < B; ++k) w[i * B + k] -= acc[k];
  }
}

// C (ncols x b, row-major) = A^T W, A = n x ncols with row stride lda, W = n x b contiguous:
// per-chunk products, added in chunk order.
void gram(std::int64_t n, const double* a, std::int64_t lda, int ncols, const double* w, int b,
          double* c, std::vector<double>& partial) {
  const std::int64_t chunks = chunk_count(n);
  const std::size_t size = static_cast<std::size_t>(ncols) * b;
  partial.resize(static_cast<std::size_t>(chunks) * size);
  double* part = partial.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t lo = ch * kRowChunk, hi = std::min(n, lo + kRowChunk);
    double* pc = part + static_cast<std::size_t>(ch) * size;
    if (b == 8) {
      gram_chunk<8>(a, lda, ncols, w, lo, hi, pc);
    } else if (b == 4) {
      gram_chunk<4>(a, lda, ncols, w, lo, hi, pc);
    } else {
      const ConstRowMap am(a + lo * lda, hi - lo, ncols, Eigen::OuterStride<>(lda));
      const ConstRowMap wm(w + lo * b, hi - lo, b, Eigen::OuterStride<>(b));
      RowMap pm(pc, ncols, b, Eigen::OuterStride<>(b));
      pm.noalias() = am.transpose() * wm;
    }
  }
  std::fill(c, c + size, 0.0);
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const double* acc = part + static_cast<std::size_t>(ch) * size;
    for (std::size_t e = 0; e < size; ++e) c[e] += acc[e];
  }
}

// W (n x b contiguous) -= A C, A = n x ncols (row stride lda), C = ncols x b row-major.
void subtract_product(std::int64_t n, const double* a, std::int64_t lda, int ncols, const double* c,
                      int b, double* w) {
  const ConstRowMap cm(c, ncols, b, Eigen::OuterStride<>(b));
  const std::int64_t chunks = chunk_count(n);
#pragma omp parallel for schedule(static)
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t lo = ch * kRowChunk, hi = std::min(n, lo + kRowChunk);
    if (b == 8) {
      subtract_chunk<8>(a, lda, ncols, c, w, lo, hi);
    } else if (b == 4) {
      subtract_chunk<4>(a, lda, ncols, c, w, lo, hi);
    } else {
      const ConstRowMap am(a + lo * lda, hi - lo, ncols, Eigen::OuterStride<>(lda));
      RowMap wm(w + lo * b, hi - lo, b, Eigen::OuterStride<>(b));
      wm.noalias() -= am * cm;
    }
  }
}

// A (n x ncols, row stride lda) = A T in place, T = ncols x cols_out row-major, cols_out <=
// ncols: the first cols_out columns of A are overwritten.
void right_multiply(std::int64_t n, double* a, std::int64_t lda, int ncols, const double* t,
                    int cols_out) {
  const ConstRowMap tm(t, ncols, cols_out, Eigen::OuterStride<>(cols_out));
  const std::int64_t chunks = chunk_count(n);
#pragma omp parallel for schedule(static)
  for (std::int64_t ch = 0; ch < chunks; ++ch) {
    const std::int64_t lo = ch * kRowChunk, rows = std::min(n, lo + kRowChunk) - lo;
    RowMap am(a + lo * lda, rows, ncols, Eigen::OuterStride<>(lda));
    const RowMatrix prod = am * tm;
    am.leftCols(cols_out) = prod;
  }
}

}  // namespace

void apply_block(const NormalizedAdjacency& m, const double* x, std::ptrdiff_t ldx, int b,
                 double* y) {
  const graph::Index n = m.size();
  DIFFUSER_CHECK(b >= 1 && b <= RowSumPlan::kMaxBlock && ldx >= b,
                 "block product: block width {} (row stride {}) is not in [1, {}]", b, ldx,
                 RowSumPlan::kMaxBlock);
  thread_local std::vector<double> w_buf;
  w_buf.resize(static_cast<std::size_t>(n) * b);
  double* w = w_buf.data();
  const double* sq = m.sqrt_degree().data();
  const bool parallel = n > 65536 / b;
  // The scaling of NormalizedAdjacency::apply (1 / sqrt(d) computed the same way), per column.
#pragma omp parallel for schedule(static) if (parallel)
  for (graph::Index j = 0; j < n; ++j) {
    const double s = 1.0 / sq[j];
    for (int k = 0; k < b; ++k) w[static_cast<std::size_t>(j) * b + k] = s * x[j * ldx + k];
  }
  m.plan().row_sums_block(w, b, y);
#pragma omp parallel for schedule(static) if (parallel)
  for (graph::Index i = 0; i < n; ++i) {
    const double s = 1.0 / sq[i];
    for (int k = 0; k < b; ++k) y[static_cast<std::size_t>(i) * b + k] *= s;
  }
}

namespace {

// The solver state: basis, projected matrix, scratch.
class BlockKrylovSchur {
 public:
  BlockKrylovSchur(const NormalizedAdjacency& m, const SolverOptions& opts, BlockSolveStats& st)
      : m_(m), opts_(opts), st_(st), n_(m.size()), b_(opts.block_size), local_begin_(1) {
    const std::int64_t want = opts.block_basis > 0 ? opts.block_basis : 16 * std::int64_t{b_};
    // Krylov columns (beside v1): a multiple of b, at least 3 blocks, at most n - 1.
    cap_ = static_cast<int>(std::min<std::int64_t>(want, n_ - 1) / b_ * b_);
    DIFFUSER_CHECK(cap_ >= 3 * b_,
                   "block eigensolver: n = {} is too small for block size {} (basis {} columns)",
                   n_, b_, cap_);
    keep_ = std::max(b_, (cap_ / 2) / b_ * b_);
    ld_ = 1 + cap_;
    v_.assign(static_cast<std::size_t>(n_) * ld_, 0.0);
    h_ = Eigen::MatrixXd::Zero(cap_, cap_);
    w_.resize(static_cast<std::size_t>(n_) * b_);
    r_.resize(w_.size());
  }

  EigenResult run();

 private:
  double* col(int j) { return v_.data() + j; }
  void copy_into_basis(const std::vector<double>& blk, int first_col);
  // Orthogonalises r_ (n x b) against basis columns [first_local, ncols), then against all of
  // [0, ncols), accumulating the coefficients into c (ncols x b row-major).
  void orthogonalise(int first_local, int ncols, std::vector<double>& c);
  // Cholesky-QR of r_ twice; r_ becomes orthonormal. `scale` is the norm of the block before
  // orthogonalisation. Columns in the span of the basis (a breakdown: the Krylov space became
  // invariant) are replaced by seeded random vectors.
  void cholesky_qr(int ncols, double scale);
  bool cholesky_qr_once(double scale, double min_ratio);
  EigenResult finish(double theta, bool converged, double residual, std::vector<double> x);
  std::vector<double> ritz_vector(const Eigen::VectorXd& y) const;

  const NormalizedAdjacency& m_;
  const SolverOptions& opts_;
  BlockSolveStats& st_;
  std::int64_t n_;
  int b_;
  int local_begin_;  // first column the pending block's product couples to (local pass)
  int cap_ = 0, keep_ = 0, ld_ = 0;
  int used_ = 0;  // Krylov columns whose products are in h_ (the pending block follows them)
  std::vector<double> v_, w_, r_, partial_;
  Eigen::MatrixXd h_;
  std::int64_t matvecs_ = 0;
  std::uint64_t random_calls_ = 0;
};

void BlockKrylovSchur::copy_into_basis(const std::vector<double>& blk, int first_col) {
  const int b = b_;
  double* v = v_.data();
  const std::int64_t ld = ld_;
#pragma omp parallel for schedule(static) if (parallel_rows(n_, b))
  for (std::int64_t i = 0; i < n_; ++i) {
    for (int k = 0; k < b; ++k) v[i * ld + first_col + k] = blk[i * b + k];
  }
}

void BlockKrylovSchur::orthogonalise(int first_local, int ncols, std::vector<double>& c) {
  // Pass 1 against the columns the product couples to in exact arithmetic (the previous and
  // the pending block, or after a restart all kept Ritz vectors): the Lanczos recurrence. Pass
  // 2 against the whole basis (full reorthogonalisation, one classical Gram-Schmidt pass).
  std::vector<double> c2(static_cast<std::size_t>(ncols) * b_);
  c.assign(c2.size(), 0.0);
  const int nl = ncols - first_local;
  if (nl > 0) {
    gram(n_, v_.data() + first_local, ld_, nl, r_.data(), b_, c2.data(), partial_);
    subtract_product(n_, v_.data() + first_local, ld_, nl, c2.data(), b_, r_.data());
    for (std::size_t e = 0; e < static_cast<std::size_t>(nl) * b_; ++e) {
      c[static_cast<std::size_t>(first_local) * b_ + e] += c2[e];
    }
  }
  gram(n_, v_.data(), ld_, ncols, r_.data(), b_, c2.data(), partial_);
  subtract_product(n_, v_.data(), ld_, ncols, c2.data(), b_, r_.data());
  for (std::size_t e = 0; e < c.size(); ++e) c[e] += c2[e];
}

bool BlockKrylovSchur::cholesky_qr_once(double scale, double min_ratio) {
  std::vector<double> g(static_cast<std::size_t>(b_) * b_);
  gram(n_, r_.data(), b_, b_, r_.data(), b_, g.data(), partial_);
  Eigen::MatrixXd gm = Eigen::Map<const RowMatrix>(g.data(), b_, b_);
  gm = 0.5 * (gm + gm.transpose()).eval();
  Eigen::LLT<Eigen::MatrixXd> llt(gm);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd l = llt.matrixL();
  // A pivot that small relative to the block before orthogonalisation is rounding noise, whose
  // normalisation would not be orthogonal to the basis.
  // A small pivot ratio means an ill-conditioned R, for which Cholesky-QR loses orthogonality
  // (its error grows like eps cond(R)^2): left to the column-wise fallback.
  const double lo = l.diagonal().minCoeff(), hi = l.diagonal().maxCoeff();
  if (!(lo > 1e-10 * scale) || !(lo >= min_ratio * hi)) return false;
  // R = Q L^T, so Q = R L^{-T}, applied row by row.
  const Eigen::MatrixXd lt_inv =
      l.transpose().triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(b_, b_));
  const RowMatrix t = lt_inv;
  right_multiply(n_, r_.data(), b_, b_, t.data(), b_);
  return true;
}

void BlockKrylovSchur::cholesky_qr(int ncols, double scale) {
  const std::vector<double> saved = r_;
  if (cholesky_qr_once(scale, 1e-6) && cholesky_qr_once(0.5, 0.5)) return;
  // Breakdown: R is numerically rank deficient (the Krylov space is nearly invariant). Column
  // by column Gram-Schmidt (twice) against the basis and the columns before; a column that
  // vanishes is replaced by a seeded random vector orthogonalised the same way. The Krylov
  // relation then holds up to the dropped part (<= 1e-10 of the block), and the final residual
  // is measured anyway. Sequential and rare.
  r_ = saved;
  const std::int64_t n = n_;
  std::vector<double> x(static_cast<std::size_t>(n)), c(static_cast<std::size_t>(ncols));
  for (int k = 0; k < b_; ++k) {
    for (std::int64_t i = 0; i < n; ++i) x[i] = r_[i * b_ + k];
    bool replaced = false;
    for (int attempt = 0; attempt < 8; ++attempt) {
      double before = 0.0;
      for (double e : x) before += e * e;
      before = std::sqrt(before);
      for (int pass = 0; pass < 2; ++pass) {
        gram(n, v_.data(), ld_, ncols, x.data(), 1, c.data(), partial_);
        subtract_product(n, v_.data(), ld_, ncols, c.data(), 1, x.data());
        for (int j = 0; j < k; ++j) {
          double d = 0.0;
          for (std::int64_t i = 0; i < n; ++i) d += r_[i * b_ + j] * x[i];
          for (std::int64_t i = 0; i < n; ++i) x[i] -= d * r_[i * b_ + j];
        }
      }
      double nrm = 0.0;
      for (double e : x) nrm += e * e;
      nrm = std::sqrt(nrm);
      if (nrm > 1e-10 * (replaced ? before : scale) && nrm > 0.0) {
        for (std::int64_t i = 0; i < n; ++i) r_[i * b_ + k] = x[i] / nrm;
        break;
      }
      DIFFUSER_CHECK(attempt + 1 < 8,
                     "block eigensolver: no vector orthogonal to the basis found (n = {})", n);
      Rng rng(opts_.seed ^ (0x9e3779b97f4a7c15ULL * ++random_calls_));
      for (double& e : x) e = rng.normal();
      replaced = true;
    }
  }
}

std::vector<double> BlockKrylovSchur::ritz_vector(const Eigen::VectorXd& y) const {
  std::vector<double> x(static_cast<std::size_t>(n_));
  const int m = static_cast<int>(y.size());
  const double* v = v_.data();
  const double* yy = y.data();
  const std::int64_t ld = ld_;
#pragma omp parallel for schedule(static) if (parallel_rows(n_, m))
  for (std::int64_t i = 0; i < n_; ++i) {
    double acc = 0.0;
    for (int j = 0; j < m; ++j) acc += v[i * ld + 1 + j] * yy[j];
    x[static_cast<std::size_t>(i)] = acc;
  }
  double nrm = 0.0;
  for (double e : x) nrm += e * e;
  nrm = std::sqrt(nrm);
  for (double& e : x) e /= nrm;
  return x;
}

EigenResult BlockKrylovSchur::finish(double theta, bool converged, double residual,
                                     std::vector<double> x) {
  EigenResult r;
  r.value = theta;
  r.method = Method::kLanczos;
  r.op = m_.name();
  r.matvecs = matvecs_;
  r.iterations = st_.restarts;
  r.residual = residual;
  r.converged = converged;
  r.note = fmt::format("block Lanczos (Krylov-Schur), block size {}, basis {}: {} block products",
                       b_, cap_, st_.block_products);
  if (!converged) {
    r.note += fmt::format(
        "; block lanczos did not converge: residual {:.3g} after {} operator applications",
        residual, matvecs_);
  }
  r.vector = std::move(x);
  return r;
}

EigenResult BlockKrylovSchur::run() {
  const double accept = std::max(10.0 * opts_.tol, 1e-13);
  double stop = opts_.tol;  // the Krylov residual estimate that triggers a certificate
  // Column 0: v1 = D^{1/2} 1 / sqrt(vol), locked.
  {
    const Eigen::VectorXd v1 = m_.top_eigenvector();
    for (std::int64_t i = 0; i < n_; ++i) v_[i * ld_] = v1[i];
  }
  // First block: seeded random vectors, orthogonal to v1, orthonormalised.
  {
    Rng rng(opts_.seed);
    for (double& e : r_) e = rng.normal();
    std::vector<double> c;
    const auto t0 = Clock::now();
    double scale = 0.0;
    for (double e : r_) scale += e * e;
    orthogonalise(0, 1, c);
    cholesky_qr(1, std::sqrt(scale));
    copy_into_basis(r_, 1);
    st_.orthogonalise_seconds += since(t0);
  }
  used_ = 0;
  std::vector<double> c;
  double theta = std::numeric_limits<double>::quiet_NaN();
  Eigen::VectorXd y;
  while (true) {
    const int pending = 1 + used_;  // first column of the pending block
    auto t0 = Clock::now();
    apply_block(m_, col(pending), ld_, b_, w_.data());
    st_.product_seconds += since(t0);
    ++st_.block_products;
    matvecs_ += b_;

    t0 = Clock::now();
    r_ = w_;
    double scale = 0.0;
    for (double e : w_) scale += e * e;
    scale = std::sqrt(scale);
    const int ncols = pending + b_;
    orthogonalise(local_begin_, ncols, c);
    // H gains the block column of V^T M Q (rows 1.. of C; row 0 is v1, ~0).
    for (int rr = 0; rr < used_ + b_; ++rr) {
      for (int k = 0; k < b_; ++k) {
        const double e = c[static_cast<std::size_t>(1 + rr) * b_ + k];
        h_(rr, used_ + k) = e;
        if (rr < used_) h_(used_ + k, rr) = e;
      }
    }
    for (int a = 0; a < b_; ++a) {
      for (int k = a + 1; k < b_; ++k) {
        const double e = 0.5 * (h_(used_ + a, used_ + k) + h_(used_ + k, used_ + a));
        h_(used_ + a, used_ + k) = h_(used_ + k, used_ + a) = e;
      }
    }
    used_ += b_;
    // Gram matrix of R for the residual estimates.
    std::vector<double> g(static_cast<std::size_t>(b_) * b_);
    gram(n_, r_.data(), b_, b_, r_.data(), b_, g.data(), partial_);
    const Eigen::MatrixXd gm = Eigen::Map<const RowMatrix>(g.data(), b_, b_);
    st_.orthogonalise_seconds += since(t0);

    t0 = Clock::now();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(h_.topLeftCorner(used_, used_));
    st_.rayleigh_ritz_seconds += since(t0);
    DIFFUSER_CHECK(es.info() == Eigen::Success, "block eigensolver: Rayleigh-Ritz failed");
    theta = es.eigenvalues()[used_ - 1];
    y = es.eigenvectors().col(used_ - 1);
    const Eigen::VectorXd ylast = y.tail(b_);
    const double estimate = std::sqrt(std::max(0.0, ylast.dot(gm * ylast)));
    const bool out_of_budget = matvecs_ + b_ + 1 > opts_.max_matvecs;
    if (estimate <= stop || out_of_budget) {
      std::vector<double> x = ritz_vector(y);
      const Eigen::VectorXd xv =
          Eigen::Map<const Eigen::VectorXd>(x.data(), static_cast<Eigen::Index>(n_));
      const double res = residual_norm(m_, xv, theta);
      ++matvecs_;
      ++st_.single_products;
      if (res <= accept) return finish(theta, true, res, std::move(x));
      if (out_of_budget) return finish(theta, false, res, std::move(x));
      stop = std::max(stop / 10.0, 1e-15);  // the estimate was optimistic: ask for more
    }

    t0 = Clock::now();
    cholesky_qr(ncols, scale);
    if (used_ + b_ > cap_) {
      // Thick restart: keep the best keep_ Ritz vectors, most extreme first.
      const int keep = keep_;
      RowMatrix yk(used_, keep);
      for (int q = 0; q < keep; ++q) yk.col(q) = es.eigenvectors().col(used_ - 1 - q);
      right_multiply(n_, v_.data() + 1, ld_, used_, yk.data(), keep);
      h_.setZero();
      for (int q = 0; q < keep; ++q) h_(q, q) = es.eigenvalues()[used_ - 1 - q];
      used_ = keep;
      ++st_.restarts;
      local_begin_ = 1;  // the next product couples to every kept Ritz vector
    } else {
      local_begin_ = 1 + used_ - b_;  // the block just multiplied
    }
    copy_into_basis(r_, 1 + used_);
    st_.orthogonalise_seconds += since(t0);
  }
}

}  // namespace

EigenResult block_second_eigenvalue(const NormalizedAdjacency& m, const SolverOptions& opts,
                                    BlockSolveStats* stats) {
  DIFFUSER_CHECK(opts.block_size >= 2 && opts.block_size <= RowSumPlan::kMaxBlock,
                 "block eigensolver: block size {} is not in [2, {}]", opts.block_size,
                 RowSumPlan::kMaxBlock);
  DIFFUSER_CHECK(opts.tol > 0.0 && opts.tol < 1.0, "solver tolerance must be in (0, 1) (got {})",
                 opts.tol);
  DIFFUSER_CHECK(opts.block_basis <= 512, "block eigensolver: basis {} exceeds 512 columns",
                 opts.block_basis);
  BlockSolveStats local;
  BlockSolveStats& st = stats != nullptr ? *stats : local;
  st = {};
  BlockKrylovSchur solver(m, opts, st);
  return solver.run();
}

}  // namespace diffuser::spectral
