// Why: checks of issue 7. The viz library against dense brute-force references (block sums,
// powers of A, softmax of the documented random draws), and `diffuser viz` as a user runs it:
// output shapes, a density map that sums to nnz, receptive rows that sum to sum_k theta_k for a
// row-stochastic A, and one clear error line for every bad option.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "core/Npy.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "graph/GraphExport.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/PatternEigenvalues.hpp"
#include "tests/Testing.hpp"
#include "tests/cli/CliShell.hpp"
#include "viz/DegreeProfile.hpp"
#include "viz/DensityMap.hpp"
#include "viz/ReceptiveSpread.hpp"
#include "viz/WeightModel.hpp"
#include "viz/WeightedDot.hpp"

using namespace diffuser;
using diffuser::graph::CsrGraph;
using diffuser::graph::Index;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;
using Dense = std::vector<std::vector<double>>;

namespace {

using diffuser::testing::run_cli;
using diffuser::testing::RunResult;
using diffuser::testing::slurp;

/// A failing command: exit 1 or 2 (never a signal), exactly one stderr line holding `needle`.
void expect_error(const TempDir& dir, const std::string& args, const std::string& needle) {
  INFO("diffuser " << args);
  const RunResult r = run_cli(dir, args);
  CHECK((r.exit_code == 1 || r.exit_code == 2));
  INFO("stderr: " << r.err);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

Dense to_dense(const CsrGraph& g, bool weighted) {
  Dense d(g.n(), std::vector<double>(g.n(), 0.0));
  for (Index i = 0; i < g.n(); ++i) {
    for (Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) {
      d[i][g.columns()[e]] = weighted ? static_cast<double>(g.values()[e]) : 1.0;
    }
  }
  return d;
}

Dense matmul(const Dense& a, const Dense& b) {
  const std::size_t n = a.size();
  Dense c(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < n; ++k) {
      if (a[i][k] == 0.0) continue;
      for (std::size_t j = 0; j < n; ++j) c[i][j] += a[i][k] * b[k][j];
    }
  }
  return c;
}

/// sum_k theta_k A^k, densely.
Dense diffused_dense(const Dense& a, const std::vector<double>& theta) {
  const std::size_t n = a.size();
  Dense power(n, std::vector<double>(n, 0.0)), out(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) power[i][i] = 1.0;
  for (std::size_t k = 0; k < theta.size(); ++k) {
    if (k > 0) power = matmul(power, a);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) out[i][j] += theta[k] * power[i][j];
    }
  }
  return out;
}

/// Block sums of a dense matrix over the documented partition starts[b] = floor(b n / P).
std::vector<double> block_sums(const Dense& w, Index pixels) {
  const auto n = static_cast<std::int64_t>(w.size());
  const std::int64_t p = std::min<std::int64_t>(n, pixels);
  std::vector<double> out(static_cast<std::size_t>(p * p), 0.0);
  for (std::int64_t bi = 0; bi < p; ++bi) {
    for (std::int64_t bj = 0; bj < p; ++bj) {
      for (std::int64_t i = bi * n / p; i < (bi + 1) * n / p; ++i) {
        for (std::int64_t j = bj * n / p; j < (bj + 1) * n / p; ++j) out[bi * p + bj] += w[i][j];
      }
    }
  }
  return out;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

CsrGraph small_pattern(Index n, const std::string& spec) {
  return graph::build_pattern(n, graph::parse_pattern_spec(spec));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("density maps equal dense block sums and count every edge", "[viz]") {
  for (const Index n : {1, 7, 37, 100}) {
    const CsrGraph g = small_pattern(n, "window=2,global=1,random=3,seed=4");
    const Dense dense = to_dense(g, false);
    for (const Index pixels : {1, 3, 7, 16, 100, 500}) {
      INFO("n = " << n << ", pixels = " << pixels);
      const viz::DensityMap m = viz::density_map(g, pixels);
      const Index p = std::min(n, pixels);
      REQUIRE(m.pixels == p);
      REQUIRE(m.starts.size() == static_cast<std::size_t>(p + 1));
      CHECK(m.starts.front() == 0);
      CHECK(m.starts.back() == n);
      for (Index i = 0; i < n; ++i) {
        const Index b = viz::block_of(i, n, p);
        CHECK((m.starts[b] <= i && i < m.starts[b + 1]));
      }
      // Counts are small integers: exact.
      CHECK(m.values == block_sums(dense, pixels));
      CHECK(m.total() == static_cast<double>(g.nnz()));
    }
  }
  // Weighted maps of row-stochastic weights: each block row sums to the rows in it.
  const CsrGraph w =
      viz::attention_weights(small_pattern(50, "window=3,random=2"), viz::WeightModel::kUniform);
  const viz::DensityMap m = viz::density_map(w, 8, true);
  // Reference sums the same float values in another order: 1e-12 covers double rounding.
  CHECK(max_abs_diff(m.values, block_sums(to_dense(w, true), 8)) < 1e-12);
  for (Index b = 0; b < 8; ++b) {
    double row = 0;
    for (Index c = 0; c < 8; ++c) row += m.values[b * 8 + c];
    // Float weights 1/deg: each row sums to 1 within a few float ulps.
    CHECK(std::abs(row - static_cast<double>(m.block_size(b))) < 1e-5);
  }
}

TEST_CASE("diffused density maps equal dense sums of theta_k A^k", "[viz]") {
  const CsrGraph w = viz::attention_weights(small_pattern(41, "window=2,global=1,random=2,seed=1"),
                                            viz::WeightModel::kRandomQk, 8, 7);
  const Dense a = to_dense(w, true);
  const std::vector<std::vector<double>> thetas{
      {1.0}, {0.0, 1.0}, {0.1, 0.09, 0.081, 0.729}, {0.5, -0.25, 0.3, 0.2, 0.25}};
  for (const auto& theta : thetas) {
    const Dense t = diffused_dense(a, theta);
    double theta_sum = 0;
    for (const double v : theta) theta_sum += v;
    for (const Index pixels : {5, 41, 64}) {
      INFO("theta size " << theta.size() << ", pixels " << pixels);
      const viz::DensityMap m = viz::diffused_density_map(w, theta, pixels);
      // Both sides sum the same doubles in different orders over <= 41^2 terms of size <= 1.
      CHECK(max_abs_diff(m.values, block_sums(t, pixels)) < 1e-11);
      // Rows of A sum to 1 in float (softmax in double, stored as float): 1e-5 relative.
      CHECK(std::abs(m.total() - 41.0 * theta_sum) < 1e-5 * 41.0);
    }
  }
  // theta = (0, 1) is the weighted density map itself.
  const std::vector<double> plain{0.0, 1.0};
  CHECK(max_abs_diff(viz::diffused_density_map(w, plain, 9).values,
                     viz::density_map(w, 9, true).values) < 1e-12);
  CHECK_THROWS_WITH(viz::diffused_density_map(w, plain, 9, 100), Catch::Contains("exceeds"));
  CHECK_THROWS_WITH(viz::diffused_density_map(w.pattern(), plain, 9),
                    Catch::Contains("no edge values"));
  CHECK_THROWS_WITH(viz::density_map(w, 0), Catch::Contains("pixels = 0"));
}

TEST_CASE("random-QK weights are the softmax of the documented draws", "[viz]") {
  const CsrGraph p = small_pattern(30, "window=2,global=2,random=3,causal,seed=2");
  const int dim = 5;
  const std::uint64_t seed = 11;
  const CsrGraph w = viz::attention_weights(p, viz::WeightModel::kRandomQk, dim, seed);
  Rng rng(seed);
  std::vector<double> q(30 * dim), k(30 * dim);
  for (double& x : q) x = rng.normal();
  for (double& x : k) x = rng.normal();
  double worst = 0;
  for (Index i = 0; i < 30; ++i) {
    std::vector<double> s;
    double m = -1e300;
    for (const Index j : p.row(i)) {
      double dot = 0;
      for (int d = 0; d < dim; ++d) dot += q[i * dim + d] * k[j * dim + d];
      s.push_back(dot / std::sqrt(static_cast<double>(dim)));
      m = std::max(m, s.back());
    }
    double z = 0;
    for (double& v : s) z += (v = std::exp(v - m));
    for (std::size_t t = 0; t < s.size(); ++t) {
      worst = std::max(worst, std::abs(s[t] / z - w.values()[p.offsets()[i] + t]));
    }
  }
  // Stored as float: half an ulp of values <= 1 is 6e-8.
  CHECK(worst < 1e-7);
  CHECK(viz::attention_weights(p, viz::WeightModel::kRandomQk, dim, seed) == w);
  CHECK(viz::attention_weights(p, viz::WeightModel::kRandomQk, dim, seed + 1) != w);
  CHECK_THROWS_WITH(viz::parse_weight_model("softmax"), Catch::Contains("unknown weight model"));
}

TEST_CASE("receptive spread equals rows of dense powers and keeps sum theta", "[viz]") {
  const CsrGraph w = viz::attention_weights(small_pattern(45, "window=1,random=2,seed=5"),
                                            viz::WeightModel::kUniform);
  const Dense a = to_dense(w, true);
  const std::vector<double> theta{0.1, 0.09, 0.081, 0.0729, 0.6561};
  const Index q = 17;
  const viz::ReceptiveSpread r = viz::receptive_spread(w, q, theta);
  REQUIRE(r.degree() == 4);
  REQUIRE(r.hops.size() == 5u * 45u);
  Dense power(45, std::vector<double>(45, 0.0));
  for (Index i = 0; i < 45; ++i) power[i][i] = 1.0;
  for (int k = 0; k <= 4; ++k) {
    if (k > 0) power = matmul(power, a);
    const auto row = r.hop(k);
    double mass = 0;
    for (Index j = 0; j < 45; ++j) {
      CHECK(std::abs(row[j] - power[q][j]) < 1e-12);  // same doubles, other summation order
      mass += row[j];
    }
    CHECK(std::abs(mass - 1.0) < 1e-6);  // row-stochastic up to float weights
  }
  double total = 0;
  for (const double v : r.diffused) total += v;
  CHECK(std::abs(total - 1.0) < 1e-6);  // sum theta = 1
  const Dense t = diffused_dense(a, theta);
  for (Index j = 0; j < 45; ++j) CHECK(std::abs(r.diffused[j] - t[q][j]) < 1e-12);
  // Same bits for any thread count.
  viz::ReceptiveSpread one;
  {
    ThreadCountGuard guard(1);
    one = viz::receptive_spread(w, q, theta);
  }
  viz::ReceptiveSpread two;
  {
    ThreadCountGuard guard(2);
    two = viz::receptive_spread(w, q, theta);
  }
  CHECK(one.hops == two.hops);
  CHECK_THROWS_WITH(viz::receptive_spread(w, 45, theta), Catch::Contains("outside [0, n = 45)"));
  CHECK_THROWS_WITH(viz::receptive_spread(w.pattern(), 0, theta), Catch::Contains("no edge"));
}

TEST_CASE("degree profiles, weighted DOT and eigenvalues", "[viz]") {
  const CsrGraph g = small_pattern(23, "window=1,global=2,random=2,seed=3");
  const viz::DegreeProfile d = viz::degree_profile(g, 5);
  std::vector<std::int64_t> in(23, 0);
  for (const Index j : g.columns()) ++in[j];
  for (std::size_t b = 0; b < 5; ++b) {
    std::int64_t omin = 1 << 30, omax = 0, osum = 0, imax = 0;
    for (std::int64_t i = d.starts[b]; i < d.starts[b + 1]; ++i) {
      omin = std::min<std::int64_t>(omin, g.degree(static_cast<Index>(i)));
      omax = std::max<std::int64_t>(omax, g.degree(static_cast<Index>(i)));
      osum += g.degree(static_cast<Index>(i));
      imax = std::max(imax, in[i]);
    }
    CHECK(d.out_min[b] == omin);
    CHECK(d.out_max[b] == omax);
    CHECK(d.in_max[b] == imax);
    CHECK(d.out_mean[b] == static_cast<double>(osum) / (d.starts[b + 1] - d.starts[b]));
  }
  CHECK(lines_of(d.to_csv()).size() == 6u);

  TempDir dir;
  const CsrGraph w = viz::attention_weights(g, viz::WeightModel::kUniform);
  viz::write_weighted_dot(dir.file("g.dot"), w);
  const std::string dot = slurp(dir.file("g.dot"));
  CHECK(static_cast<std::int64_t>(std::count(dot.begin(), dot.end(), '>')) == g.nnz());
  CHECK(dot.find("penwidth=4.200") != std::string::npos);  // the heaviest edge
  CHECK_THROWS_WITH(viz::write_weighted_dot(dir.file("g.dot"), w, {"a"}),
                    Catch::Contains("1 node labels for 23 nodes"));
  CHECK_THROWS_WITH(viz::write_weighted_dot(dir.file("g.dot"), g), Catch::Contains("edge values"));

  // Dense and Lanczos paths agree on both ends of the spectrum.
  const CsrGraph e = small_pattern(400, "window=3,random=3,seed=9");
  const spectral::PatternEigenvalues all = spectral::pattern_eigenvalues(e, 1000, 6);
  const spectral::PatternEigenvalues ends = spectral::pattern_eigenvalues(e, 100, 6);
  REQUIRE(all.complete);
  REQUIRE(all.top.size() == 400u);
  REQUIRE_FALSE(ends.complete);
  REQUIRE(ends.top.size() == 7u);
  REQUIRE(ends.bottom.size() == 6u);
  CHECK(ends.converged);
  for (std::size_t i = 0; i < 7; ++i) CHECK(std::abs(ends.top[i] - all.top[i]) < 1e-8);
  for (std::size_t i = 0; i < 6; ++i) CHECK(std::abs(ends.bottom[i] - all.top[399 - i]) < 1e-8);
}

TEST_CASE("diffuser viz pattern / receptive / spectrum write the documented files", "[cli][viz]") {
  TempDir dir;
  const std::string spec = "window=3,global=2,random=4,seed=6";
  const CsrGraph g = small_pattern(300, spec);

  // Density map at 64 pixels: shape, exact block counts, sum = nnz; degree profile rows.
  REQUIRE(run_cli(dir, "viz pattern --n 300 --spec " + spec + " --pixels 64 --out " + dir.file("p"))
              .exit_code == 0);
  const NpyArray m = read_npy(dir.file("p/density.npy"));
  REQUIRE(m.shape == std::vector<std::int64_t>{64, 64});
  const std::vector<double> values = m.to_vector<double>();
  CHECK(values == block_sums(to_dense(g, false), 64));
  double total = 0;
  for (const double v : values) total += v;
  CHECK(total == static_cast<double>(g.nnz()));
  const auto meta = nlohmann::json::parse(slurp(dir.file("p/pattern.json")));
  CHECK(meta["nnz"].get<std::int64_t>() == g.nnz());
  CHECK(meta["block_starts"].size() == 65u);
  CHECK(lines_of(slurp(dir.file("p/degree.csv"))).size() == 65u);
  // From a file, with more pixels than tokens: the exact adjacency.
  graph::write_graph(dir.file("g.mtx"), g);
  REQUIRE(run_cli(dir, "viz pattern " + dir.file("g.mtx") + " --pixels 1000 --out " + dir.file("f"))
              .exit_code == 0);
  REQUIRE(read_npy(dir.file("f/density.npy")).shape == std::vector<std::int64_t>{300, 300});
  CHECK(read_npy(dir.file("f/density.npy")).to_vector<double>() ==
        block_sums(to_dense(g, false), 300));

  // Receptive field: K + 1 hop rows of n, each of mass 1 (uniform weights are row-stochastic),
  // the diffused row of mass sum theta.
  for (const auto& [diffusion, k, theta_sum] :
       {std::tuple<std::string, int, double>{"--alpha 0.2 --hops 4", 4, 1.0},
        {"--theta 0.5,0.25,0.5", 2, 1.25},
        {"--heat 2 --hops 3", 3, 1.0}}) {
    INFO(diffusion);
    const RunResult r =
        run_cli(dir, "viz receptive --n 300 --spec " + spec + " --query 150 --weights random-qk " +
                         diffusion + " --out " + dir.file("r"));
    REQUIRE(r.exit_code == 0);
    const NpyArray hops = read_npy(dir.file("r/hops.npy"));
    REQUIRE(hops.shape == std::vector<std::int64_t>{k + 1, 300});
    const std::vector<double> h = hops.to_vector<double>();
    for (int row = 0; row <= k; ++row) {
      double mass = 0;
      for (int j = 0; j < 300; ++j) mass += h[row * 300 + j];
      CHECK(std::abs(mass - 1.0) < 1e-6);  // float-stored softmax rows: ~1e-7 each
    }
    CHECK(h[150] == 1.0);
    const std::vector<double> d = read_npy(dir.file("r/diffused.npy")).to_vector<double>();
    double dm = 0;
    for (const double v : d) dm += v;
    CHECK(std::abs(dm - theta_sum) < 1e-6);
    const auto csv = lines_of(slurp(dir.file("r/receptive.csv")));
    CHECK(csv.size() == static_cast<std::size_t>(k + 3));  // header, K + 1 hops, diffused
  }

  // Spectrum: every eigenvalue at n = 64, epsilon for each K, gap at two lengths.
  const RunResult s = run_cli(dir,
                              "viz spectrum --n 64 --spec window=3 --hops 0,2,5 "
                              "--lengths 32,64 --out " +
                                  dir.file("s"));
  REQUIRE(s.exit_code == 0);
  const auto ev = lines_of(slurp(dir.file("s/eigenvalues.csv")));
  REQUIRE(ev.size() == 65u);
  // The trivial eigenvalue first: rank 0, end "all", mu = 1 up to rounding (the last digit
  // differs between optimisation levels, so the value is parsed, not compared as text).
  REQUIRE(ev[1].rfind("0,all,", 0) == 0);
  CHECK(std::abs(std::stod(ev[1].substr(6)) - 1.0) < 1e-12);
  CHECK(lines_of(slurp(dir.file("s/error_vs_k.csv"))).size() == 4u);
  CHECK(lines_of(slurp(dir.file("s/gap_vs_n.csv"))).size() == 3u);
  const auto sj = nlohmann::json::parse(slurp(dir.file("s/spectrum.json")));
  CHECK(sj["complete"].get<bool>());
  CHECK(sj["lambda2"].get<double>() > 0.0);
}

TEST_CASE("diffuser viz attention writes every layer and head of a checkpoint", "[cli][viz]") {
  TempDir dir;
  const std::string config =
      std::string(DIFFUSER_SOURCE_DIR) + "/experiments/configs/listops_tiny.json";
  const RunResult t = run_cli(
      dir, "train --config '" + config + "' --out " + dir.file("run") +
               " --quiet --no-progress --set train.steps=2 --set train.eval_every=2 --set "
               "train.checkpoint_every=2 --set task.train_size=40 --set task.val_size=8 --set "
               "task.test_size=8 --set train.batch_size=8 --set model.dim=16 --set model.heads=2 "
               "--set model.mlp_dim=32 --set train.threads=1");
  REQUIRE(t.exit_code == 0);
  const RunResult r =
      run_cli(dir, "viz attention --checkpoint " + dir.file("run/checkpoint_last.bin") +
                       " --data val --example 3 --pixels 16 --out " + dir.file("a"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto meta = nlohmann::json::parse(slurp(dir.file("a/attention.json")));
  const auto n = meta["n"].get<std::int64_t>();
  REQUIRE(meta["files"].size() == 4u);  // 2 layers x 2 heads
  CHECK(meta["token_names"][0] == "<cls>");
  CHECK(meta["theta"][0].size() == 6u);  // PPR, K = 5
  for (const auto& f : meta["files"]) {
    const std::string stem = f["density"].get<std::string>();
    const NpyArray a = read_npy(dir.file("a/" + stem));
    const std::int64_t p = std::min<std::int64_t>(n, 16);
    REQUIRE(a.shape == std::vector<std::int64_t>{p, p});
    double total = 0;
    for (const double v : a.to_vector<double>()) total += v;
    CHECK(std::abs(total - static_cast<double>(n)) < 1e-4);  // every query row sums to 1
    double diffused = 0;
    for (const double v :
         read_npy(dir.file("a/" + f["diffused"].get<std::string>())).to_vector<double>()) {
      diffused += v;
    }
    CHECK(std::abs(diffused - static_cast<double>(n)) < 1e-4);  // sum theta = 1
    CHECK(slurp(dir.file("a/" + f["graphml"].get<std::string>())).find("weight") !=
          std::string::npos);
    CHECK(f.contains("dot"));
  }
  // The same input as a tokens file gives the same weights.
  const auto& tokens = meta["tokens"];
  std::vector<std::int64_t> ids(tokens.begin(), tokens.end());
  write_npy(dir.file("ids.npy"), NpyArray::from<std::int64_t>(ids, {n}));
  REQUIRE(run_cli(dir, "viz attention --checkpoint " + dir.file("run/checkpoint_last.bin") +
                           " --tokens " + dir.file("ids.npy") +
                           " --layer 1 --head 0 --pixels 16 --no-graphml --out " + dir.file("b"))
              .exit_code == 0);
  CHECK(read_npy(dir.file("b/l1_h0_density.npy")).to_vector<double>() ==
        read_npy(dir.file("a/l1_h0_density.npy")).to_vector<double>());
  CHECK_FALSE(std::filesystem::exists(dir.file("b/l1_h0.graphml")));

  const std::string ck = " --checkpoint " + dir.file("run/checkpoint_last.bin");
  expect_error(dir, "viz attention" + ck + " --layer 7 --out " + dir.file("x"),
               "--layer 7 is outside [0, 2)");
  expect_error(dir, "viz attention" + ck + " --dot-min-weight 2 --out " + dir.file("x"),
               "--dot-min-weight 2 is outside [0, 1]");
  expect_error(dir, "viz attention" + ck + " --example 999 --out " + dir.file("x"),
               "--example 999 is outside");
  expect_error(dir,
               "viz attention --checkpoint " + dir.file("none.bin") + " --out " + dir.file("x"),
               "none.bin");
  write_npy(dir.file("bad.npy"),
            NpyArray::from<std::int64_t>(std::vector<std::int64_t>{1, 99}, {2}));
  expect_error(
      dir, "viz attention" + ck + " --tokens " + dir.file("bad.npy") + " --out " + dir.file("x"),
      "outside the vocabulary");
}

TEST_CASE("diffuser viz refuses bad options with one clear line", "[cli][viz]") {
  TempDir dir;
  const std::string out = " --out " + dir.file("o");
  expect_error(dir, "viz pattern --n 100 --spec window=2 --pixels 0" + out, "--pixels 0");
  expect_error(dir, "viz pattern --n 100" + out, "no pattern");
  expect_error(dir, "viz pattern --spec window=2" + out, "no pattern");
  expect_error(dir, "viz pattern --n 100 --spec windw=2" + out, "windw");
  write_file(dir.file("g.mtx"), "%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1\n");
  expect_error(dir, "viz pattern " + dir.file("g.mtx") + " --n 5 --spec window=1" + out,
               "not both");
  expect_error(dir, "viz pattern " + dir.file("missing.mtx") + out, "missing.mtx");
  expect_error(dir, "viz pattern --n 10 --spec window=1 --weighted" + out, "no edge values");
  const std::string rp = "viz receptive --n 100 --spec window=2";
  expect_error(dir, rp + " --query 100" + out, "--query 100 is outside [0, n = 100)");
  expect_error(dir, rp + " --weights softmax" + out, "unknown weight model 'softmax'");
  expect_error(dir, rp + " --alpha 2" + out, "--alpha = 2 outside [0, 1]");
  expect_error(dir, rp + " --alpha 0.1 --heat 1" + out, "exclude each other");
  expect_error(dir, rp + " --theta 0.5,0.5 --hops 3" + out, "--hops does not go with --theta");
  expect_error(dir, rp + " --theta 0.5,x" + out, "entry 2 'x' is not a number");
  expect_error(dir, rp + " --hops -1" + out, "--hops = -1 outside [0, 1024]");
  expect_error(dir, rp + " --weights random-qk --dim 0" + out, "--dim 0");
  expect_error(dir, "viz spectrum " + dir.file("g.mtx") + " --lengths 64" + out,
               "--lengths needs a pattern built");
  expect_error(dir, "viz spectrum --n 1 --spec window=1" + out, "n >= 2");
  expect_error(dir, "viz spectrum --n 50 --spec window=1 --top-k 0" + out, "--top-k 0");
  expect_error(dir, "viz spectrum --n 50 --spec window=1 --alpha 1.5" + out,
               "--alpha = 1.5 outside [0, 1]");
  expect_error(dir, "viz spectrum --n 50 --spec window=1 --hops 2,2000" + out,
               "--hops = 2000 outside [0, 1024]");
  expect_error(dir, "viz spectrum --n 50 --spec window=1 --diffusion-hops 2000" + out,
               "--diffusion-hops = 2000 outside [0, 1024]");
  expect_error(dir, "viz spectrum --n 50 --spec window=1 --hops 2,x" + out, "hops");
  expect_error(dir, "viz pattern --n 10 --spec window=1 --out " + dir.file("g.mtx"),
               "cannot create the folder");
}
