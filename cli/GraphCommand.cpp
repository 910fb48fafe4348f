// Why: `diffuser graph ...` subcommands over the graph module: build a pattern and write it in
// the format of the output extension, print one JSON object of statistics about a graph file,
// and convert a graph file between formats. Documented in docs/cli.md.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/Commands.hpp"
#include "cli/Validators.hpp"
#include "core/Error.hpp"
#include "graph/BoostInterop.hpp"
#include "graph/GraphExport.hpp"
#include "graph/GraphOps.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::cli {

namespace {

using graph::Index;

struct BuildArgs {
  Index n = 0;
  Index window = 0, global = 0, random = 0, blocks = 0, expander = 0, block_size = 1, crop_from = 0;
  std::int64_t random_cells = 0;
  std::string global_positions, dilated, preset, spec, out;
  std::vector<Index> global_list;
  bool causal = false, full = false, force = false;
  std::uint64_t seed = 0;
  std::vector<CLI::Option*> components;  // pattern component options, to tell if any was given
  CLI::Option *o_window, *o_global, *o_positions, *o_list, *o_random, *o_causal, *o_blocks,
      *o_dilated, *o_cells, *o_expander, *o_full, *o_block_size, *o_crop, *o_seed, *o_preset,
      *o_spec;
};

graph::PatternSpec resolve_spec(const BuildArgs& a) {
  std::string text;
  if (a.o_preset->count() > 0) text = "preset=" + a.preset;
  if (a.o_spec->count() > 0) {
    if (!text.empty()) text += ',';
    text += a.spec;
  }
  graph::PatternSpec s = graph::parse_pattern_spec(text);
  if (a.o_window->count() > 0) s.window = a.window;
  if (a.o_global->count() > 0) s.global = a.global;
  if (a.o_positions->count() > 0) {
    s.global_positions = graph::parse_global_positions(a.global_positions);
    if (s.global_positions != graph::GlobalPositions::kList) s.global_list.clear();
  }
  if (a.o_list->count() > 0) {
    DIFFUSER_CHECK(a.o_positions->count() == 0 || a.global_positions == "list",
                   "--global-list conflicts with --global-positions {}", a.global_positions);
    DIFFUSER_CHECK(
        a.o_global->count() == 0 || static_cast<std::size_t>(a.global) == a.global_list.size(),
        "--global {} but --global-list holds {} positions", a.global, a.global_list.size());
    s.global_positions = graph::GlobalPositions::kList;
    s.global_list = a.global_list;
    s.global = static_cast<Index>(a.global_list.size());
  } else if (s.global_positions == graph::GlobalPositions::kList && s.global_list.empty()) {
    fail("--global-positions list needs --global-list P1,P2,...");
  }
  if (a.o_random->count() > 0) s.random = a.random;
  if (a.o_causal->count() > 0) s.causal = a.causal;
  if (a.o_blocks->count() > 0) s.blocks = a.blocks;
  if (a.o_dilated->count() > 0) {
    const graph::PatternSpec d = graph::parse_pattern_spec("dilated=" + a.dilated);
    s.dilated = d.dilated;
    s.dilation = d.dilation;
  }
  if (a.o_cells->count() > 0) s.random_cells = a.random_cells;
  if (a.o_expander->count() > 0) s.expander = a.expander;
  if (a.o_full->count() > 0) s.full = a.full;
  if (a.o_block_size->count() > 0) s.block_size = a.block_size;
  if (a.o_crop->count() > 0) s.crop_from = a.crop_from;
  if (a.o_seed->count() > 0) s.seed = a.seed;
  bool any = a.o_preset->count() > 0 || a.o_spec->count() > 0;
  for (const CLI::Option* o : a.components) any = any || o->count() > 0;
  DIFFUSER_CHECK(any,
                 "graph build: no pattern given (use --window, --global, --random, --blocks, "
                 "--dilated, --random-cells, --expander, --full, --preset or --spec)");
  graph::validate_spec(s);
  return s;
}

void run_build(const BuildArgs& a) {
  const graph::PatternSpec spec = resolve_spec(a);
  DIFFUSER_CHECK(a.n >= 1, "--n {} must be >= 1 (a token graph needs at least one token)", a.n);
  // Check the extension before the (possibly long) build.
  graph::format_from_path(a.out);
  const graph::CsrGraph g = graph::build_pattern(a.n, spec);
  graph::write_graph(a.out, g, a.force);
  std::printf("wrote %s: n = %d, nnz = %lld, pattern %s\n", a.out.c_str(), g.n(),
              static_cast<long long>(g.nnz()), graph::format_pattern_spec(spec).c_str());
}

nlohmann::ordered_json degree_json(const graph::DegreeStats& s) {
  return {{"min", s.min},       {"mean", s.mean},     {"max", s.max},
          {"median", s.median}, {"stddev", s.stddev}, {"zeros", s.zeros}};
}

struct StatsArgs {
  std::string file;
  graph::HopOptions hops;
};

void run_stats(const StatsArgs& a) {
  const graph::CsrGraph g = graph::read_graph(a.file);
  const auto n = static_cast<double>(g.n());
  nlohmann::ordered_json j;
  j["file"] = a.file;
  j["n"] = g.n();
  j["nnz"] = g.nnz();
  j["density"] = g.n() > 0 ? static_cast<double>(g.nnz()) / (n * n) : 0.0;
  j["has_values"] = g.has_values();
  j["degree"] = degree_json(graph::degree_stats(g));
  j["in_degree"] = degree_json(graph::in_degree_stats(g));
  j["self_loops"] = graph::count_self_loops(g);
  j["symmetric"] = graph::is_symmetric(g);
  const graph::Components c = graph::connected_components(g);
  j["components"] = c.count;
  j["largest_component"] = c.largest;
  j["strong_components"] = graph::strong_component_count(g);
  const graph::HopAnalysis h = graph::hop_analysis(g, a.hops);
  const auto& d = h.diameter;
  j["diameter"] = {
      {"value", d.exact ? nlohmann::ordered_json(d.value) : nlohmann::ordered_json(nullptr)},
      {"lower", d.lower},
      {"upper", d.upper >= 0 ? nlohmann::ordered_json(d.upper) : nlohmann::ordered_json(nullptr)},
      {"exact", d.exact},
      {"strongly_connected", d.strongly_connected},
      {"method", d.method}};
  const auto& rf = h.receptive_field;
  std::vector<Index> ks;
  for (Index k = 1; k <= a.hops.max_hops; ++k) ks.push_back(k);
  j["receptive_field"] = {
      {"k", ks},
      {"fraction", rf.fraction},
      {"mean_keys", rf.mean_keys},
      {"exact", rf.exact},
      {"sources", rf.sources},
      {"method", rf.exact ? "exact: BFS from every query, fraction of (query, key) pairs within "
                            "k hops (query -> key edges)"
                          : "estimate: BFS from " + std::to_string(rf.sources) +
                                " uniformly sampled queries (seeded), fraction of (query, key) "
                                "pairs within k hops"}};
  std::printf("%s\n", j.dump(2).c_str());
}

struct ExportArgs {
  std::string file, out;
  bool force = false;
};

void run_export(const ExportArgs& a) {
  graph::format_from_path(a.out);
  const graph::CsrGraph g = graph::read_graph(a.file);
  graph::write_graph(a.out, g, a.force);
  std::printf("wrote %s: n = %d, nnz = %lld\n", a.out.c_str(), g.n(),
              static_cast<long long>(g.nnz()));
}

}  // namespace

void register_graph_commands(CLI::App& app, Action& action) {
  auto* graph_cmd = app.add_subcommand("graph", "Build, inspect and export token graphs");
  graph_cmd->require_subcommand(1);

  auto b = std::make_shared<BuildArgs>();
  auto* build = graph_cmd->add_subcommand(
      "build",
      "Build an attention pattern (docs/patterns.md) and write it; the format follows the "
      "extension of --out (.mtx, .txt/.edges, .json, .npy, .graphml, .dot)");
  build->add_option("--n", b->n, "Number of tokens")->required();
  b->o_window = build->add_option("--window", b->window, "Window radius R: keys |i - j| <= R");
  b->o_global = build->add_option("--global", b->global, "Number of global tokens G");
  b->o_positions = build->add_option("--global-positions", b->global_positions,
                                     "Where the global tokens sit: first|spread|random|list");
  b->o_list = build
                  ->add_option("--global-list", b->global_list,
                               "Global token positions (comma-separated; implies list)")
                  ->delimiter(',');
  b->o_random = build->add_option("--random", b->random,
                                  "R random keys per non-global query (drawn after the rest)");
  b->o_causal = build->add_flag("--causal", b->causal, "Restrict every component to keys j <= i");
  b->o_blocks = build->add_option("--blocks", b->blocks,
                                  "Overlapping blocks of W tokens at stride W/2 (W even)");
  b->o_dilated = build->add_option("--dilated", b->dilated, "Dilated window R:D (keys i + kD)");
  b->o_cells = build->add_option("--random-cells", b->random_cells,
                                 "M uniformly random cells over the n x n grid");
  b->o_expander =
      build->add_option("--expander", b->expander, "D random permutations and their inverses");
  b->o_full = build->add_flag("--full", b->full, "Every key (full attention)");
  b->o_block_size = build->add_option("--block-size", b->block_size,
                                      "Build on blocks of B tokens, then expand (BigBird style)");
  b->o_crop = build->add_option("--crop-from", b->crop_from,
                                "Build at this length, then crop to --n (diffuser-cropped)");
  b->o_seed = build->add_option("--seed", b->seed, "Seed of every random component (default 0)")
                  ->check(non_negative());
  b->o_preset = build->add_option("--preset", b->preset,
                                  "Named pattern: diffuser, diffuser-cropped, bigbird, "
                                  "longformer, full (other options override it)");
  b->o_spec = build->add_option("--spec", b->spec,
                                "Compact spec, e.g. window=16,global=4,random=8,causal,seed=3 "
                                "(other options override it)");
  build->add_option("--out", b->out, "Output file")->required();
  build->add_flag("--force", b->force, "Write DOT or dense .npy above their size limits");
  b->components = {b->o_window,  b->o_global, b->o_list,     b->o_random, b->o_blocks,
                   b->o_dilated, b->o_cells,  b->o_expander, b->o_full};
  build->callback([&action, b] { action = [b] { run_build(*b); }; });

  auto s = std::make_shared<StatsArgs>();
  auto* stats = graph_cmd->add_subcommand(
      "stats",
      "Print one JSON object of statistics: sizes, degrees, self-loops, symmetry, "
      "components, diameter, receptive fields");
  stats->add_option("FILE", s->file, "Graph file (.mtx, .txt/.edges, .json, .npy)")->required();
  stats
      ->add_option("--exact-limit", s->hops.exact_max_nodes,
                   "Exact all-source BFS up to this many nodes; bounds and sampling beyond")
      ->capture_default_str();
  stats
      ->add_option("--exact-work", s->hops.exact_max_work,
                   "Exact only while n * (n + nnz) BFS steps stay below this")
      ->capture_default_str();
  stats
      ->add_option("--samples", s->hops.sample_sources,
                   "BFS sources sampled beyond the exact limits (fewer when samples * (n + nnz) "
                   "would exceed 4e9 steps; at least 8)")
      ->capture_default_str();
  stats->add_option("--max-hops", s->hops.max_hops, "Receptive fields for k = 1..K")
      ->capture_default_str();
  stats->add_option("--seed", s->hops.seed, "Seed of the source sample")
      ->capture_default_str()
      ->check(non_negative());
  stats->callback([&action, s] { action = [s] { run_stats(*s); }; });

  auto e = std::make_shared<ExportArgs>();
  auto* exp = graph_cmd->add_subcommand(
      "export", "Convert a graph file; the output format follows the extension of --out");
  exp->add_option("FILE", e->file, "Input graph (.mtx, .txt/.edges, .json, .npy)")->required();
  exp->add_option("--out", e->out, "Output file (.mtx, .txt/.edges, .json, .npy, .graphml, .dot)")
      ->required();
  exp->add_flag("--force", e->force, "Write DOT or dense .npy above their size limits");
  exp->callback([&action, e] { action = [e] { run_export(*e); }; });
}

}  // namespace diffuser::cli
