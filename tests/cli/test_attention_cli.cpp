// Why: acceptance checks of `diffuser attention` as a user runs it (issue 3). The built executable
// must match an independent dense float64 oracle written here (z and all three gradients, for
// float32 and float64 inputs, PPR, heat kernel and explicit theta, on random, causal and
// self-loop-only rows), and every kind of bad input must end in exit code 1 with one line on
// stderr naming the problem and no output file written.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/Npy.hpp"
#include "core/Rng.hpp"
#include "graph/CsrGraph.hpp"
#include "graph/GraphExport.hpp"
#include "tests/Testing.hpp"
#include "tests/cli/CliShell.hpp"

using namespace diffuser;
using diffuser::graph::CsrGraph;
using diffuser::graph::Index;
using diffuser::testing::rel_error;
using diffuser::testing::TempDir;

namespace {

using diffuser::testing::run_cli;
using diffuser::testing::RunResult;
using diffuser::testing::slurp;

/// A random pattern over n tokens: every row holds its self-loop and each other allowed key
/// with probability 0.3 (allowed: j <= i when causal); row 3 holds only its self-loop; when not
/// causal, row 0 holds every key (a global row, which the optimised kernels treat as a dense
/// run). In the causal pattern row 0 is self-loop-only as well.
CsrGraph make_pattern(Index n, bool causal, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Index> rows, cols;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < (causal ? i + 1 : n); ++j) {
      const bool take = i == j || (i != 3 && ((!causal && i == 0) || rng.uniform() < 0.3));
      if (take) {
        rows.push_back(i);
        cols.push_back(j);
      }
    }
  }
  return CsrGraph::from_edges(n, rows, cols);
}

/// Dense float64 oracle of docs/design.md §1 for one sequence of [n, H·D] tensors.
struct Oracle {
  std::vector<double> z, dq, dk, dv;
};

using Mat = std::vector<std::vector<double>>;

Mat zeros(Index rows, Index cols) {
  return Mat(static_cast<std::size_t>(rows), std::vector<double>(static_cast<std::size_t>(cols)));
}

/// C = A B (A: r x m, B: m x c).
Mat matmul(const Mat& a, const Mat& b) {
  Mat c = zeros(static_cast<Index>(a.size()), static_cast<Index>(b[0].size()));
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t m = 0; m < b.size(); ++m) {
      for (std::size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][m] * b[m][j];
    }
  }
  return c;
}

Mat transpose(const Mat& a) {
  Mat t = zeros(static_cast<Index>(a[0].size()), static_cast<Index>(a.size()));
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a[0].size(); ++j) t[j][i] = a[i][j];
  }
  return t;
}

/// Per head h with D = W / H, straight from the definitions:
///   A = row softmax of S = Q_h K_h^T / sqrt(D) restricted to the pattern (0 off the pattern);
///   Z_h = sum_k theta_k A^k V_h (explicit powers P_k = A^k V_h).
/// Gradients of L = sum(Z ⊙ dZ), derived by hand for the dense form (not Horner):
///   dV_h = sum_k theta_k (A^T)^k dZ_h;
///   dA = sum_{k>=1} theta_k sum_{m<k} ((A^T)^m dZ_h) (A^{k-1-m} V_h)^T
///        (d tr(G^T A^k V) = sum_m tr(G^T A^m dA A^{k-1-m} V));
///   dS_ij = A_ij (dA_ij - sum_j' A_ij' dA_ij') on pattern edges (softmax Jacobian);
///   dQ_h = dS K_h / sqrt(D), dK_h = dS^T Q_h / sqrt(D).
Oracle dense_oracle(const CsrGraph& g, int heads, const std::vector<double>& q,
                    const std::vector<double>& k, const std::vector<double>& v,
                    const std::vector<double>& dz, const std::vector<double>& theta) {
  const Index n = g.n();
  const auto width = static_cast<std::int64_t>(q.size() / static_cast<std::size_t>(n));
  const auto D = static_cast<int>(width / heads);
  const int K = static_cast<int>(theta.size()) - 1;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  Oracle o{std::vector<double>(q.size()), std::vector<double>(q.size()),
           std::vector<double>(q.size()), std::vector<double>(q.size())};
  for (int h = 0; h < heads; ++h) {
    auto slice = [&](const std::vector<double>& x) {
      Mat m = zeros(n, D);
      for (Index i = 0; i < n; ++i) {
        for (int d = 0; d < D; ++d) m[i][d] = x[i * width + h * D + d];
      }
      return m;
    };
    auto store = [&](const Mat& m, std::vector<double>& x) {
      for (Index i = 0; i < n; ++i) {
        for (int d = 0; d < D; ++d) x[i * width + h * D + d] = m[i][d];
      }
    };
    const Mat qh = slice(q), kh = slice(k), vh = slice(v), gz = slice(dz);
    Mat a = zeros(n, n);
    for (Index i = 0; i < n; ++i) {
      double top = -std::numeric_limits<double>::infinity();
      for (const Index j : g.row(i)) {
        double s = 0;
        for (int d = 0; d < D; ++d) s += qh[i][d] * kh[j][d];
        a[i][j] = s * scale;
        top = std::max(top, a[i][j]);
      }
      double sum = 0;
      for (const Index j : g.row(i)) sum += std::exp(a[i][j] - top);
      for (const Index j : g.row(i)) a[i][j] = std::exp(a[i][j] - top) / sum;
    }
    const Mat at = transpose(a);
    std::vector<Mat> p{vh}, gpow{gz};  // P_k = A^k V, G_m = (A^T)^m dZ
    for (int kk = 1; kk <= K; ++kk) {
      p.push_back(matmul(a, p.back()));
      gpow.push_back(matmul(at, gpow.back()));
    }
    Mat z = zeros(n, D), dv = zeros(n, D), da = zeros(n, n);
    for (int kk = 0; kk <= K; ++kk) {
      for (Index i = 0; i < n; ++i) {
        for (int d = 0; d < D; ++d) {
          z[i][d] += theta[kk] * p[kk][i][d];
          dv[i][d] += theta[kk] * gpow[kk][i][d];
        }
      }
      for (int m = 0; m < kk; ++m) {
        const Mat outer = matmul(gpow[m], transpose(p[kk - 1 - m]));
        for (Index i = 0; i < n; ++i) {
          for (Index j = 0; j < n; ++j) da[i][j] += theta[kk] * outer[i][j];
        }
      }
    }
    Mat ds = zeros(n, n);
    for (Index i = 0; i < n; ++i) {
      double dot = 0;
      for (const Index j : g.row(i)) dot += a[i][j] * da[i][j];
      for (const Index j : g.row(i)) ds[i][j] = a[i][j] * (da[i][j] - dot) * scale;
    }
    store(z, o.z);
    store(dv, o.dv);
    store(matmul(ds, kh), o.dq);
    store(matmul(transpose(ds), qh), o.dk);
  }
  return o;
}

/// Truncated PPR coefficients (docs/design.md §1): alpha (1-alpha)^k for k < K, (1-alpha)^K last.
std::vector<double> ppr_theta(double alpha, int hops) {
  std::vector<double> t;
  for (int k = 0; k < hops; ++k) t.push_back(alpha * std::pow(1 - alpha, k));
  t.push_back(std::pow(1 - alpha, hops));
  return t;
}

/// Heat-kernel coefficients t^k / k!, renormalised over k = 0..K.
std::vector<double> heat_theta(double time, int hops) {
  std::vector<double> t;
  double term = 1, sum = 0;
  for (int k = 0; k <= hops; ++k) {
    if (k > 0) term *= time / k;
    t.push_back(term);
    sum += term;
  }
  for (double& x : t) x /= sum;
  return t;
}

std::vector<double> random_values(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> x(count);
  for (double& e : x) e = rng.normal();
  return x;
}

/// Writes x as an [n, W] .npy of type T; returns the values as stored (rounded to T).
template <typename T>
std::vector<double> write_tensor(const std::string& path, const std::vector<double>& x, Index n) {
  const std::vector<T> typed(x.begin(), x.end());
  write_npy(path, NpyArray::from<T>(std::span<const T>(typed),
                                    {n, static_cast<std::int64_t>(x.size()) / n}));
  return std::vector<double>(typed.begin(), typed.end());
}

/// Reads an output written by the CLI: must be [n, W] of dtype `dtype`.
std::vector<double> read_output(const std::string& path, DType dtype, Index n, std::int64_t w) {
  const NpyArray a = read_npy(path);
  CHECK(a.dtype == dtype);
  CHECK(a.shape == std::vector<std::int64_t>{n, w});
  return a.to_vector<double>();
}

/// Central differences of L = sum(Z ⊙ dZ) of the oracle's forward, for its own backward.
TEST_CASE("The dense oracle's gradients match central differences", "[cli][attention]") {
  const Index n = 6;
  const int heads = 2, D = 2;
  const auto g = make_pattern(n, false, 5);
  const std::size_t size = static_cast<std::size_t>(n) * heads * D;
  std::vector<std::vector<double>> x{random_values(size, 1), random_values(size, 2),
                                     random_values(size, 3)};
  const auto dz = random_values(size, 4);
  const auto theta = ppr_theta(0.3, 3);
  const Oracle o = dense_oracle(g, heads, x[0], x[1], x[2], dz, theta);
  auto loss = [&] {
    const auto z = dense_oracle(g, heads, x[0], x[1], x[2], dz, theta).z;
    double s = 0;
    for (std::size_t e = 0; e < z.size(); ++e) s += z[e] * dz[e];
    return s;
  };
  // h = 1e-5: truncation error O(h^2) ~ 1e-10, rounding ~ 1e-16 / h ~ 1e-11 per entry.
  const double h = 1e-5;
  const std::vector<const std::vector<double>*> analytic{&o.dq, &o.dk, &o.dv};
  for (std::size_t t = 0; t < 3; ++t) {
    std::vector<double> numeric(size);
    for (std::size_t e = 0; e < size; ++e) {
      const double keep = x[t][e];
      x[t][e] = keep + h;
      const double up = loss();
      x[t][e] = keep - h;
      const double down = loss();
      x[t][e] = keep;
      numeric[e] = (up - down) / (2 * h);
    }
    CHECK(rel_error(*analytic[t], numeric) <= 1e-7);
  }
}

struct DiffusionCase {
  std::string args;
  std::vector<double> theta;
};

/// Runs the CLI on one pattern, one dtype and one diffusion, and compares z, dq, dk, dv with
/// the oracle. float32: the kernels round every product and sum to float (depth a few
/// hundred operations on n <= 23), ~1e-6 relative, so 1e-4 leaves a wide margin; float64: the
/// same operations in double, ~1e-14, checked at 1e-10.
template <typename T>
void check_against_oracle(const TempDir& dir, const std::string& graph_file, const CsrGraph& g,
                          const DiffusionCase& dc, const std::string& device = "cpu") {
  const int heads = 2, D = 5;
  const Index n = g.n();
  const std::int64_t w = heads * D;
  const std::size_t size = static_cast<std::size_t>(n) * w;
  const auto q = write_tensor<T>(dir.file("q.npy"), random_values(size, 11), n);
  const auto k = write_tensor<T>(dir.file("k.npy"), random_values(size, 12), n);
  const auto v = write_tensor<T>(dir.file("v.npy"), random_values(size, 13), n);
  const auto dz = write_tensor<T>(dir.file("dz.npy"), random_values(size, 14), n);
  const RunResult r =
      run_cli(dir, "attention --graph '" + graph_file + "' --q '" + dir.file("q.npy") + "' --k '" +
                       dir.file("k.npy") + "' --v '" + dir.file("v.npy") + "' --heads 2 " +
                       dc.args + " --dz '" + dir.file("dz.npy") + "' --grads '" + dir.file("g") +
                       "' --out '" + dir.file("z.npy") + "' --device " + device);
  INFO(dc.args << ", " << (sizeof(T) == 4 ? "float32" : "float64") << ", n = " << n);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  // One summary line on stdout.
  CHECK(r.out.rfind("wrote ", 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  const Oracle o = dense_oracle(g, heads, q, k, v, dz, dc.theta);
  const DType dtype = dtype_of<T>();
  const double tol = sizeof(T) == 4 ? 1e-4 : 1e-10;
  CHECK(rel_error(read_output(dir.file("z.npy"), dtype, n, w), o.z) <= tol);
  CHECK(rel_error(read_output(dir.file("g_dq.npy"), dtype, n, w), o.dq) <= tol);
  CHECK(rel_error(read_output(dir.file("g_dk.npy"), dtype, n, w), o.dk) <= tol);
  CHECK(rel_error(read_output(dir.file("g_dv.npy"), dtype, n, w), o.dv) <= tol);
}

const std::vector<DiffusionCase>& diffusion_cases() {
  static const std::vector<DiffusionCase> cases{
      {"--alpha 0.25 --hops 3", ppr_theta(0.25, 3)},
      {"--heat 1.5 --hops 4", heat_theta(1.5, 4)},
      // Explicit coefficients are taken literally (a negative one, sum 1.25).
      {"--theta 0.5,-0.25,0.5,0.5", {0.5, -0.25, 0.5, 0.5}},
  };
  return cases;
}

}  // namespace

TEST_CASE("diffuser attention matches the dense float64 oracle", "[cli][attention]") {
  TempDir dir;
  for (const bool causal : {false, true}) {
    const CsrGraph g = make_pattern(causal ? 19 : 23, causal, causal ? 7 : 8);
    const std::string graph_file = dir.file(causal ? "causal.mtx" : "random.mtx");
    graph::write_graph(graph_file, g);
    for (const DiffusionCase& dc : diffusion_cases()) {
      check_against_oracle<float>(dir, graph_file, g, dc);
      check_against_oracle<double>(dir, graph_file, g, dc);
    }
  }
  // Only the files written here and by the CLI remain: no temporaries of the atomic writes.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"causal.mtx", "dz.npy", "g_dk.npy", "g_dq.npy",
                                          "g_dv.npy", "k.npy", "q.npy", "random.mtx", "stderr.txt",
                                          "stdout.txt", "v.npy", "z.npy"});
}

TEST_CASE("diffuser attention --hops 0 is plain attention and needs no --dz", "[cli][attention]") {
  TempDir dir;
  const CsrGraph g = make_pattern(9, false, 3);
  graph::write_graph(dir.file("g.txt"), g);  // an edge list: any read_graph format
  const std::size_t size = 9 * 4;
  const auto q = write_tensor<double>(dir.file("q.npy"), random_values(size, 1), 9);
  const auto k = write_tensor<double>(dir.file("k.npy"), random_values(size, 2), 9);
  const auto v = write_tensor<double>(dir.file("v.npy"), random_values(size, 3), 9);
  const RunResult r = run_cli(
      dir, "attention --graph '" + dir.file("g.txt") + "' --q '" + dir.file("q.npy") + "' --k '" +
               dir.file("k.npy") + "' --v '" + dir.file("v.npy") +
               "' --heads 1 --alpha 0.5 --hops 0 --threads 1 --out '" + dir.file("z.npy") + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Oracle o = dense_oracle(g, 1, q, k, v, std::vector<double>(size), {0.0, 1.0});
  CHECK(rel_error(read_output(dir.file("z.npy"), DType::kFloat64, 9, 4), o.z) <= 1e-12);
  CHECK_FALSE(std::filesystem::exists(dir.file("g_dq.npy")));
}

TEST_CASE("diffuser attention --device cuda: GPU result or a clear error", "[cli][attention]") {
  // float64 is always refused (no CUDA build, or the float32-only CUDA backend); float32 ends in
  // a clear error without a CUDA build or a device, and otherwise matches the oracle.
  TempDir dir;
  const CsrGraph g = make_pattern(23, false, 8);
  const std::string graph_file = dir.file("g.mtx");
  graph::write_graph(graph_file, g);
  const std::size_t size = 23 * 10;
  for (const bool fp64 : {true, false}) {
    for (const char* name : {"q.npy", "k.npy", "v.npy"}) {
      const auto x = random_values(size, name[0]);
      if (fp64) {
        write_tensor<double>(dir.file(name), x, 23);
      } else {
        write_tensor<float>(dir.file(name), x, 23);
      }
    }
    const RunResult r =
        run_cli(dir, "attention --graph '" + graph_file + "' --q '" + dir.file("q.npy") +
                         "' --k '" + dir.file("k.npy") + "' --v '" + dir.file("v.npy") +
                         "' --heads 2 --theta 0,1 --device cuda --out '" + dir.file("z.npy") + "'");
    INFO(r.err);
    const bool not_built = r.err.find("built without CUDA") != std::string::npos;
    if (fp64 || r.exit_code != 0) {
      CHECK(r.exit_code == 1);
      CHECK((not_built ||
             r.err.find(fp64 ? "float32 only" : "no CUDA device: ") != std::string::npos));
      CHECK_FALSE(std::filesystem::exists(dir.file("z.npy")));
      if (!fp64) return;
    }
  }
  for (const DiffusionCase& dc : diffusion_cases()) {
    check_against_oracle<float>(dir, graph_file, g, dc, "cuda");
  }
}

namespace {

/// Valid inputs for the error cases: a 6-token window pattern, float32 [6, 4] tensors.
struct ErrorFixture {
  TempDir dir;
  ErrorFixture() {
    std::vector<Index> rows, cols;
    for (Index i = 0; i < 6; ++i) {
      for (Index j = std::max<Index>(0, i - 1); j <= std::min<Index>(5, i + 1); ++j) {
        rows.push_back(i);
        cols.push_back(j);
      }
    }
    graph::write_graph(dir.file("g.mtx"), CsrGraph::from_edges(6, rows, cols));
    for (const char* name : {"q", "k", "v", "dz"}) {
      write_tensor<float>(file(name), random_values(24, name[0]), 6);
    }
  }
  std::string file(const std::string& name) const { return dir.file(name + ".npy"); }

  /// The command line with the given replacements (e.g. "--q" -> other file) and extra args.
  std::string args(const std::string& extra, const std::string& q = "q", const std::string& k = "k",
                   const std::string& v = "v", const std::string& graph_file = "g.mtx") const {
    return "attention --graph '" + dir.file(graph_file) + "' --q '" + file(q) + "' --k '" +
           file(k) + "' --v '" + file(v) + "' --out '" + dir.file("z.npy") + "' " + extra;
  }

  /// Runs and expects exit 1, exactly one stderr line holding every `needles` entry, no z.
  void expect_error(const std::string& command, const std::vector<std::string>& needles) const {
    const RunResult r = run_cli(dir, command);
    INFO(command);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("diffuser: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const std::string& needle : needles) CHECK(r.err.find(needle) != std::string::npos);
    CHECK(r.out.empty());
    CHECK_FALSE(std::filesystem::exists(dir.file("z.npy")));
  }
};

}  // namespace

TEST_CASE("diffuser attention: shape, dtype and value errors name the file",
          "[cli][attention][errors]") {
  ErrorFixture f;
  const std::string ppr = "--heads 2 --alpha 0.1 --hops 2";
  write_tensor<float>(f.file("k_wide"), random_values(36, 1), 6);  // [6, 6]
  f.expect_error(f.args(ppr, "q", "k_wide"), {"k_wide.npy (--k)", "shape [6, 6]", "[6, 4]"});
  write_tensor<float>(f.file("dz_narrow"), random_values(12, 1), 6);  // [6, 2]
  f.expect_error(
      f.args(ppr + " --dz '" + f.file("dz_narrow") + "' --grads '" + f.dir.file("g") + "'"),
      {"dz_narrow.npy (--dz)", "shape [6, 2]"});
  for (const char* name : {"q5", "k5", "v5"}) {
    write_tensor<float>(f.file(name), random_values(20, 2), 5);  // [5, 4]
  }
  f.expect_error(f.args(ppr, "q5", "k5", "v5"), {"q5.npy (--q) has 5 rows", "n = 6", "g.mtx"});
  {
    const std::vector<float> x(24, 1.0f);
    write_npy(f.file("q3d"), NpyArray::from<float>(std::span<const float>(x), {6, 2, 2}));
  }
  f.expect_error(f.args(ppr, "q3d"), {"q3d.npy (--q)", "not 2-D"});
  f.expect_error(f.args("--heads 3 --alpha 0.1 --hops 2"),
                 {"--heads 3 does not divide the width 4"});
  f.expect_error(f.args("--heads 0 --alpha 0.1 --hops 2"), {"--heads 0"});
  write_tensor<double>(f.file("v64"), random_values(24, 3), 6);
  f.expect_error(f.args(ppr, "q", "k", "v64"),
                 {"mixed dtypes", "float32", "v64.npy (--v) is float64"});
  {
    const std::vector<std::int32_t> x(24, 1);
    write_npy(f.file("qint"),
              NpyArray::from<std::int32_t>(std::span<const std::int32_t>(x), {6, 4}));
  }
  f.expect_error(f.args(ppr, "qint"), {"qint.npy (--q)", "dtype <i4"});
  f.expect_error(f.args(ppr, "missing"), {"missing.npy"});
  {
    auto x = random_values(24, 4);
    x[2 * 4 + 1] = std::numeric_limits<double>::quiet_NaN();
    x[5 * 4 + 3] = std::numeric_limits<double>::quiet_NaN();  // only the first is named
    write_tensor<float>(f.file("k_nan"), x, 6);
    auto y = random_values(24, 5);
    y[5 * 4 + 3] = -std::numeric_limits<double>::infinity();
    write_tensor<float>(f.file("dz_inf"), y, 6);
  }
  f.expect_error(f.args(ppr, "q", "k_nan"), {"k_nan.npy (--k)", "element [2, 1] is nan"});
  f.expect_error(f.args(ppr + " --dz '" + f.file("dz_inf") + "' --grads '" + f.dir.file("g") + "'"),
                 {"dz_inf.npy (--dz)", "element [5, 3] is -inf"});
  CHECK_FALSE(std::filesystem::exists(f.dir.file("g_dq.npy")));
}

TEST_CASE("diffuser attention: an empty pattern row is named", "[cli][attention][errors]") {
  ErrorFixture f;
  // Row 4 (0-based) has no entry: 1-based rows 1, 2, 3, 4, 6 only.
  diffuser::testing::write_file(f.dir.file("holes.mtx"),
                                "%%MatrixMarket matrix coordinate pattern general\n"
                                "6 6 5\n1 1\n2 2\n3 3\n4 4\n6 6\n");
  f.expect_error(f.args("--heads 2 --alpha 0.1 --hops 2", "q", "k", "v", "holes.mtx"),
                 {"holes.mtx", "row 4 has no keys"});
}

TEST_CASE("diffuser attention: option errors", "[cli][attention][errors]") {
  ErrorFixture f;
  const std::string dz = " --dz '" + f.file("dz") + "'";
  const std::string grads = " --grads '" + f.dir.file("g") + "'";
  f.expect_error(f.args("--heads 2 --alpha 0.1 --hops 2" + dz), {"--dz needs --grads"});
  f.expect_error(f.args("--heads 2 --alpha 0.1 --hops 2" + grads), {"--grads needs --dz"});
  f.expect_error(f.args("--heads 2 --alpha 0.1 --heat 1 --hops 2"),
                 {"exclude each other", "--alpha and --heat"});
  f.expect_error(f.args("--heads 2 --alpha 0.1 --theta 0.5,0.5"),
                 {"exclude each other", "--alpha and --theta"});
  f.expect_error(f.args("--heads 2 --theta 0.5,0.5 --hops 1"), {"--hops does not go with --theta"});
  for (const char* alpha : {"1.5", "-0.1", "nan"}) {
    f.expect_error(f.args("--heads 2 --hops 2 --alpha " + std::string(alpha)),
                   {"--alpha = ", "outside [0, 1]"});
  }
  f.expect_error(f.args("--heads 2 --hops -1 --alpha 0.1"), {"--hops = -1 outside [0, 1024]"});
  f.expect_error(f.args("--heads 2 --hops 1025"), {"--hops = 1025 outside [0, 1024]"});
  f.expect_error(f.args("--heads 2 --hops 2 --heat -1"), {"--heat = -1", "outside [0, 10000]"});
  f.expect_error(f.args("--heads 2 --heat 1e5"), {"--heat = 100000", "heat-kernel time"});
  f.expect_error(f.args("--heads 2 --theta 0.5,,0.5"), {"--theta '0.5,,0.5'", "entry 2 is empty"});
  f.expect_error(f.args("--heads 2 --theta 0.5,abc"), {"entry 2 'abc' is not a number"});
  f.expect_error(f.args("--heads 2 --theta 0.5,1e400"), {"entry 2 '1e400' is out of range"});
  f.expect_error(f.args("--heads 2 --theta 0.5,inf"), {"entry 2 'inf' is not finite"});
  f.expect_error(f.args("--heads 2 --theta ''"), {"--theta is empty"});
  f.expect_error(f.args("--heads 2 --alpha 0.1 --hops 2 --threads 0"), {"--threads 0"});
  f.expect_error(
      f.args("--heads 2 --alpha 0.1 --hops 2" + dz + " --grads '" + f.dir.file("nowhere/g") + "'"),
      {"nowhere/g_dq.npy", "folder", "does not exist"});
  // Boundary values that are valid: alpha = 1 (Z = V), alpha = 0 (Z = A^K V), heat t = 0; and
  // the shared defaults (docs/cli.md, "Diffusion options"): no option is PPR alpha = 0.1,
  // K = 5, --alpha alone keeps K = 5, --heat alone too, --hops alone keeps alpha = 0.1.
  for (const char* ok : {"--alpha 1 --hops 2", "--alpha 0 --hops 2", "--heat 0 --hops 3", "",
                         "--alpha 0.2", "--heat 1", "--hops 2"}) {
    const RunResult r = run_cli(f.dir, f.args("--heads 2 " + std::string(ok)));
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
  // Unknown --device values are usage errors (exit 2).
  CHECK(run_cli(f.dir, f.args("--heads 2 --alpha 0.1 --hops 2 --device tpu")).exit_code == 2);
}
