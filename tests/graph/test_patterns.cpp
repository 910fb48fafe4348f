// Why: every pattern must be exactly the documented one (docs/patterns.md). Each builder is
// compared edge for edge against a dense brute-force construction at small n, including causal
// variants and the random draws; the random component is also checked by its properties
// (counts, distinctness, exclusion, determinism, thread-count independence, uniformity).
#include <map>

#include "core/Error.hpp"
#include "core/Threads.hpp"
#include "graph/GraphOps.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"
#include "tests/graph/PatternReference.hpp"

using namespace diffuser;
using namespace diffuser::graph;
using diffuser::testing::reference_pattern;
using diffuser::testing::to_dense;

namespace {

/// Builds the spec and checks it against the brute force: exact edge set, valid CSR, one
/// self-loop per row.
void check_against_reference(Index n, const PatternSpec& spec) {
  INFO("spec = " << format_pattern_spec(spec) << ", n = " << n);
  const CsrGraph g = build_pattern(n, spec);
  REQUIRE(g.n() == n);
  g.validate();
  const auto expected = reference_pattern(n, spec);
  const auto got = to_dense(g);
  std::int64_t expected_nnz = 0;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j) {
      expected_nnz += expected[i][j];
      if (got[i][j] != expected[i][j]) {
        FAIL_CHECK("edge (" << i << ", " << j << "): built " << int(got[i][j]) << ", expected "
                            << int(expected[i][j]));
        return;
      }
    }
  }
  CHECK(g.nnz() == expected_nnz);
  CHECK(count_self_loops(g) == n);
}

PatternSpec spec_of(const std::string& text) { return parse_pattern_spec(text); }

}  // namespace

TEST_CASE("window pattern equals brute force", "[graph][patterns]") {
  for (const Index n : {1, 2, 7, 40}) {
    for (const Index r : {0, 1, 3, 50}) {
      PatternSpec s;
      s.window = r;
      check_against_reference(n, s);
      s.causal = true;
      check_against_reference(n, s);
    }
  }
  // Closed form: row i of window R has min(i, R) + min(n-1-i, R) + 1 keys.
  const CsrGraph g = build_pattern(30, spec_of("window=4"));
  for (Index i = 0; i < 30; ++i) {
    CHECK(g.degree(i) == std::min(i, 4) + std::min(29 - i, 4) + 1);
  }
}

TEST_CASE("global pattern equals brute force for every positions mode", "[graph][patterns]") {
  for (const char* mode : {"first", "spread", "random"}) {
    for (const Index g : {1, 2, 5, 60}) {
      PatternSpec s;
      s.global = g;
      s.global_positions = parse_global_positions(mode);
      s.seed = 11;
      check_against_reference(37, s);
      s.window = 2;
      check_against_reference(37, s);
      s.causal = true;
      check_against_reference(37, s);
    }
  }
  check_against_reference(25, spec_of("global-list=3:0:24,window=1"));
  check_against_reference(25, spec_of("global-list=3:0:24,window=1,causal"));
}

TEST_CASE("global positions follow their definitions", "[graph][patterns]") {
  CHECK(global_positions(10, spec_of("global=3")) == std::vector<Index>{0, 1, 2});
  CHECK(global_positions(10, spec_of("global=3,global-positions=spread")) ==
        std::vector<Index>{0, 4, 9});
  CHECK(global_positions(10, spec_of("global=1,global-positions=spread")) == std::vector<Index>{0});
  CHECK(global_positions(5, spec_of("global=9,global-positions=spread")) ==
        std::vector<Index>{0, 1, 2, 3, 4});
  CHECK(global_positions(4, spec_of("global=9")) == std::vector<Index>{0, 1, 2, 3});
  CHECK(global_positions(10, spec_of("global-list=7:2")) == std::vector<Index>{2, 7});
  const auto r = global_positions(1000, spec_of("global=16,global-positions=random,seed=5"));
  REQUIRE(r.size() == 16);
  CHECK(std::is_sorted(r.begin(), r.end()));
  CHECK(std::adjacent_find(r.begin(), r.end()) == r.end());
  CHECK(r != global_positions(1000, spec_of("global=16,global-positions=random,seed=6")));
  CHECK_THROWS_WITH(build_pattern(10, spec_of("global-list=3:10")),
                    Catch::Contains("global position 10 is outside [0, 10)"));
  CHECK_THROWS_WITH(build_pattern(10, spec_of("global-list=3:3")),
                    Catch::Contains("global position 3 is repeated"));
}

TEST_CASE("random keys equal brute force (exact draws)", "[graph][patterns]") {
  for (const bool causal : {false, true}) {
    for (const Index r : {1, 3, 8, 100}) {
      PatternSpec s;
      s.window = 2;
      s.global = 2;
      s.random = r;
      s.causal = causal;
      s.seed = 1234;
      check_against_reference(45, s);
      s.window = 0;
      s.global = 0;
      check_against_reference(45, s);
    }
  }
}

TEST_CASE("random keys: counts, distinctness, exclusion, determinism", "[graph][patterns]") {
  const Index n = 300;
  const PatternSpec base = spec_of("window=5,global=3");
  PatternSpec s = base;
  s.random = 7;
  s.seed = 99;
  const CsrGraph b = build_pattern(n, base);
  const CsrGraph g = build_pattern(n, s);
  for (Index i = 0; i < n; ++i) {
    const bool is_global = i < 3;
    // Distinct and sorted: validate() checks I5; the base keys must all still be there.
    for (const Index j : b.row(i)) CHECK(g.has_edge(i, j));
    const std::int64_t extra = g.degree(i) - b.degree(i);
    CHECK(extra == (is_global ? 0 : std::min<Index>(7, n - b.degree(i))));
  }
  // Causal: random keys only among j <= i; rows with fewer than R missing keys take them all.
  PatternSpec c = s;
  c.causal = true;
  const CsrGraph gc = build_pattern(n, c);
  const CsrGraph bc = build_pattern(n, [&] {
    PatternSpec t = base;
    t.causal = true;
    return t;
  }());
  for (Index i = 0; i < n; ++i) {
    for (const Index j : gc.row(i)) CHECK(j <= i);
    const Index missing = (i + 1) - bc.degree(i);
    CHECK(gc.degree(i) - bc.degree(i) == (i < 3 ? 0 : std::min<Index>(7, missing)));
  }
  // Same seed -> same graph; another seed -> another graph.
  CHECK(build_pattern(n, s) == g);
  PatternSpec other = s;
  other.seed = 100;
  CHECK(build_pattern(n, other) != g);
}

TEST_CASE("patterns do not depend on the thread count", "[graph][patterns]") {
  // n above the builders' serial cut-off (4096 rows), so the 2- and 4-thread runs do split rows.
  const Index n = 12000;
  const PatternSpec s = spec_of(
      "window=3,global=4,global-positions=random,random=6,expander=2,random-cells=500,"
      "dilated=2:5,seed=7");
  CsrGraph one, two, four;
  {
    ThreadCountGuard guard(1);
    one = build_pattern(n, s);
  }
  {
    ThreadCountGuard guard(2);
    two = build_pattern(n, s);
  }
  {
    ThreadCountGuard guard(4);
    four = build_pattern(n, s);
  }
  CHECK(one == two);
  CHECK(one == four);
}

TEST_CASE("random keys are uniform over the missing keys", "[graph][patterns]") {
  // Row 10 of window=2 on n = 24 misses 24 - 5 = 19 keys; R = 3 draws per seed. Over 3000 seeds
  // each missing key is expected 3000 * 3 / 19 = 473.7 times. Pearson's chi-square with 18
  // degrees of freedom exceeds 60 with probability < 1e-6, so the bound cannot fail by chance.
  std::map<Index, int> hits;
  const int seeds = 3000;
  PatternSpec s = spec_of("window=2,random=3");
  for (int seed = 0; seed < seeds; ++seed) {
    s.seed = static_cast<std::uint64_t>(seed);
    const CsrGraph g = build_pattern(24, s);
    for (const Index j : g.row(10)) {
      if (std::abs(j - 10) > 2) ++hits[j];
    }
  }
  REQUIRE(hits.size() == 19);
  const double expected = seeds * 3.0 / 19.0;
  double chi2 = 0;
  for (const auto& [j, h] : hits) chi2 += (h - expected) * (h - expected) / expected;
  CHECK(chi2 < 60.0);
}

TEST_CASE("blocks, dilated, random cells, expander, full equal brute force", "[graph][patterns]") {
  for (const bool causal : {false, true}) {
    const std::string c = causal ? ",causal" : "";
    for (const char* text :
         {"blocks=2", "blocks=4", "blocks=8", "blocks=64", "dilated=2:3", "dilated=3:1",
          "dilated=1:50", "random-cells=40,seed=3", "random-cells=200000,seed=8",
          "expander=1,seed=5", "expander=3,seed=6", "full", "window=2,blocks=6,dilated=2:4",
          "blocks=4,global=2,random=3,expander=1,random-cells=30,seed=9"}) {
      for (const Index n : {1, 5, 33}) check_against_reference(n, spec_of(text + c));
    }
  }
}

TEST_CASE("blocks follow the original Diffuser band", "[graph][patterns]") {
  // Blocks of 64 at stride 32: a token sees its own and the neighbouring 32-token chunks:
  // 96 keys inside, 64 at either end (docs/design.md §5).
  const CsrGraph g = build_pattern(256, spec_of("blocks=64"));
  CHECK(g.degree(0) == 64);
  CHECK(g.degree(31) == 64);
  CHECK(g.degree(32) == 96);
  CHECK(g.degree(100) == 96);
  CHECK(g.degree(255) == 64);
  CHECK(g.row(40).front() == 0);
  CHECK(g.row(40).back() == 95);
}

TEST_CASE("expander rows hold permutation neighbours", "[graph][patterns]") {
  // D permutations and their inverses: at most 2D + 1 keys per row, symmetric pattern.
  const CsrGraph g = build_pattern(500, spec_of("expander=3,seed=2"));
  CHECK(is_symmetric(g));
  for (Index i = 0; i < 500; ++i) CHECK(g.degree(i) <= 7);
  CHECK(degree_stats(g).mean > 6.0);
}

TEST_CASE("block-level (BigBird) patterns equal brute force", "[graph][patterns]") {
  for (const char* text :
       {"block-size=4,window=1", "block-size=4,window=1,global=2,global-positions=spread",
        "block-size=3,window=1,global=1,random=2,seed=4",
        "block-size=5,window=1,global=1,random=2,seed=4,causal"}) {
    for (const Index n : {1, 7, 30, 41}) check_against_reference(n, spec_of(text));
  }
}

TEST_CASE("presets", "[graph][patterns]") {
  // diffuser at any n: blocks 64, 64 random global tokens, 64 random keys per query.
  const PatternSpec d = preset_spec("diffuser", 3);
  CHECK(d.blocks == 64);
  CHECK(d.global == 64);
  CHECK(d.global_positions == GlobalPositions::kRandom);
  CHECK(d.random == 64);
  CHECK(d.seed == 3);
  check_against_reference(150, d);
  const CsrGraph g = build_pattern(2048, d);
  const auto globals = global_positions(2048, d);
  std::vector<char> is_global(2048, 0);
  for (const Index p : globals) is_global[p] = 1;
  for (Index i = 0; i < 2048; ++i) {
    if (is_global[i]) {
      CHECK(g.degree(i) == 2048);
    } else {
      // blocks (64 or 96) + globals outside the band + exactly 64 random keys.
      CHECK(g.degree(i) >= 64 + 64);
    }
  }
  // diffuser-cropped: built at 4096 with 64 * 4096 random cells, then cropped.
  const PatternSpec c = preset_spec("diffuser-cropped");
  CHECK(c.crop_from == 4096);
  CHECK(c.random_cells == 64 * 4096);
  const CsrGraph big = build_pattern(4096, c);
  const CsrGraph small = build_pattern(1024, c);
  CHECK(small == crop(big, 1024));
  // At length 1024 roughly a quarter of the 64 global positions survive (~16).
  std::int64_t surviving = 0;
  for (const Index p : global_positions(4096, c)) surviving += p < 1024 ? 1 : 0;
  CHECK(surviving > 4);
  CHECK(surviving < 40);
  CHECK_THROWS_WITH(build_pattern(5000, c), Catch::Contains("exceeds crop-from = 4096"));
  check_against_reference(64, [] {
    PatternSpec t = preset_spec("diffuser-cropped");
    t.crop_from = 96;
    t.random_cells = 500;
    t.global = 6;
    return t;
  }());
  // bigbird: blocks of 64, window 3 blocks, global first and last block, 3 random blocks.
  const PatternSpec b = preset_spec("bigbird");
  CHECK(b.block_size == 64);
  const CsrGraph bb = build_pattern(1024, b);
  CHECK(bb.degree(0) == 1024);                // global block
  CHECK(bb.degree(1023) == 1024);             // last block is global too
  CHECK(bb.degree(500) == (3 + 2 + 3) * 64);  // window, globals, random blocks
  const PatternSpec l = preset_spec("longformer");
  CHECK(l.window == 256);
  CHECK(l.global == 1);
  CHECK(build_pattern(100, preset_spec("full")).nnz() == 100 * 100);
  CHECK_THROWS_WITH(preset_spec("nope"), Catch::Contains("preset 'nope' unknown"));
}

TEST_CASE("pattern spec strings parse, print and reject bad input", "[graph][patterns]") {
  const PatternSpec s = parse_pattern_spec("window=16,global=4,random=8,causal,seed=3");
  CHECK(s.window == 16);
  CHECK(s.global == 4);
  CHECK(s.random == 8);
  CHECK(s.causal);
  CHECK(s.seed == 3);
  CHECK(format_pattern_spec(s) == "window=16,global=4,random=8,causal,seed=3");
  CHECK(parse_pattern_spec("preset=diffuser") == preset_spec("diffuser"));
  const PatternSpec o = parse_pattern_spec("random=5, preset=diffuser, seed=2");
  CHECK(o.random == 5);
  CHECK(o.blocks == 64);
  CHECK(o.seed == 2);
  CHECK(parse_pattern_spec("dilated=8:4").dilation == 4);
  CHECK(parse_pattern_spec("random_cells=10").random_cells == 10);
  CHECK(parse_pattern_spec("causal=false").causal == false);
  CHECK(parse_pattern_spec("") == PatternSpec{});
  for (const char* text :
       {"window=16,global=4,random=8,causal,seed=3", "preset=diffuser", "preset=bigbird",
        "preset=diffuser-cropped", "global-list=5:1:9,full", "dilated=3:2,expander=2,blocks=8",
        "global=3,global-positions=spread,block-size=16,crop-from=100,random-cells=7"}) {
    const PatternSpec p = parse_pattern_spec(text);
    CHECK(parse_pattern_spec(format_pattern_spec(p)) == p);
  }
  CHECK_THROWS_WITH(parse_pattern_spec("window=3,windw=4"), Catch::Contains("unknown key 'windw'"));
  CHECK_THROWS_WITH(parse_pattern_spec("window=x"),
                    Catch::Contains("'window=x': value is not an integer"));
  CHECK_THROWS_WITH(parse_pattern_spec("window=-2"), Catch::Contains("'window=-2'"));
  CHECK_THROWS_WITH(parse_pattern_spec("window=3,window=4"), Catch::Contains("given twice"));
  CHECK_THROWS_WITH(parse_pattern_spec("window"), Catch::Contains("'window' needs a value"));
  CHECK_THROWS_WITH(parse_pattern_spec("blocks=5"), Catch::Contains("blocks = 5 must be"));
  CHECK_THROWS_WITH(parse_pattern_spec("dilated=3"), Catch::Contains("expected RADIUS:STEP"));
  CHECK_THROWS_WITH(parse_pattern_spec("dilated=3:0"), Catch::Contains("'dilated=0'"));
  CHECK_THROWS_WITH(parse_pattern_spec("causal=maybe"), Catch::Contains("'causal=maybe'"));
  CHECK_THROWS_WITH(parse_pattern_spec("global=2,global-list=1:2:3"),
                    Catch::Contains("global=2 but global-list holds 3"));
  CHECK_THROWS_WITH(parse_pattern_spec("global-positions=list"),
                    Catch::Contains("needs global-list"));
  CHECK_THROWS_WITH(parse_pattern_spec("global-positions=middle"),
                    Catch::Contains("global positions 'middle' unknown"));
  CHECK_THROWS_WITH(parse_pattern_spec("window=3,"), Catch::Contains("empty item"));
  CHECK_THROWS_WITH(parse_pattern_spec("preset=gpt"), Catch::Contains("preset 'gpt' unknown"));
  CHECK_THROWS_WITH(parse_pattern_spec("window=99999999999"), Catch::Contains("out of range"));
}

TEST_CASE("pattern sizes past the int32 limit fail clearly", "[graph][patterns]") {
  // full on 50000 tokens = 2.5e9 edges: rejected after counting, before any allocation.
  CHECK_THROWS_WITH(build_pattern(50000, spec_of("full")),
                    Catch::Contains("2500000000 edges, more than the int32 limit 2147483647"));
  CHECK_THROWS_WITH(build_pattern(-1, spec_of("window=1")), Catch::Contains("n = -1"));
  CHECK(build_pattern(0, spec_of("window=3,global=2,random=4")).n() == 0);
}
