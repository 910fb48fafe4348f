// Why: see PatternSource.hpp.
#include "cli/PatternSource.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "cli/Validators.hpp"
#include "core/Error.hpp"
#include "graph/GraphExport.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::cli {

graph::PatternSpec PatternSource::pattern_spec() const {
  std::string text;
  if (o_preset->count() > 0) text = "preset=" + preset;
  if (o_spec->count() > 0) text += (text.empty() ? "" : ",") + spec;
  graph::PatternSpec s = graph::parse_pattern_spec(text);
  if (o_seed->count() > 0) s.seed = seed;
  graph::validate_spec(s);
  return s;
}

void PatternSource::check() const {
  const bool any_spec = o_spec->count() > 0 || o_preset->count() > 0;
  if (!file.empty()) {
    DIFFUSER_CHECK(!any_spec && o_n->count() == 0 && o_seed->count() == 0,
                   "give either a graph FILE or --n with --spec/--preset, not both");
    return;
  }
  DIFFUSER_CHECK(any_spec && o_n->count() > 0,
                 "no pattern: give a graph FILE, or --n N with --spec STRING or --preset NAME");
  DIFFUSER_CHECK(n >= 1, "--n {} must be >= 1", n);
}

graph::CsrGraph PatternSource::load() const {
  check();
  if (!file.empty()) return graph::read_graph(file);
  return graph::build_pattern(n, pattern_spec());
}

nlohmann::ordered_json PatternSource::describe() const {
  using Json = nlohmann::ordered_json;
  if (!file.empty()) {
    return Json{{"name", std::filesystem::path(file).filename().string()}, {"file", file}};
  }
  // A short name for plot titles: the preset and/or the spec as the user wrote them.
  std::string name = o_preset->count() > 0 ? preset : "";
  if (o_spec->count() > 0) name += (name.empty() ? "" : "+") + spec;
  if (o_seed->count() > 0) name += fmt::format(" (seed {})", seed);
  return Json{{"name", name}, {"spec", graph::format_pattern_spec(pattern_spec())}};
}

void add_pattern_source(CLI::App* cmd, PatternSource& s) {
  cmd->add_option("FILE", s.file, "Graph file (.mtx, .txt/.edges, .json, .npy)");
  s.o_n = cmd->add_option("--n", s.n, "Build the pattern on N tokens (with --spec or --preset)");
  s.o_spec =
      cmd->add_option("--spec", s.spec, "Compact pattern spec, e.g. window=64,global=64,random=64");
  s.o_preset = cmd->add_option("--preset", s.preset,
                               "Named pattern: diffuser, diffuser-cropped, bigbird, longformer, "
                               "full");
  s.o_seed = cmd->add_option("--seed", s.seed, "Seed of the pattern's random components")
                 ->check(non_negative());
}

}  // namespace diffuser::cli
