// Why: shared helpers every operator gets for free: a dense copy (dense path, tests) and the
// residual that every eigen-result reports.
#include "spectral/LinearOperator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "core/Error.hpp"
#include "core/MemoryBudget.hpp"

namespace diffuser::spectral {

Eigen::MatrixXd LinearOperator::to_dense(int working_copies) const {
  const graph::Index n = size();
  const auto nn = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n);
  check_memory_budget(static_cast<std::uint64_t>(std::max(working_copies, 1)) * nn * sizeof(double),
                      fmt::format("the dense eigen-solver on {} (n = {})", name(), n));
  Eigen::MatrixXd a(n, n);
  Eigen::VectorXd e = Eigen::VectorXd::Zero(n);
  for (graph::Index j = 0; j < n; ++j) {
    e[j] = 1.0;
    apply(e.data(), a.col(j).data());
    e[j] = 0.0;
  }
  return a;
}

double residual_norm(const LinearOperator& op, const Eigen::VectorXd& x, double lambda) {
  DIFFUSER_CHECK(x.size() == op.size(), "residual_norm: vector has {} entries, operator {} is {}",
                 x.size(), op.name(), op.size());
  const double nx = x.norm();
  DIFFUSER_CHECK(nx > 0.0, "residual_norm: zero vector for operator {}", op.name());
  Eigen::VectorXd y(x.size());
  op.apply(x.data(), y.data());
  return (y - lambda * x).norm() / nx;
}

double residual_norm(const LinearOperator& op, const Eigen::VectorXcd& x,
                     std::complex<double> lambda) {
  DIFFUSER_CHECK(x.size() == op.size(), "residual_norm: vector has {} entries, operator {} is {}",
                 x.size(), op.name(), op.size());
  const double nx = x.norm();
  DIFFUSER_CHECK(nx > 0.0, "residual_norm: zero vector for operator {}", op.name());
  const Eigen::VectorXd xr = x.real(), xi = x.imag();
  Eigen::VectorXd yr(x.size()), yi(x.size());
  op.apply(xr.data(), yr.data());
  op.apply(xi.data(), yi.data());
  const Eigen::VectorXcd y = yr.cast<std::complex<double>>() +
                             std::complex<double>(0.0, 1.0) * yi.cast<std::complex<double>>();
  return (y - lambda * x).norm() / nx;
}

}  // namespace diffuser::spectral
