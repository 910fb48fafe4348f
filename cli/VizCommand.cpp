// Why: `diffuser viz ...` writes the data behind the pictures of a pattern, of a trained model's
// attention, of a token's diffusion receptive field and of a pattern's spectrum, as .npy, CSV,
// JSON, GraphML and DOT files that scripts/plot_*.py turn into PNGs. Everything is aggregated to
// a pixel budget (or kept linear in n), so a 1M-token pattern is as easy to look at as a
// 100-token one. Documented in docs/viz.md.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "analysis/HopEpsilon.hpp"
#include "cli/Commands.hpp"
#include "cli/DiffusionOptions.hpp"
#include "cli/Output.hpp"
#include "cli/PatternSource.hpp"
#include "cli/Validators.hpp"
#include "core/AtomicFile.hpp"
#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "core/Threads.hpp"
#include "graph/GraphExport.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/PatternEigenvalues.hpp"
#include "viz/CapturedAttention.hpp"
#include "viz/DegreeProfile.hpp"
#include "viz/DensityMap.hpp"
#include "viz/ReceptiveSpread.hpp"
#include "viz/WeightModel.hpp"
#include "viz/WeightedDot.hpp"

namespace diffuser::cli {

namespace {

using graph::Index;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

void make_folder(const std::string& dir) {
  DIFFUSER_CHECK(!dir.empty(), "--out: empty folder name");
  std::error_code ec;
  fs::create_directories(dir, ec);
  DIFFUSER_CHECK(!ec && fs::is_directory(dir), "--out {}: cannot create the folder ({})", dir,
                 ec ? ec.message() : "a file of that name exists");
}

std::string in_dir(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

void write_map(const std::string& path, const viz::DensityMap& m) {
  write_npy(path, NpyArray::from<double>(m.values, {m.pixels, m.pixels}));
}

// ------------------------------------------------------------------------ pattern ---

struct PatternArgs {
  PatternSource source;
  Index pixels = 512;
  bool weighted = false;
  std::string out;
};

void run_pattern(const PatternArgs& a) {
  DIFFUSER_CHECK(a.pixels >= 1 && a.pixels <= 8192, "--pixels {} is outside [1, 8192]", a.pixels);
  a.source.check();
  make_folder(a.out);
  const graph::CsrGraph g = a.source.load();
  DIFFUSER_CHECK(g.n() >= 1, "the pattern has no tokens (n = 0)");
  DIFFUSER_CHECK(!a.weighted || g.has_values(), "--weighted: the graph has no edge values");
  const viz::DensityMap m = viz::density_map(g, a.pixels, a.weighted);
  const viz::DegreeProfile d = viz::degree_profile(g, a.pixels);
  write_map(in_dir(a.out, "density.npy"), m);
  write_text_atomic(in_dir(a.out, "degree.csv"), d.to_csv());
  Json j = a.source.describe();
  j["n"] = g.n();
  j["nnz"] = g.nnz();
  j["density"] = static_cast<double>(g.nnz()) / (static_cast<double>(g.n()) * g.n());
  j["pixels"] = m.pixels;
  j["block_starts"] = m.starts;
  j["weighted"] = a.weighted;
  j["total"] = m.total();
  j["files"] = {{"density", "density.npy"}, {"degree", "degree.csv"}};
  j["about"] = {
      {"density.npy",
       "float64 [P, P]: entry (I, J) = number of edges (weighted: sum of edge values) from "
       "queries in block I to keys in block J; block b holds tokens [block_starts[b], "
       "block_starts[b+1])"},
      {"degree.csv", "per block: min/mean/max keys per query (out) and queries per key (in)"}};
  write_text_atomic(in_dir(a.out, "pattern.json"), j.dump(2) + "\n");
  std::printf("wrote %s: n = %d, nnz = %lld, %d x %d density map, degree profile\n", a.out.c_str(),
              g.n(), static_cast<long long>(g.nnz()), m.pixels, m.pixels);
}

// ---------------------------------------------------------------------- attention ---

struct AttentionArgs {
  std::string checkpoint, out;
  viz::CaptureInput input;
  std::vector<std::int64_t> layers, heads;
  Index pixels = 256;
  Index dot_max_nodes = 128;
  double dot_min_weight = 0.0;
  bool no_graphml = false, no_diffused = false;
  int threads = 0;
};

void run_attention(const AttentionArgs& a) {
  DIFFUSER_CHECK(a.pixels >= 1 && a.pixels <= 4096, "--pixels {} is outside [1, 4096]", a.pixels);
  DIFFUSER_CHECK(a.dot_max_nodes >= 0, "--dot-max-nodes {} is negative", a.dot_max_nodes);
  DIFFUSER_CHECK(a.dot_min_weight >= 0.0 && a.dot_min_weight <= 1.0,
                 "--dot-min-weight {} is outside [0, 1]", a.dot_min_weight);
  make_folder(a.out);
  const viz::CapturedAttention c = viz::capture_attention(a.checkpoint, a.input, a.threads);
  std::vector<std::int64_t> layers = a.layers, heads = a.heads;
  if (layers.empty()) {
    for (std::int64_t l = 0; l < c.layers; ++l) layers.push_back(l);
  }
  if (heads.empty()) {
    for (std::int64_t h = 0; h < c.heads; ++h) heads.push_back(h);
  }
  for (const auto l : layers) {
    DIFFUSER_CHECK(l >= 0 && l < c.layers, "--layer {} is outside [0, {})", l, c.layers);
  }
  for (const auto h : heads) {
    DIFFUSER_CHECK(h >= 0 && h < c.heads, "--head {} is outside [0, {})", h, c.heads);
  }
  Json files = Json::array();
  for (const auto l : layers) {
    const auto& theta = c.theta[static_cast<std::size_t>(l)];
    for (const auto h : heads) {
      const graph::CsrGraph g = c.head_graph(l, h);
      const std::string stem = fmt::format("l{}_h{}", l, h);
      Json f{{"layer", l}, {"head", h}};
      write_map(in_dir(a.out, stem + "_density.npy"), viz::density_map(g, a.pixels, true));
      f["density"] = stem + "_density.npy";
      if (!a.no_diffused) {
        write_map(in_dir(a.out, stem + "_diffused.npy"),
                  viz::diffused_density_map(g, theta, a.pixels));
        f["diffused"] = stem + "_diffused.npy";
      }
      if (!a.no_graphml) {
        graph::write_graphml(in_dir(a.out, stem + ".graphml"), g);
        f["graphml"] = stem + ".graphml";
      }
      if (c.n <= a.dot_max_nodes) {
        viz::write_weighted_dot(in_dir(a.out, stem + ".dot"), g, c.token_names, a.dot_min_weight);
        f["dot"] = stem + ".dot";
      }
      files.push_back(f);
    }
  }
  Json j;
  j["checkpoint"] = c.checkpoint;
  j["step"] = c.step;
  j["task"] = c.task;
  j["variant"] = c.variant;
  j["layers"] = c.layers;
  j["heads"] = c.heads;
  j["n"] = c.n;
  j["nnz"] = c.pattern.nnz();
  j["pixels"] = std::min(c.n, a.pixels);
  j["block_starts"] = viz::block_starts(c.n, a.pixels);
  j["input"] =
      a.input.tokens_file.empty()
          ? Json{{"data", a.input.data}, {"split", a.input.split}, {"example", a.input.example}}
          : Json{{"tokens_file", a.input.tokens_file}};
  j["tokens"] = c.tokens;
  j["token_names"] = c.token_names;
  j["label"] = c.label >= 0 ? Json(c.label) : Json(nullptr);
  j["prediction"] = c.prediction >= 0 ? Json(c.prediction) : Json(nullptr);
  j["theta"] = c.theta;
  j["files"] = files;
  j["about"] = {
      {"density",
       "float64 [P, P] block sums of the softmax weights A of one layer and head "
       "(row = query, column = key); each query row of A sums to 1"},
      {"diffused",
       "float64 [P, P] block sums of the diffused operator sum_k theta_k A^k of the "
       "layer's theta (what the layer applies to V)"},
      {"graphml", "the pattern with the weights as edge 'weight' (source = query, target = key)"},
      {"dot", "Graphviz: arrows query -> key, pen width proportional to the weight"}};
  write_text_atomic(in_dir(a.out, "attention.json"), j.dump(2) + "\n");
  std::printf("wrote %s: %zu layer/head maps of n = %d tokens (nnz = %lld)%s\n", a.out.c_str(),
              files.size(), c.n, static_cast<long long>(c.pattern.nnz()),
              c.prediction >= 0
                  ? fmt::format(", label {} predicted {}", c.label, c.prediction).c_str()
                  : "");
}

// ---------------------------------------------------------------------- receptive ---

struct ReceptiveArgs {
  PatternSource source;
  DiffusionOptions diffusion;
  Index query = 0;
  std::string weights = "uniform";
  int dim = 16;
  std::uint64_t weight_seed = 0;
  int threads = 0;
  std::string out;
};

void run_receptive(const ReceptiveArgs& a) {
  const viz::WeightModel model = viz::parse_weight_model(a.weights);
  const Diffusion diffusion = a.diffusion.resolve();
  DIFFUSER_CHECK(a.dim >= 1 && a.dim <= 4096, "--dim {} is outside [1, 4096]", a.dim);
  a.source.check();
  if (a.threads > 0) set_num_threads(a.threads);
  make_folder(a.out);
  const graph::CsrGraph pattern = a.source.load();
  DIFFUSER_CHECK(a.query >= 0 && a.query < pattern.n(), "--query {} is outside [0, n = {})",
                 a.query, pattern.n());
  const graph::CsrGraph w = viz::attention_weights(pattern, model, a.dim, a.weight_seed);
  const viz::ReceptiveSpread r = viz::receptive_spread(w, a.query, diffusion.theta());
  const int K = r.degree();
  const std::int64_t n = r.n;
  write_npy(in_dir(a.out, "hops.npy"), NpyArray::from<double>(r.hops, {K + 1, n}));
  write_npy(in_dir(a.out, "diffused.npy"), NpyArray::from<double>(r.diffused, {n}));
  std::string csv = "k,theta,mass,reached,reached_fraction,mean_distance,max_distance,max_weight\n";
  auto summary = [&](std::span<const double> row) {
    double mass = 0, dist = 0, maxw = 0;
    std::int64_t reached = 0, maxd = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      if (row[j] == 0.0) continue;
      const std::int64_t d = std::abs(j - static_cast<std::int64_t>(a.query));
      mass += row[j];
      dist += row[j] * static_cast<double>(d);
      maxw = std::max(maxw, row[j]);
      maxd = std::max(maxd, d);
      ++reached;
    }
    return fmt::format("{},{},{},{},{},{}", csv_number(mass), reached,
                       csv_number(static_cast<double>(reached) / static_cast<double>(n)),
                       csv_number(mass != 0 ? dist / mass : 0.0), maxd, csv_number(maxw));
  };
  for (int k = 0; k <= K; ++k) {
    csv += fmt::format("{},{},{}\n", k, csv_number(r.theta[k]), summary(r.hop(k)));
  }
  csv += fmt::format("diffused,{},{}\n",
                     csv_number(std::accumulate(r.theta.begin(), r.theta.end(), 0.0)),
                     summary(r.diffused));
  write_text_atomic(in_dir(a.out, "receptive.csv"), csv);
  Json j = a.source.describe();
  j["n"] = n;
  j["nnz"] = pattern.nnz();
  j["query"] = a.query;
  j["weights"] = viz::to_string(model);
  if (model == viz::WeightModel::kRandomQk) {
    j["weight_seed"] = a.weight_seed;
    j["dim"] = a.dim;
  }
  j["diffusion"] = diffusion.describe();
  j["theta"] = r.theta;
  j["files"] = {{"hops", "hops.npy"}, {"diffused", "diffused.npy"}, {"summary", "receptive.csv"}};
  j["about"] = {
      {"hops.npy", "float64 [K+1, n]: row k = row `query` of A^k (k = 0: the query itself)"},
      {"diffused.npy", "float64 [n]: row `query` of sum_k theta_k A^k"},
      {"receptive.csv",
       "per hop: theta_k, mass (row sum), keys reached (non-zero), their fraction of n, "
       "weight-averaged and largest |key - query|, largest weight; last line: the diffused row"},
      {"weights",
       "uniform: A = D^-1 G; random-qk: softmax of <q_i, k_j>/sqrt(dim) with q, k "
       "i.i.d. N(0, 1) drawn from weight_seed"}};
  write_text_atomic(in_dir(a.out, "receptive.json"), j.dump(2) + "\n");
  std::printf("wrote %s: query %d, %s weights, %s, %lld of %lld keys reached after %d hops\n",
              a.out.c_str(), a.query, viz::to_string(model), diffusion.describe().c_str(),
              static_cast<long long>(std::count_if(r.diffused.begin(), r.diffused.end(),
                                                   [](double v) { return v != 0.0; })),
              static_cast<long long>(n), K);
}

// ----------------------------------------------------------------------- spectrum ---

struct SpectrumArgs {
  PatternSource source;
  int top_k = 32;
  Index dense_max = 1024;
  std::vector<Index> lengths;
  double alpha = 0.1;
  std::vector<int> hops{0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20};
  int diffusion_hops = 5;
  double tol = 1e-8;
  int threads = 0;
  std::string out;
};

void run_spectrum(const SpectrumArgs& a) {
  DIFFUSER_CHECK(a.top_k >= 1 && a.top_k <= 1024, "--top-k {} is outside [1, 1024]", a.top_k);
  DIFFUSER_CHECK(a.dense_max >= 0 && a.dense_max <= 8192, "--dense-max {} is outside [0, 8192]",
                 a.dense_max);
  DIFFUSER_CHECK(a.tol > 0 && a.tol < 1, "--tol {} is outside (0, 1)", a.tol);
  // The diffusion shown, and every K of error_vs_k.csv, through the shared checks.
  DiffusionFields fields;
  fields.names.alpha = "--alpha";
  fields.alpha = a.alpha;
  for (const int k : a.hops) {
    fields.names.hops = "--hops";
    fields.hops = k;
    diffusion_from_fields(fields);
  }
  fields.names.hops = "--diffusion-hops";
  fields.hops = a.diffusion_hops;
  const Diffusion shown = diffusion_from_fields(fields);
  a.source.check();
  DIFFUSER_CHECK(a.lengths.empty() || a.source.built(),
                 "--lengths needs a pattern built from --spec/--preset (a FILE has one length)");
  for (const Index n : a.lengths) {
    DIFFUSER_CHECK(n >= 2, "--lengths: {} is too small (n >= 2)", n);
  }
  if (a.threads > 0) set_num_threads(a.threads);
  make_folder(a.out);
  spectral::SolverOptions opts;
  opts.tol = a.tol;
  const graph::CsrGraph g = a.source.load();
  DIFFUSER_CHECK(g.n() >= 2, "the pattern has n = {} tokens; a spectrum needs n >= 2", g.n());

  // Eigenvalues of M, with their image under the chosen diffusion.
  const spectral::PatternEigenvalues ev =
      spectral::pattern_eigenvalues(g, a.dense_max, a.top_k, opts);
  std::string csv = "rank,end,mu,lambda,diffused\n";
  for (std::size_t i = 0; i < ev.top.size(); ++i) {
    csv += fmt::format("{},{},{},{},{}\n", i, ev.complete ? "all" : "top", csv_number(ev.top[i]),
                       csv_number(1.0 - ev.top[i]), csv_number(shown.map(ev.top[i])));
  }
  for (std::size_t i = 0; i < ev.bottom.size(); ++i) {
    csv += fmt::format("{},bottom,{},{},{}\n", i, csv_number(ev.bottom[i]),
                       csv_number(1.0 - ev.bottom[i]), csv_number(shown.map(ev.bottom[i])));
  }
  write_text_atomic(in_dir(a.out, "eigenvalues.csv"), csv);

  // Approximation of full attention vs K: epsilon = largest non-trivial |p_K(mu)|.
  const spectral::GraphSpectrum s = spectral::graph_spectrum(g, opts);
  std::string err = "hops,alpha,diffusion,epsilon,epsilon_exact,second_largest,gap\n";
  const auto curve = analysis::epsilon_vs_hops(
      s, ev.complete ? std::span<const double>(ev.top) : std::span<const double>(), a.alpha,
      a.hops);
  for (std::size_t i = 0; i < curve.size(); ++i) {
    const analysis::HopEpsilon& p = curve[i];
    err += fmt::format("{},{},{},{},{},{},{}\n", a.hops[i], csv_number(a.alpha),
                       csv_field(p.diffusion.compact()), csv_number(p.epsilon),
                       p.exact ? "true" : "false", csv_number(p.second_largest), csv_number(p.gap));
  }
  write_text_atomic(in_dir(a.out, "error_vs_k.csv"), err);

  // Gap vs n.
  Json files{{"eigenvalues", "eigenvalues.csv"}, {"error_vs_k", "error_vs_k.csv"}};
  if (!a.lengths.empty()) {
    const graph::PatternSpec spec = a.source.pattern_spec();
    std::string gap =
        "n,nnz,nnz_symmetric,components,mu2,mu_min,lambda2,mu_star,mu2_walk,diffusion,"
        "diffused_second_largest,diffused_mu_star,converged,method_mu2\n";
    for (const Index n : a.lengths) {
      const graph::CsrGraph gn = graph::build_pattern(n, spec);
      const spectral::GraphSpectrum sn = spectral::graph_spectrum(gn, opts);
      const spectral::DiffusedSpectrum dn = spectral::diffused_spectrum(sn, shown);
      gap += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", n, sn.nnz, sn.nnz_symmetric,
                         sn.components, csv_number(sn.mu2.value), csv_number(sn.mu_min.value),
                         csv_number(sn.lambda2()),
                         csv_number(std::max(std::abs(sn.mu2.value), std::abs(sn.mu_min.value))),
                         csv_number(sn.mu2_walk.modulus()), csv_field(shown.compact()),
                         csv_number(dn.second_largest), csv_number(dn.mu_star),
                         sn.converged() ? "true" : "false", spectral::to_string(sn.mu2.method));
      std::fprintf(stderr, "viz spectrum: n = %d: lambda2 = %.6g (%s)\n", n, sn.lambda2(),
                   spectral::to_string(sn.mu2.method));
      write_text_atomic(in_dir(a.out, "gap_vs_n.csv"), gap);
    }
    files["gap_vs_n"] = "gap_vs_n.csv";
  }
  Json j = a.source.describe();
  j["n"] = g.n();
  j["nnz"] = g.nnz();
  j["method"] = ev.method;
  j["complete"] = ev.complete;
  j["eigenvalues_converged"] = ev.converged;
  j["eigenvalues_max_residual"] = ev.max_residual;
  j["mu2"] = json_number(s.mu2.value);
  j["mu_min"] = json_number(s.mu_min.value);
  j["lambda2"] = json_number(s.lambda2());
  j["mu2_walk"] = json_number(s.mu2_walk.modulus());
  j["components"] = s.components;
  j["converged"] = s.converged();
  j["alpha"] = a.alpha;
  j["diffusion_shown"] = shown.compact();
  j["files"] = files;
  j["about"] = {
      {"matrix",
       "M = D^-1/2 S D^-1/2 of the symmetrised 0/1 pattern S (spectral.md); lambda = "
       "1 - mu are the normalised Laplacian's eigenvalues; mu2_walk: the directed "
       "walk D_out^-1 G"},
      {"eigenvalues.csv",
       "all eigenvalues (end = all, descending) or the top-k and bottom-k (end = top / bottom); "
       "diffused = p_K(mu) of the truncated PPR named in diffusion_shown"},
      {"error_vs_k.csv",
       "epsilon = largest non-trivial |p_K(mu)|: the operator-norm distance of the diffused walk "
       "from the rank-one 'full attention' projection (exact over all eigenvalues when "
       "epsilon_exact, else the bound max |p_K| over [mu_min, mu2]); K = 0 is plain attention"},
      {"gap_vs_n.csv",
       "the same pattern spec rebuilt at each n: mu2, mu_min, lambda2 = 1 - mu2, "
       "mu_star = max(|mu2|, |mu_min|), and the diffused second eigenvalue"}};
  write_text_atomic(in_dir(a.out, "spectrum.json"), j.dump(2) + "\n");
  std::printf(
      "wrote %s: %zu eigenvalues (%s), lambda2 = %.6g, epsilon vs %zu hop counts%s\n",
      a.out.c_str(), ev.top.size() + ev.bottom.size(), ev.method.c_str(), s.lambda2(),
      a.hops.size(),
      a.lengths.empty() ? "" : fmt::format(", gap at {} lengths", a.lengths.size()).c_str());
}

}  // namespace

void register_viz_commands(CLI::App& app, Action& action) {
  auto* viz = app.add_subcommand(
      "viz",
      "Write the data behind pictures (npy/CSV/JSON/GraphML/DOT; plot with scripts/plot_*.py): "
      "docs/viz.md");
  viz->require_subcommand(1);

  auto p = std::make_shared<PatternArgs>();
  auto* pat = viz->add_subcommand(
      "pattern",
      "Block-aggregated density map (P x P .npy, O(nnz)) and degree profile of a pattern");
  add_pattern_source(pat, p->source);
  pat->add_option("--pixels", p->pixels, "Blocks per side P (one token per block when n <= P)")
      ->capture_default_str();
  pat->add_flag("--weighted", p->weighted, "Sum edge values instead of counting edges");
  pat->add_option("--out", p->out, "Output folder")->required();
  pat->callback([&action, p] { action = [p] { run_pattern(*p); }; });

  auto t = std::make_shared<AttentionArgs>();
  auto* att = viz->add_subcommand(
      "attention",
      "Attention weights of every layer/head of a trained checkpoint on one input: density maps "
      "of A and of the diffused operator, GraphML, DOT (small n)");
  att->add_option("--checkpoint", t->checkpoint, "Checkpoint written by `diffuser train`")
      ->required();
  att->add_option("--data", t->input.data,
                  "A split of the run's data (train, val, test) or a folder with the task's files")
      ->capture_default_str();
  att->add_option("--split", t->input.split, "Split to read when --data is a folder")
      ->capture_default_str();
  att->add_option("--example", t->input.example, "Example index in the split")
      ->capture_default_str();
  att->add_option("--tokens", t->input.tokens_file,
                  "1-D .npy of model input ids to use instead of a data example");
  att->add_option("--layer", t->layers, "Layers to write (repeatable or comma-separated; all)")
      ->delimiter(',');
  att->add_option("--head", t->heads, "Heads to write (repeatable or comma-separated; all)")
      ->delimiter(',');
  att->add_option("--pixels", t->pixels, "Blocks per side of the density maps")
      ->capture_default_str();
  att->add_option("--dot-max-nodes", t->dot_max_nodes, "Write DOT files when n <= this")
      ->capture_default_str();
  att->add_option("--dot-min-weight", t->dot_min_weight,
                  "Leave out DOT edges lighter than this fraction of the heaviest")
      ->capture_default_str();
  att->add_flag("--no-graphml", t->no_graphml, "Do not write GraphML files");
  att->add_flag("--no-diffused", t->no_diffused,
                "Do not compute the diffused maps (O(K nnz P) each)");
  att->add_option("--threads", t->threads, "CPU threads (0: the run's train.threads)")
      ->check(CLI::NonNegativeNumber);
  att->add_option("--out", t->out, "Output folder")->required();
  att->callback([&action, t] { action = [t] { run_attention(*t); }; });

  auto r = std::make_shared<ReceptiveArgs>();
  auto* rec = viz->add_subcommand(
      "receptive",
      "Diffusion receptive field of one query: its row of A^k for k = 0..K and of sum_k "
      "theta_k A^k (.npy + CSV)");
  add_pattern_source(rec, r->source);
  rec->add_option("--query", r->query, "Query token")->capture_default_str();
  rec->add_option("--weights", r->weights, "Edge weights: uniform or random-qk")
      ->capture_default_str();
  rec->add_option("--dim", r->dim, "Head dimension of the random queries and keys")
      ->capture_default_str();
  rec->add_option("--weight-seed", r->weight_seed, "Seed of the random queries and keys")
      ->capture_default_str()
      ->check(non_negative());
  r->diffusion.add_to(rec);
  rec->add_option("--threads", r->threads, "OpenMP threads (default: all)")
      ->check(CLI::NonNegativeNumber);
  rec->add_option("--out", r->out, "Output folder")->required();
  rec->callback([&action, r] { action = [r] { run_receptive(*r); }; });

  auto s = std::make_shared<SpectrumArgs>();
  auto* spe = viz->add_subcommand(
      "spectrum",
      "Eigenvalues of the normalised adjacency (dense for small n, top/bottom-k beyond), "
      "diffused epsilon vs hops K, and the gap vs n (CSV)");
  add_pattern_source(spe, s->source);
  spe->add_option("--top-k", s->top_k, "Eigenvalues from each end when n > --dense-max")
      ->capture_default_str();
  spe->add_option("--dense-max", s->dense_max, "All eigenvalues (dense solve) up to this n")
      ->capture_default_str();
  spe->add_option("--lengths", s->lengths,
                  "Also rebuild the pattern at these n for gap_vs_n.csv (comma-separated)")
      ->delimiter(',');
  spe->add_option("--alpha", s->alpha,
                  "PPR teleport probability alpha in [0, 1] of the diffusion maps")
      ->capture_default_str();
  add_hops_list(spe, s->hops, "of error_vs_k.csv");
  spe->add_option("--diffusion-hops", s->diffusion_hops,
                  "K of the diffused eigenvalues in eigenvalues.csv and gap_vs_n.csv")
      ->capture_default_str();
  spe->add_option("--tol", s->tol, "Eigen-solver residual tolerance")->capture_default_str();
  spe->add_option("--threads", s->threads, "OpenMP threads (default: all)")
      ->check(CLI::NonNegativeNumber);
  spe->add_option("--out", s->out, "Output folder")->required();
  spe->callback([&action, s] { action = [s] { run_spectrum(*s); }; });
}

}  // namespace diffuser::cli
