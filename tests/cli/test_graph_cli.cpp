// Why: acceptance checks of `diffuser graph` as a user runs it (issue 2): the built executable
// must write exactly the documented pattern, and every malformed input file must end in a
// non-zero exit (not a signal) with exactly one line on stderr naming the problem.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "graph/GraphExport.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"
#include "tests/cli/CliShell.hpp"
#include "tests/graph/PatternReference.hpp"

using namespace diffuser;
using namespace diffuser::graph;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

using diffuser::testing::run_cli;
using diffuser::testing::RunResult;
using diffuser::testing::slurp;

/// Checks the built file against the dense brute force of the documented definition, row by
/// row (count and membership), and the row counts against their closed form.
void check_documented_pattern(const CsrGraph& g, const PatternSpec& spec) {
  const Index n = 1500;
  REQUIRE(g.n() == n);
  REQUIRE_FALSE(g.has_values());
  const auto expected = diffuser::testing::reference_pattern(n, spec);
  std::int64_t bad_rows = 0;
  for (Index i = 0; i < n; ++i) {
    std::vector<Index> want;
    for (Index j = 0; j < n; ++j) {
      if (expected[i][j]) want.push_back(j);
    }
    const auto row = g.row(i);
    if (std::vector<Index>(row.begin(), row.end()) != want) ++bad_rows;
    // Closed form: global rows hold every allowed key; other rows hold the window, the global
    // keys outside it, and min(8, remaining) random keys.
    const Index allowed = spec.causal ? i + 1 : n;
    const Index lo = std::max(0, i - 16), hi = spec.causal ? i : std::min(n - 1, i + 16);
    Index base = hi - lo + 1;
    for (Index p = 0; p < 4; ++p) base += (p < lo || p > hi) && p < allowed ? 1 : 0;
    const Index count = i < 4 ? allowed : base + std::min(8, allowed - base);
    if (g.degree(i) != count) ++bad_rows;
  }
  CHECK(bad_rows == 0);
}

}  // namespace

TEST_CASE("diffuser graph build writes exactly the documented pattern", "[cli][graph]") {
  TempDir dir;
  for (const bool causal : {false, true}) {
    const std::string file = dir.file(causal ? "gc.mtx" : "g.mtx");
    const RunResult r =
        run_cli(dir, std::string("graph build --n 1500 --window 16 --global 4 --random 8 "
                                 "--seed 3 --out '") +
                         file + "'" + (causal ? " --causal" : ""));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    PatternSpec spec;
    spec.window = 16;
    spec.global = 4;
    spec.random = 8;
    spec.seed = 3;
    spec.causal = causal;
    check_documented_pattern(read_graph(file), spec);
    // --spec and the separate options give the same file.
    const std::string alt = dir.file("alt.mtx");
    const RunResult r2 =
        run_cli(dir, "graph build --n 1500 --spec window=16,global=4,random=8," +
                         std::string(causal ? "causal," : "") + "seed=3 --out '" + alt + "'");
    REQUIRE(r2.exit_code == 0);
    CHECK(slurp(alt) == slurp(file));
  }
}

TEST_CASE("diffuser graph stats and export", "[cli][graph]") {
  TempDir dir;
  REQUIRE(run_cli(dir, "graph build --n 300 --preset bigbird --block-size 16 --out '" +
                           dir.file("b.mtx") + "'")
              .exit_code == 0);
  CHECK(read_graph(dir.file("b.mtx")) ==
        build_pattern(300, parse_pattern_spec("preset=bigbird,block-size=16")));
  // Individual options override --preset and --spec; --global-list implies list positions.
  REQUIRE(run_cli(dir,
                  "graph build --n 200 --preset longformer --spec window=3,seed=4 --window 5 "
                  "--global-list 7,190 --out '" +
                      dir.file("o.json") + "'")
              .exit_code == 0);
  CHECK(read_graph(dir.file("o.json")) ==
        build_pattern(200, parse_pattern_spec("window=5,global-list=7:190,seed=4")));
  const RunResult conflict =
      run_cli(dir, "graph build --n 20 --global-list 1,2 --global-positions spread --out '" +
                       dir.file("c.mtx") + "'");
  CHECK(conflict.exit_code == 1);
  CHECK(conflict.err.find("--global-list conflicts with --global-positions spread") !=
        std::string::npos);
  const RunResult s = run_cli(dir, "graph stats '" + dir.file("b.mtx") + "'");
  REQUIRE(s.exit_code == 0);
  for (const char* key : {"\"n\": 300", "\"nnz\"", "\"degree\"", "\"min\"", "\"mean\"", "\"max\"",
                          "\"self_loops\": 300", "\"symmetric\"", "\"components\": 1",
                          "\"diameter\"", "\"method\"", "\"receptive_field\"", "\"fraction\""}) {
    CHECK(s.out.find(key) != std::string::npos);
  }
  REQUIRE(
      run_cli(dir, "graph export '" + dir.file("b.mtx") + "' --out '" + dir.file("b.json") + "'")
          .exit_code == 0);
  CHECK(read_graph(dir.file("b.json")) == read_graph(dir.file("b.mtx")));
  const RunResult dot =
      run_cli(dir, "graph build --n 3000 --window 8 --out '" + dir.file("w.dot") + "'");
  CHECK(dot.exit_code == 1);
  CHECK(dot.err.find("refusing to write DOT") != std::string::npos);
}

TEST_CASE("malformed files: non-zero exit and one line on stderr", "[cli][graph]") {
  TempDir dir;
  const std::string h = "%%MatrixMarket matrix coordinate pattern general\n";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"empty.mtx", "", "empty file"},
      {"header.mtx", "%%MatrixMarket matrix coordinate pattern sideways\n1 1 0\n",
       ":1: bad header"},
      {"size.mtx", h + "3 3\n", ":2: bad size line"},
      {"range.mtx", h + "3 3 1\n4 1\n", ":3: row index 4 out of range"},
      {"fewer.mtx", h + "3 3 2\n1 1\n", "truncated file or wrong count"},
      {"more.mtx", h + "3 3 1\n1 1\n2 2\n", ":4: more entries than the 1 declared"},
      {"nonnum.mtx", h + "3 3 1\n1 x\n", ":3: non-numeric column index 'x'"},
      {"empty.txt", "", "empty file"},
      {"range.txt", "# nodes: 2\n0 5\n", ":2: edge (0, 5) out of range"},
      {"fewer.txt", "# edges: 2\n0 1\n", "file ends after 1 of the 2 edges"},
      {"more.txt", "# edges: 1\n0 1\n1 0\n", ":3: more edges than the 1 declared"},
      {"nonnum.txt", "0 1\n1 one\n", ":2: non-numeric key index 'one'"},
      {"fields.txt", "0 1\n1\n", ":2: found 1 fields"},
      {"bad.json", "{\"n\": ", "invalid JSON"},
      {"unknown.xyz", "1 2\n", "unknown graph file extension"},
  };
  for (const auto& [name, content, problem] : cases) {
    const std::string path = dir.file(name);
    write_file(path, content);
    const RunResult r = run_cli(dir, "graph stats '" + path + "'");
    INFO(name << ": stderr = " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.rfind("diffuser: error: ", 0) == 0);
    CHECK(r.err.find(name) != std::string::npos);
    CHECK(r.err.find(problem) != std::string::npos);
  }
  // A missing file and a bad option value are errors too (usage errors exit 2).
  const RunResult missing = run_cli(dir, "graph stats '" + dir.file("nothere.mtx") + "'");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("nothere.mtx") != std::string::npos);
  const RunResult usage = run_cli(dir, "graph build --n ten --window 2 --out x.mtx");
  CHECK(usage.exit_code == 2);
  CHECK(std::count(usage.err.begin(), usage.err.end(), '\n') == 1);
}
