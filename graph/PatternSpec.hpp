// Why: one plain description of an attention pattern (which components, their sizes, the seed)
// shared by the builders, the CLI, experiment configs and checkpoints. It has a compact string
// form ("window=16,global=4,random=8,causal,seed=3", "preset=diffuser") that parses and
// prints back exactly, so a pattern can be named in a config file or a log line.
// The exact meaning of every field is written down in docs/patterns.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::graph {

/// Where the global tokens sit.
enum class GlobalPositions {
  kFirst,   ///< positions 0, 1, ..., G-1
  kSpread,  ///< floor(k (n-1) / (G-1)) for k = 0..G-1 (both ends included; {0} when G = 1)
  kRandom,  ///< G distinct positions drawn uniformly (seeded; docs/patterns.md)
  kList,    ///< the positions in PatternSpec::global_list
};

/// A pattern description. Every component is off at its default; a self-loop is always in
/// every row. Row i = query i, its keys = the union of the components' keys for row i (then
/// the random keys, drawn last). Counts with block_size > 1 are in units of blocks.
struct PatternSpec {
  Index window = 0;  ///< keys j with |i - j| <= window
  Index global = 0;  ///< number of global tokens G (clamped to n); full rows and columns
  GlobalPositions global_positions = GlobalPositions::kFirst;
  std::vector<Index> global_list;  ///< positions for kList (distinct, in [0, n))
  Index random = 0;                ///< R extra distinct uniformly random keys per non-global query
  bool causal = false;             ///< restrict every component to j <= i
  Index blocks = 0;                ///< W: overlapping blocks of size W at stride W/2 (W even, >= 2)
  Index dilated = 0;               ///< dilated radius R: keys i + k*D for |k| <= R
  Index dilation = 1;              ///< dilated step D >= 1
  std::int64_t random_cells = 0;   ///< M uniformly random cells (i, j) over the whole n x n grid
  Index expander = 0;              ///< D random permutations and their inverses
  bool full = false;               ///< every key (full attention)
  Index block_size = 1;            ///< build on blocks of this many tokens, then expand (BigBird)
  Index crop_from = 0;             ///< > 0: build at this length, then crop to n (diffuser-cropped)
  std::uint64_t seed = 0;          ///< seed of every random component

  friend bool operator==(const PatternSpec&, const PatternSpec&) = default;
};

/// Throws diffuser::Error naming the field when a value is out of its domain (negative sizes,
/// odd or < 2 blocks, dilation < 1, block_size < 1, list positions with kList missing, ...).
void validate_spec(const PatternSpec& spec);

/// Named presets (docs/patterns.md): "diffuser" (blocks 64, 64 random global positions,
/// 64 random keys per query, at any n), "diffuser-cropped" (the original code: built at 4096
/// with 64*4096 random cells, then cropped), "bigbird" (blocks of 64: 3 window blocks, 2 global
/// blocks at both ends, 3 random blocks), "longformer" (window 256 + global token 0), "full".
/// Unknown names throw diffuser::Error listing the known ones.
PatternSpec preset_spec(const std::string& name, std::uint64_t seed = 0);

/// Names accepted by preset_spec, in documentation order.
std::vector<std::string> preset_names();

/// Parses the compact form: comma-separated `key=value` items and bare flags, e.g.
/// "window=16,global=4,random=8,causal,seed=3" or "preset=bigbird,block-size=32".
/// Keys: preset, window, global, global-positions (first|spread|random|list), global-list
/// (colon-separated positions, implies list), random, causal, blocks, dilated (R:D),
/// random-cells, expander, full, block-size, crop-from, seed ('_' may replace '-'). A preset
/// is applied first wherever it appears; the other keys override it. Flags accept
/// =true/false/1/0. Unknown keys, repeated keys and bad values throw diffuser::Error naming
/// the key (and the value).
PatternSpec parse_pattern_spec(const std::string& text);

/// The canonical compact form of a spec (only non-default fields, fixed key order);
/// parse_pattern_spec(format_pattern_spec(s)) == s. Returns "window=0" for the empty pattern.
std::string format_pattern_spec(const PatternSpec& spec);

/// Name of a positions mode ("first", "spread", "random", "list").
const char* global_positions_name(GlobalPositions mode);

/// Parses a positions mode name; diffuser::Error names the bad value.
GlobalPositions parse_global_positions(const std::string& name);

}  // namespace diffuser::graph
