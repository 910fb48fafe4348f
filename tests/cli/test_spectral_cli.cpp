// Why: acceptance checks of `diffuser spectral approx` as a user runs it: the CSV has the
// documented header and one row per combination, its numbers match an independent dense
// float64 computation written here from the definitions (softmax on the pattern, the PPR
// polynomial in closed form, full softmax attention), diffusion brings a window pattern closer to
// full attention, the full pattern without diffusion is full attention, the output does not
// depend on the thread count, and every bad option ends in one clear line on stderr. Also
// `diffuser spectral FILE` with the shared diffusion options (cli/DiffusionOptions), and
// `diffuser spectral suggest-hops` against a dense brute force of epsilon(K).
#include <sys/wait.h>

#include <Eigen/Dense>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/Npy.hpp"
#include "core/Rng.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"
#include "tests/cli/CliShell.hpp"

using namespace diffuser;
using diffuser::testing::TempDir;
using graph::Index;

namespace {

using diffuser::testing::run_cli;
using diffuser::testing::RunResult;
using diffuser::testing::slurp;

// RFC 4180 CSV: quoted fields may hold commas; "" inside quotes is one quote.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
    } else {
      field += c;
    }
  }
  REQUIRE(field.empty());
  REQUIRE(row.empty());
  return rows;
}

const std::vector<std::string> kHeader{
    "pattern",      "spec",           "n",    "nnz",         "heads",   "head_dim",   "inputs",
    "diffusion",    "alpha",          "hops", "z_rel_error", "op_rows", "op_l1_mean", "op_l1_max",
    "full_seconds", "pattern_seconds"};

// The CSV as maps column -> value, after checking the header.
std::vector<std::map<std::string, std::string>> read_table(const std::string& text) {
  const auto rows = parse_csv(text);
  REQUIRE(!rows.empty());
  REQUIRE(rows[0] == kHeader);
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    REQUIRE(rows[r].size() == kHeader.size());
    std::map<std::string, std::string> m;
    for (std::size_t c = 0; c < kHeader.size(); ++c) m[kHeader[c]] = rows[r][c];
    out.push_back(m);
  }
  return out;
}

double num(const std::map<std::string, std::string>& row, const std::string& key) {
  const std::string& s = row.at(key);
  REQUIRE_FALSE(s.empty());
  return std::stod(s);
}

void write_matrix(const std::string& path, const std::vector<double>& x, Index n, Index w) {
  write_npy(path, NpyArray::from<double>(x, {n, w}));
}

// Dense float64 reference of one (pattern, diffusion) on given inputs, from the definitions.
struct Reference {
  double z_rel_error = 0.0;
  std::vector<double> row_l1;  // per head and row
};

Reference dense_reference(const std::vector<double>& q, const std::vector<double>& k,
                          const std::vector<double>& v, Index n, int heads, int d,
                          const graph::CsrGraph* pattern, int hops, double alpha) {
  using Eigen::MatrixXd;
  const int w = heads * d;
  const auto rm = [&](const std::vector<double>& x) {
    MatrixXd m(n, w);
    for (Index i = 0; i < n; ++i)
      for (int c = 0; c < w; ++c) m(i, c) = x[static_cast<std::size_t>(i) * w + c];
    return m;
  };
  const MatrixXd Q = rm(q), K = rm(k), V = rm(v);
  MatrixXd mask = MatrixXd::Zero(n, n);
  for (Index i = 0; i < n; ++i)
    for (Index j : pattern->row(i)) mask(i, j) = 1.0;
  // Closed-form coefficients: hops 0 is A itself; else theta_k = alpha (1-alpha)^k, k < K, and
  // theta_K = (1-alpha)^K.
  std::vector<double> theta;
  if (hops == 0) {
    theta = {0.0, 1.0};
  } else {
    for (int kk = 0; kk < hops; ++kk) theta.push_back(alpha * std::pow(1 - alpha, kk));
    theta.push_back(std::pow(1 - alpha, hops));
  }
  Reference ref;
  double num2 = 0, den2 = 0;
  for (int h = 0; h < heads; ++h) {
    const MatrixXd S = Q.middleCols(h * d, d) * K.middleCols(h * d, d).transpose() / std::sqrt(d);
    MatrixXd A = MatrixXd::Zero(n, n), F(n, n);
    for (Index i = 0; i < n; ++i) {
      const double mf = S.row(i).maxCoeff();
      F.row(i) = (S.row(i).array() - mf).exp();
      F.row(i) /= F.row(i).sum();
      double ma = -1e300;
      for (Index j = 0; j < n; ++j)
        if (mask(i, j) > 0) ma = std::max(ma, S(i, j));
      for (Index j = 0; j < n; ++j)
        if (mask(i, j) > 0) A(i, j) = std::exp(S(i, j) - ma);
      A.row(i) /= A.row(i).sum();
    }
    MatrixXd f = MatrixXd::Zero(n, n), power = MatrixXd::Identity(n, n);
    for (std::size_t kk = 0; kk < theta.size(); ++kk) {
      f += theta[kk] * power;
      power = power * A;
    }
    const MatrixXd zp = f * V.middleCols(h * d, d), zf = F * V.middleCols(h * d, d);
    num2 += (zp - zf).squaredNorm();
    den2 += zf.squaredNorm();
    for (Index i = 0; i < n; ++i) ref.row_l1.push_back((f.row(i) - F.row(i)).cwiseAbs().sum());
  }
  ref.z_rel_error = std::sqrt(num2 / den2);
  return ref;
}

std::vector<double> seeded(std::uint64_t seed, std::size_t count, double sd) {
  Rng rng(seed);
  std::vector<double> x(count);
  for (double& e : x) e = sd * rng.normal();
  return x;
}

}  // namespace

TEST_CASE("spectral approx matches an independent dense float64 computation",
          "[cli][spectral][approx]") {
  TempDir dir;
  const Index n = 40;
  const int heads = 2, d = 3, w = heads * d;
  const auto q = seeded(1, n * w, 1.5), k = seeded(2, n * w, 1.5), v = seeded(3, n * w, 1.0);
  write_matrix(dir.file("q.npy"), q, n, w);
  write_matrix(dir.file("k.npy"), k, n, w);
  write_matrix(dir.file("v.npy"), v, n, w);
  const std::vector<std::string> specs{"window=2,random=3,seed=7", "window=1,global=2"};
  const std::string files = "--q '" + dir.file("q.npy") + "' --k '" + dir.file("k.npy") +
                            "' --v '" + dir.file("v.npy") + "' --heads 2";
  const RunResult r = run_cli(
      dir, "spectral approx " + files + " --pattern " + specs[0] + " --pattern " + specs[1] +
               " --hops 0,3 --alpha 0.25 --threads 1 --out '" + dir.file("a.csv") + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto table = read_table(slurp(dir.file("a.csv")));
  REQUIRE(table.size() == 4);  // 2 patterns x (hops 0, hops 3 with one alpha)
  std::size_t row = 0;
  for (const std::string& spec : specs) {
    const graph::CsrGraph g = graph::build_pattern(n, graph::parse_pattern_spec(spec));
    for (int hops : {0, 3}) {
      const auto& t = table[row++];
      CHECK(t.at("pattern") == spec);
      CHECK(num(t, "n") == n);
      CHECK(num(t, "nnz") == g.nnz());
      CHECK(num(t, "hops") == hops);
      CHECK(t.at("alpha") == (hops == 0 ? "" : "0.25"));
      CHECK(num(t, "op_rows") == n);  // n <= --operator-rows: every row
      const Reference ref = dense_reference(q, k, v, n, heads, d, &g, hops, 0.25);
      double mean = 0, mx = 0;
      for (double x : ref.row_l1) {
        mean += x;
        mx = std::max(mx, x);
      }
      mean /= static_cast<double>(ref.row_l1.size());
      INFO(spec << " hops " << hops << ": z " << t.at("z_rel_error") << " vs " << ref.z_rel_error
                << ", l1 " << t.at("op_l1_mean") << " vs " << mean);
      // Both sides are float64 with different summation orders over <= 40 terms per product;
      // 1e-10 relative leaves ~10^5 ulps of room and still catches any convention slip.
      CHECK(std::abs(num(t, "z_rel_error") - ref.z_rel_error) <= 1e-10 * ref.z_rel_error);
      CHECK(std::abs(num(t, "op_l1_mean") - mean) <= 1e-10 * mean);
      CHECK(std::abs(num(t, "op_l1_max") - mx) <= 1e-10 * mx);
    }
  }

  // A row sample: 7 of the 40 rows; the mean and the max lie within the exact per-row range.
  const RunResult s = run_cli(dir, "spectral approx " + files + " --pattern " + specs[0] +
                                       " --hops 3 --alpha 0.25 --operator-rows 7 --threads 1");
  REQUIRE(s.exit_code == 0);
  const auto sampled = read_table(s.out);
  REQUIRE(sampled.size() == 1);
  CHECK(num(sampled[0], "op_rows") == 7);
  const graph::CsrGraph g = graph::build_pattern(n, graph::parse_pattern_spec(specs[0]));
  const Reference ref = dense_reference(q, k, v, n, heads, d, &g, 3, 0.25);
  const double lo = *std::min_element(ref.row_l1.begin(), ref.row_l1.end());
  const double hi = *std::max_element(ref.row_l1.begin(), ref.row_l1.end());
  CHECK(num(sampled[0], "op_l1_mean") >= lo * (1 - 1e-10));
  CHECK(num(sampled[0], "op_l1_max") <= hi * (1 + 1e-10));
  CHECK(num(sampled[0], "op_l1_mean") <= num(sampled[0], "op_l1_max"));
  // z_rel_error does not depend on the row sample.
  CHECK(std::abs(num(sampled[0], "z_rel_error") - ref.z_rel_error) <= 1e-10 * ref.z_rel_error);
}

TEST_CASE("spectral approx: header, row count, diffusion helps a window, full K=0 is exact",
          "[cli][spectral][approx]") {
  TempDir dir;
  const std::string csv = dir.file("sweep.csv");
  const RunResult r = run_cli(
      dir,
      "spectral approx --pattern window=4 --pattern full --lengths 96,160 --hops 0,1,2,4,8 "
      "--alpha 0.1,0.3 --heads 2 --head-dim 8 --qk-std 0.5 --input-seed 5 --threads 1 --out '" +
          csv + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto table = read_table(slurp(csv));
  // 2 lengths x 2 patterns x (hops 0 + 4 hops x 2 alphas).
  REQUIRE(table.size() == 2 * 2 * 9);
  for (const auto& t : table) {
    CHECK(num(t, "heads") == 2);
    CHECK(num(t, "head_dim") == 8);
    CHECK(t.at("inputs") == "normal(seed=5,qk_std=0.5)");
    CHECK(num(t, "op_rows") == num(t, "n"));
    // Row-l1 distances between two stochastic rows lie in [0, 2].
    CHECK(num(t, "op_l1_mean") >= 0.0);
    CHECK(num(t, "op_l1_max") <= 2.0);
  }
  for (const std::string len : {"96", "160"}) {
    for (const std::string alpha : {"0.1", "0.3"}) {
      // Window pattern, fixed alpha: every extra hop of PPR diffusion brings Z and the operator
      // closer to full attention (the window's walk spreads towards the near-uniform full
      // softmax rows). K = 0 -> 1 is not monotone: theta = (alpha, 1 - alpha) adds alpha V,
      // which full attention does not have (the alpha I term, docs/spectral.md section 7).
      double prev_z = std::numeric_limits<double>::infinity(), prev_op = prev_z;
      double z0 = 0.0, z8 = 0.0, op0 = 0.0, op8 = 0.0;
      for (const auto& t : table) {
        if (t.at("pattern") != "window=4" || t.at("n") != len) continue;
        if (t.at("hops") == "0") {
          z0 = num(t, "z_rel_error");
          op0 = num(t, "op_l1_mean");
          continue;
        }
        if (t.at("alpha") != alpha) continue;
        INFO("n " << len << " alpha " << alpha << " hops " << t.at("hops") << ": z "
                  << t.at("z_rel_error") << ", l1 " << t.at("op_l1_mean"));
        CHECK(num(t, "z_rel_error") < prev_z);
        // K = 1 has the same row-l1 distance as K = 0 up to rounding (both rows dominate F on
        // the window, so the distance is 1 - F(window) + F(outside) for any mixture), hence
        // 1e-12 of slack; from K = 2 on the support grows and the distance falls.
        CHECK(num(t, "op_l1_mean") < prev_op + 1e-12);
        prev_z = num(t, "z_rel_error");
        prev_op = num(t, "op_l1_mean");
        if (t.at("hops") == "8") {
          z8 = num(t, "z_rel_error");
          op8 = num(t, "op_l1_mean");
        }
      }
      CHECK(op8 < op0 - 0.05);
      // With alpha = 0.1 eight hops beat plain window attention on Z as well; with alpha = 0.3
      // the alpha V term keeps Z further from full attention than no diffusion at all.
      if (alpha == "0.1") CHECK(z8 < z0);
    }
    // Full pattern, K = 0: the same computation as full attention (float64 rounding only).
    bool seen = false;
    for (const auto& t : table) {
      if (t.at("pattern") != "full" || t.at("n") != len || t.at("hops") != "0") continue;
      seen = true;
      CHECK(t.at("spec") == "full");
      CHECK(num(t, "z_rel_error") < 1e-12);
      CHECK(num(t, "op_l1_max") < 1e-12);
    }
    CHECK(seen);
  }
}

TEST_CASE("spectral approx gives the same CSV for any thread count", "[cli][spectral][approx]") {
  TempDir dir;
  const std::string args =
      "spectral approx --pattern window=3,random=2 --pattern preset=diffuser --lengths 200 "
      "--hops 0,2,5 --alpha 0.1 --heads 2 --head-dim 4 --operator-rows 50";
  const RunResult one = run_cli(dir, args + " --threads 1");
  const RunResult two = run_cli(dir, args + " --threads 2");
  REQUIRE(one.exit_code == 0);
  REQUIRE(two.exit_code == 0);
  auto a = parse_csv(one.out), b = parse_csv(two.out);
  REQUIRE(a.size() == 7);
  REQUIRE(a.size() == b.size());
  for (std::size_t r = 0; r < a.size(); ++r) {
    a[r].resize(a[r].size() - 2);  // drop full_seconds, pattern_seconds
    b[r].resize(b[r].size() - 2);
    CHECK(a[r] == b[r]);
  }
}

TEST_CASE("spectral approx: every bad option ends in one clear error line",
          "[cli][spectral][approx][errors]") {
  TempDir dir;
  const Index n = 12;
  write_matrix(dir.file("q.npy"), seeded(1, n * 6, 1.0), n, 6);
  write_matrix(dir.file("k.npy"), seeded(2, n * 6, 1.0), n, 6);
  write_matrix(dir.file("v.npy"), seeded(3, n * 6, 1.0), n, 6);
  write_matrix(dir.file("v5.npy"), seeded(3, 10 * 6, 1.0), 10, 6);
  auto bad = seeded(3, n * 6, 1.0);
  bad[13] = std::numeric_limits<double>::quiet_NaN();
  write_matrix(dir.file("nan.npy"), bad, n, 6);
  write_npy(dir.file("flat.npy"), NpyArray::from<double>(seeded(4, 12, 1.0), {12}));
  const std::string q = " --q '" + dir.file("q.npy") + "' --k '" + dir.file("k.npy") + "'";
  const std::string base = "spectral approx --threads 1 --pattern window=2 ";
  const std::vector<std::pair<std::string, std::string>> cases{
      {base + "--alpha 1.5 --lengths 16", "--alpha value 1.5 outside [0, 1]"},
      {base + "--alpha 0.1,0.1 --lengths 16", "--alpha lists 0.1 twice"},
      {base + "--hops 2,2 --lengths 16", "--hops lists 2 twice"},
      {base + "--hops -1 --lengths 16", "--hops value -1 outside [0, 1024]"},
      {base + "--hops 2000 --lengths 16", "--hops value 2000 outside [0, 1024]"},
      {base + "--lengths 1", "--lengths value 1 is too small"},
      {base + "--lengths 16,16", "--lengths lists 16 twice"},
      {base + "--lengths 16 --heads 0", "--heads must be >= 1"},
      {base + "--lengths 16 --head-dim 0", "--head-dim must be >= 1"},
      {base + "--lengths 16 --qk-std 0", "--qk-std must be finite and > 0"},
      {base + "--lengths 16 --operator-rows -1", "--operator-rows must be >= 0"},
      {"spectral approx --pattern window=2 --lengths 16 --threads -2", "--threads must be >= 0"},
      {base + "--lengths 200000", "full attention at n = 200000"},
      {"spectral approx --pattern window=x --lengths 16", "window"},
      {"spectral approx --pattern nonsense=3 --lengths 16", "nonsense"},
      {base + "--lengths 16 --q '" + dir.file("q.npy") + "'", "give all three of --q, --k, --v"},
      {base + q + " --v '" + dir.file("v.npy") + "' --lengths 16", "differs from n = 12"},
      {base + q + " --v '" + dir.file("v.npy") + "' --heads 4", "not a multiple of --heads 4"},
      {base + q + " --v '" + dir.file("v5.npy") + "'", "must have the same shape"},
      {base + q + " --v '" + dir.file("nan.npy") + "'", "nan"},
      {base + q + " --v '" + dir.file("flat.npy") + "'", "expected a 2-D array"},
      {base + q + " --v '" + dir.file("missing.npy") + "'", "missing.npy"},
  };
  for (const auto& [args, needle] : cases) {
    const RunResult r = run_cli(dir, args);
    INFO(args << "\n stderr: " << r.err);
    CHECK((r.exit_code == 1 || r.exit_code == 2));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(r.out.empty());
  }
}

namespace {

// The number after `"key": ` at or after `from` in a JSON text (NaN when absent).
double json_value(const std::string& text, const std::string& key, std::size_t from = 0) {
  const std::size_t at = text.find("\"" + key + "\": ", from);
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::strtod(text.c_str() + at + key.size() + 4, nullptr);
}

}  // namespace

TEST_CASE("spectral FILE: the shared diffusion options mean the same as everywhere",
          "[cli][spectral]") {
  TempDir dir;
  const std::string g = dir.file("g.mtx");
  REQUIRE(run_cli(dir, "graph build --n 120 --window 2 --random 2 --seed 4 --out '" + g + "'")
              .exit_code == 0);
  const std::string base = "spectral '" + g + "' --threads 1";
  // No diffusion option: no "diffused" section.
  const RunResult none = run_cli(dir, base);
  REQUIRE(none.exit_code == 0);
  CHECK(none.out.find("\"diffused\"") == std::string::npos);
  // One default (PPR alpha = 0.1, K = 5), --alpha alone keeps K = 5, --heat alone too,
  // --infinite drops the truncation, --hops 0 is plain attention, --theta is taken as is.
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--hops 5", "ppr(alpha=0.1,K=5)"},   {"--alpha 0.2", "ppr(alpha=0.2,K=5)"},
      {"--heat 2", "heat(t=2,K=5)"},        {"--alpha 0.2 --infinite", "ppr(alpha=0.2)"},
      {"--heat 2 --infinite", "heat(t=2)"}, {"--infinite", "ppr(alpha=0.1)"},
      {"--alpha 0.3 --hops 0", "none"},     {"--theta 0.5,0.5", "theta=[0.5,0.5]"}};
  for (const auto& [args, spec] : cases) {
    const RunResult r = run_cli(dir, base + " " + args);
    INFO(args << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"spec\": \"" + spec + "\"") != std::string::npos);
    const std::size_t diffused = r.out.find("\"diffused\"");
    REQUIRE(diffused != std::string::npos);
    const double mu2 = json_value(r.out, "mu2");
    const double f_mu2 = json_value(r.out, "f_mu2", diffused);
    if (spec == "none") CHECK(f_mu2 == mu2);
    // theta = (0.5, 0.5): f(mu) = (1 + mu) / 2.
    if (spec.rfind("theta", 0) == 0) CHECK(f_mu2 == Approx((1 + mu2) / 2).epsilon(1e-14));
    // The untruncated PPR: f(mu) = alpha / (1 - (1 - alpha) mu).
    if (spec == "ppr(alpha=0.2)") CHECK(f_mu2 == Approx(0.2 / (1 - 0.8 * mu2)).epsilon(1e-14));
  }
  const std::vector<std::pair<std::string, std::string>> errors{
      {"--alpha 0 --infinite", "--alpha = 0 outside (0, 1]"},
      {"--infinite --hops 3", "--infinite does not go with --hops"},
      {"--theta 0.5,0.5 --infinite", "--infinite does not go with --theta"},
      {"--alpha 0.1 --heat 1", "exclude each other"},
      {"--hops 2000", "--hops = 2000 outside [0, 1024]"},
      {"--heat 20000", "--heat = 20000 outside [0, 10000]"}};
  for (const auto& [args, needle] : errors) {
    const RunResult r = run_cli(dir, base + " " + args);
    INFO(args << "\n" << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(needle) != std::string::npos);
  }
  // The sweep lists take the same limits and name the option.
  const RunResult sweep =
      run_cli(dir, "spectral sweep --pattern window-only --lengths 64 --hops 2 --alpha 1.5");
  CHECK(sweep.exit_code == 1);
  CHECK(sweep.err.find("--alpha = 1.5 outside [0, 1]") != std::string::npos);
}

TEST_CASE("spectral suggest-hops: the K of a dense brute force, the reasoning, the errors",
          "[cli][spectral]") {
  TempDir dir;
  // A small pattern: every eigenvalue is computed, so epsilon(K) is exact; the brute force is
  // the dense eigen-decomposition of M = D^-1/2 S D^-1/2 with p_K in closed form.
  const Index n = 40;
  const std::string spec = "window=2,random=2,seed=9";
  const graph::CsrGraph g = graph::build_pattern(n, graph::parse_pattern_spec(spec));
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(n, n);
  for (Index i = 0; i < n; ++i) {
    for (Index j : g.row(i)) s(i, j) = s(j, i) = 1.0;
  }
  const Eigen::VectorXd isq = s.rowwise().sum().cwiseSqrt().cwiseInverse();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(isq.asDiagonal() * s * isq.asDiagonal());
  std::vector<double> mu(es.eigenvalues().data(), es.eigenvalues().data() + n);
  std::sort(mu.rbegin(), mu.rend());
  const double alpha = 0.2, target = 0.6;
  const int max_hops = 30;
  std::vector<double> eps;
  for (int k = 0; k <= max_hops; ++k) {
    double e = 0;
    for (std::size_t i = 1; i < mu.size(); ++i) {
      double p = k == 0 ? mu[i] : std::pow((1 - alpha) * mu[i], k);
      for (int m = 0; m < k; ++m) p += alpha * std::pow((1 - alpha) * mu[i], m);
      e = std::max(e, std::abs(p));
    }
    eps.push_back(e);
  }
  int expected = -1;
  for (int k = 0; k <= max_hops && expected < 0; ++k) {
    if (eps[static_cast<std::size_t>(k)] <= target) expected = k;
  }
  REQUIRE(expected > 0);
  const std::string args =
      " --alpha 0.2 --epsilon 0.6 --max-hops 30 --out '" + dir.file("s.json") + "'";
  const RunResult r = run_cli(dir, "spectral suggest-hops --n 40 --spec " + spec + args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(nlohmann::json::parse(slurp(dir.file("s.json"))) == j);
  CHECK(j.at("hops") == expected);
  CHECK(j.at("rule") == "target");
  CHECK(j.at("target_reached") == true);
  CHECK(j.at("diffusion") == "ppr(alpha=0.2,K=" + std::to_string(expected) + ")");
  CHECK(j.at("eigenvalues").get<std::string>().rfind("all (dense)", 0) == 0);
  REQUIRE(j.at("curve").size() == static_cast<std::size_t>(max_hops) + 1);
  for (int k = 0; k <= max_hops; ++k) {
    CHECK(j.at("curve")[k].at("hops") == k);
    CHECK(j.at("curve")[k].at("epsilon").get<double>() ==
          Approx(eps[static_cast<std::size_t>(k)]).margin(1e-10));
  }
  CHECK(j.at("reasoning").get<std::string>().find("K = " + std::to_string(expected) + ":") == 0);
  CHECK(r.err.find("suggest-hops: K = ") != std::string::npos);

  // The same pattern from a file gives the same answer.
  REQUIRE(run_cli(dir, "graph build --n 40 --spec " + spec + " --out '" + dir.file("g.mtx") + "'")
              .exit_code == 0);
  const RunResult f = run_cli(dir, "spectral suggest-hops '" + dir.file("g.mtx") + "'" + args);
  REQUIRE(f.exit_code == 0);
  CHECK(nlohmann::json::parse(f.out).at("hops") == expected);

  // A local window at 1,024 tokens: the target is below what any K can reach, so the
  // convergence rule decides and says why.
  const RunResult w = run_cli(dir, "spectral suggest-hops --n 1024 --spec window=3 --epsilon 0.5");
  REQUIRE(w.exit_code == 0);
  const auto jw = nlohmann::json::parse(w.out);
  CHECK(jw.at("rule") == "converged");
  CHECK(jw.at("target_reached") == false);
  CHECK(jw.at("eigenvalues").get<std::string>().rfind("mu2 and mu_min only", 0) == 0);
  CHECK(jw.at("reasoning").get<std::string>().find("below the untruncated limit") !=
        std::string::npos);

  const std::vector<std::pair<std::string, std::string>> errors{
      {"--n 40 --spec window=2 --epsilon 0", "--epsilon = 0 outside (0, 1]"},
      {"--n 40 --spec window=2 --alpha 2", "--alpha = 2 outside [0, 1]"},
      {"--n 40 --spec window=2 --rel-tol 1", "--rel-tol = 1 outside (0, 1)"},
      {"--n 40 --spec window=2 --max-hops 2000", "--max-hops = 2000 outside [0, 1024]"},
      {"", "no pattern: give a graph FILE, or --n N"},
      {"'" + dir.file("g.mtx") + "' --spec window=2", "give either a graph FILE or --n"},
      {"--n 1 --spec window=2", "needs n >= 2"},
      {"--n 40 --spec bogus=1", "unknown key 'bogus'"}};
  for (const auto& [a, needle] : errors) {
    const RunResult e = run_cli(dir, "spectral suggest-hops " + a);
    INFO(a << "\n" << e.err);
    CHECK(e.exit_code == 1);
    CHECK(e.err.find(needle) != std::string::npos);
  }
}
