// Why: the commands that study one pattern take it the same way: a graph FILE, or --n with a
// --spec / --preset (docs/patterns.md) and an optional --seed. One definition keeps their flags,
// checks and messages identical (viz pattern/receptive/spectrum, spectral suggest-hops).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "graph/CsrGraph.hpp"
#include "graph/PatternSpec.hpp"

namespace diffuser::cli {

/// A graph file, or a pattern built from --n and --spec / --preset.
struct PatternSource {
  std::string file, spec, preset;
  graph::Index n = 0;
  std::uint64_t seed = 0;
  CLI::Option *o_n = nullptr, *o_spec = nullptr, *o_preset = nullptr, *o_seed = nullptr;

  /// True when the pattern is built (no FILE).
  bool built() const { return file.empty(); }
  /// The spec of a built pattern: --preset, then --spec, then --seed; validated.
  graph::PatternSpec pattern_spec() const;
  /// Throws diffuser::Error for FILE together with a spec, or neither, or --n < 1.
  void check() const;
  /// Reads FILE or builds the pattern (after check()).
  graph::CsrGraph load() const;
  /// What the graph is, for the JSON summaries: {"name", "file"} or {"name", "spec"}.
  nlohmann::ordered_json describe() const;
};

/// Registers FILE, --n, --spec, --preset and --seed on `cmd`.
void add_pattern_source(CLI::App* cmd, PatternSource& s);

}  // namespace diffuser::cli
