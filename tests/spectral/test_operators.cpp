// Why: every operator must equal its dense definition exactly (up to float64 rounding), give
// bit-identical results for any thread count, and reject bad input with a clear error.
#include <cmath>

#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "spectral/DiffusedOperator.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/NormalizedLaplacian.hpp"
#include "spectral/RowSumPlan.hpp"
#include "spectral/ShiftInvertOperator.hpp"
#include "spectral/WalkOperator.hpp"
#include "spectral/WeightedWalkOperator.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;
using namespace diffuser::testing;

namespace {

Eigen::VectorXd random_vector(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Eigen::VectorXd x(n);
  for (Index i = 0; i < n; ++i) x[i] = rng.normal();
  return x;
}

// max |A x - dense x| over a random x, relative to ||dense x||; 1e-13 allows float64
// summation-order differences over rows of <= a few hundred terms.
double apply_error(const LinearOperator& op, const Eigen::MatrixXd& dense) {
  const Eigen::VectorXd x = random_vector(op.size(), 7);
  Eigen::VectorXd y = Eigen::VectorXd::Constant(op.size(), std::nan(""));
  op.apply(x.data(), y.data());
  return (y - dense * x).norm() / (dense * x).norm();
}

}  // namespace

TEST_CASE("normalised adjacency equals its dense definition", "[cpu][spectral][operators]") {
  // Directed pattern with asymmetric random keys, an isolated node and a dangling row.
  std::vector<Index> r{0, 0, 1, 2, 2, 3, 5, 5}, c{1, 2, 2, 0, 3, 3, 0, 5};
  const CsrGraph small = CsrGraph::from_edges(7, r, c);  // node 4 and 6 isolated
  for (const CsrGraph& g :
       {small, window_pattern(300, 3, 2, 4, 11), random_pattern(200, 5, false, 3)}) {
    const NormalizedAdjacency m(g);
    const Eigen::MatrixXd dense = dense_normalized_adjacency(g);
    CHECK(apply_error(m, dense) <= 1e-13);
    CHECK((m.to_dense() - dense).norm() <= 1e-13 * dense.norm());
    CHECK((Eigen::MatrixXd(m.to_sparse()) - dense).norm() <= 1e-13 * dense.norm());
    const NormalizedLaplacian l(m);
    const Eigen::MatrixXd id = Eigen::MatrixXd::Identity(g.n(), g.n());
    CHECK(apply_error(l, id - dense) <= 1e-13);
    // D^{1/2} 1 is the eigenvector of eigenvalue 1.
    const Eigen::VectorXd v = m.top_eigenvector();
    CHECK(std::abs(v.norm() - 1.0) <= 1e-14);
    CHECK((dense * v - v).norm() <= 1e-13);
    m.pattern().validate();
  }
  const NormalizedAdjacency m(small);
  CHECK(m.isolated_nodes() == 2);
  CHECK(m.pattern().has_edge(4, 4));
  CHECK_FALSE(m.input_symmetric());
  CHECK(NormalizedAdjacency(cycle(9)).input_symmetric());
}

TEST_CASE("walk and weighted walk operators", "[cpu][spectral][operators]") {
  std::vector<Index> r{0, 0, 1, 3}, c{1, 2, 2, 0};
  const CsrGraph g = CsrGraph::from_edges(4, r, c);  // row 2 dangling
  const WalkOperator p(g);
  CHECK(p.dangling_rows() == 1);
  CHECK(apply_error(p, dense_walk(g)) <= 1e-15);
  const CsrGraph big = window_pattern(400, 2, 1, 3, 5);
  CHECK(apply_error(WalkOperator(big), dense_walk(big)) <= 1e-13);

  // Weighted: softmax-like values per row.
  CsrGraph w = random_pattern(150, 6, true, 9);
  std::vector<float> vals(static_cast<std::size_t>(w.nnz()));
  Rng rng(4);
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(w.n(), w.n());
  for (Index i = 0; i < w.n(); ++i) {
    double sum = 0;
    for (Index e = w.offsets()[i]; e < w.offsets()[i + 1]; ++e) {
      sum += vals[e] = static_cast<float>(0.1 + rng.uniform());
    }
    for (Index e = w.offsets()[i]; e < w.offsets()[i + 1]; ++e) {
      dense(i, w.columns()[e]) = vals[e] / sum;
    }
  }
  w.set_values(vals);
  CHECK_THROWS_WITH(WeightedWalkOperator(w), Catch::Contains("row 0 sums to"));
  const WeightedWalkOperator a(w, RowSums::kNormalize);
  CHECK(apply_error(a, dense) <= 1e-13);

  vals[3] = -0.5f;
  w.set_values(vals);
  CHECK_THROWS_WITH(WeightedWalkOperator(w, RowSums::kNormalize),
                    Catch::Contains("negative weight"));
  CHECK_THROWS_WITH(WeightedWalkOperator(random_pattern(5, 2, true, 1)),
                    Catch::Contains("no edge values"));
}

TEST_CASE("diffused operator is the Horner polynomial of its base", "[cpu][spectral][operators]") {
  const CsrGraph g = window_pattern(120, 2, 1, 2, 3);
  const WalkOperator p(g);
  const Eigen::MatrixXd pd = dense_walk(g);
  for (const Diffusion& spec :
       {Diffusion::ppr(0.1, 5), Diffusion::heat(2.0, 8), Diffusion::plain()}) {
    const auto th = spec.theta();
    Eigen::MatrixXd t = Eigen::MatrixXd::Zero(g.n(), g.n());
    Eigen::MatrixXd pk = Eigen::MatrixXd::Identity(g.n(), g.n());
    for (double c : th) {
      t += c * pk;
      pk = (pk * pd).eval();
    }
    const DiffusedOperator op(p, spec);
    CHECK(apply_error(op, t) <= 1e-13);
    CHECK(op.spectral_radius_bound() >= 1.0 - 1e-12);
  }
  CHECK_THROWS_WITH(DiffusedOperator(p, Diffusion::ppr(0.1)), Catch::Contains("not a polynomial"));
}

TEST_CASE("operators give identical results on 1 and 2 threads", "[cpu][spectral][operators]") {
  const CsrGraph g = window_pattern(20000, 4, 2, 3, 17);  // large enough to go parallel
  const NormalizedAdjacency m(g);
  const WalkOperator p(g);
  const Eigen::VectorXd x = random_vector(g.n(), 3);
  Eigen::VectorXd y1(g.n()), y2(g.n()), z1(g.n()), z2(g.n());
  {
    ThreadCountGuard guard(1);
    m.apply(x.data(), y1.data());
    p.apply(x.data(), z1.data());
  }
  {
    ThreadCountGuard guard(2);
    m.apply(x.data(), y2.data());
    p.apply(x.data(), z2.data());
    CHECK(NormalizedAdjacency(g).pattern() == m.pattern());
  }
  CHECK(y1 == y2);
  CHECK(z1 == z2);
}

TEST_CASE("shift-invert operator inverts the shifted matrix and certifies the shift",
          "[cpu][spectral][operators]") {
  const CsrGraph g = window_pattern(200, 2, 0, 0, 0);
  const NormalizedAdjacency m(g);
  const Eigen::SparseMatrix<double> b = m.to_sparse();
  const Eigen::MatrixXd dense = dense_normalized_adjacency(g);
  const Eigen::VectorXd ev = symmetric_eigenvalues(dense);
  const double sigma = ev[0] - 0.01;  // below the spectrum
  auto si = ShiftInvertOperator::create(b, sigma, ShiftSide::kBelow, 1 << 20);
  const Eigen::MatrixXd inv = (dense - sigma * Eigen::MatrixXd::Identity(g.n(), g.n())).inverse();
  CHECK(apply_error(*si, inv) <= 1e-10);  // condition number ~ 200
  CHECK(si->to_original(1.0 / (ev[0] - sigma)) == Approx(ev[0]).epsilon(1e-12));
  // A shift inside the spectrum is refused (the Cholesky factorisation certifies position).
  CHECK_THROWS_WITH(ShiftInvertOperator::create(b, ev[0] + 0.01, ShiftSide::kBelow, 1 << 20),
                    Catch::Contains("inside the spectrum"));
  CHECK_THROWS_WITH(ShiftInvertOperator::create(b, ev[0] - 0.01, ShiftSide::kBelow, 10),
                    Catch::Contains("budget"));
  ShiftInvertOperator::Status st{};
  std::int64_t nnz = 0;
  CHECK(ShiftInvertOperator::try_create(b, 1.5, ShiftSide::kAbove, 1 << 20, st, nnz) != nullptr);
  CHECK(st == ShiftInvertOperator::Status::kOk);
  CHECK(nnz >= g.n());
}

TEST_CASE("compressed row sums equal plain CSR row sums", "[cpu][spectral][operators]") {
  std::vector<Index> r{0, 0, 2}, c{1, 3, 2};
  const CsrGraph with_empty_rows = CsrGraph::from_edges(5, r, c);
  for (const CsrGraph& g :
       {window_pattern(5000, 8, 3, 5, 2), random_pattern(300, 4, false, 1), with_empty_rows,
        with_self_loops(complete(40)), path(50), window_pattern(70000, 3, 2, 0, 0)}) {
    const RowSumPlan plan(g);
    const Eigen::VectorXd w = random_vector(g.n(), 5);
    std::vector<double> out = poisoned<double>(static_cast<std::size_t>(g.n()));
    plan.row_sums(w.data(), out.data());
    double worst = 0;
    for (Index i = 0; i < g.n(); ++i) {
      double ref = 0, mag = 0;
      for (Index j : g.row(i)) {
        ref += w[j];
        mag += std::abs(w[j]);
      }
      // Prefix-sum differences: error ~ 1e-16 x (sum of |w| up to the run), n <= 7e4 here.
      worst = std::max(worst, std::abs(out[i] - ref) / (mag + 1.0));
    }
    INFO("n = " << g.n());
    CHECK(worst <= 1e-11);
  }
  // Window-only: one run per row; global tokens: full columns, one run for full rows.
  const CsrGraph w = window_pattern(1000, 10, 0, 0, 0);
  CHECK(RowSumPlan(w).stored_entries() == 2 * 1000);
  const CsrGraph wg = window_pattern(1000, 10, 4, 0, 0);
  CHECK(RowSumPlan(wg).full_columns() == 4);
  CHECK(RowSumPlan(wg).stored_entries() < wg.nnz() / 5);
}
