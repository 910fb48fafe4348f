// Why: the guards that keep hostile inputs from crashing or exhausting the process
// (docs/reliability.md): the JSON depth limit, the memory budget and the graph readers' node
// limit. Each is checked at its boundary and against the inputs it exists for.
#include <cstdint>
#include <string>

#include "core/Error.hpp"
#include "core/JsonDepth.hpp"
#include "core/MemoryBudget.hpp"
#include "experiments/config/Config.hpp"
#include "graph/EdgeList.hpp"
#include "graph/MatrixMarket.hpp"
#include "graph/Patterns.hpp"
#include "graph/ReaderLimits.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using Catch::Contains;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("check_json_depth counts brackets outside strings only", "[reliability]") {
  CHECK_NOTHROW(check_json_depth(nested(kMaxJsonDepth), "x"));
  CHECK_THROWS_WITH(check_json_depth(nested(kMaxJsonDepth + 1), "x"),
                    "x: JSON nested deeper than 128 levels (byte 128)");
  // Brackets inside strings, also after an escaped quote, do not count.
  const std::string in_string = "{\"k\": \"\\\"" + std::string(1000, '[') + "\"}";
  CHECK_NOTHROW(check_json_depth(in_string, "x"));
  // Objects count like arrays; closing brackets bring the depth back down.
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "{\"a\": [1, {\"b\": 2}]},";
  CHECK_NOTHROW(check_json_depth("[" + wide + "0]", "x"));
  CHECK_THROWS_WITH(check_json_depth(std::string(200, '{'), "cfg", 100), Contains("byte 100"));
}

TEST_CASE("a deeply nested config is refused, not a stack overflow", "[reliability]") {
  TempDir dir;
  // 200 000 levels crash nlohmann::json's recursive parser (about 100 000 suffice at -O2).
  write_file(dir.file("deep.json"), nested(200000));
  CHECK_THROWS_WITH(experiments::Config::load(dir.file("deep.json")),
                    Contains("deep.json: JSON nested deeper than 128 levels"));
  experiments::Config c;
  CHECK_THROWS_WITH(c.apply_override("optim.lr=" + nested(200000)),
                    Contains("--set optim.lr: JSON nested deeper"));
}

TEST_CASE("check_memory_budget refuses more than the machine has", "[reliability]") {
  const std::uint64_t have = physical_memory_bytes();
  REQUIRE(have > 0);  // Linux reports it; the guard is silent only where it cannot know
  CHECK_NOTHROW(check_memory_budget(have / 2, "half"));
  CHECK_THROWS_WITH(
      check_memory_budget(have + 1, "the thing"),
      Contains("the thing needs") && Contains("GiB of memory, more than this machine's"));
  CHECK_THROWS_AS(check_memory_budget(std::uint64_t{1} << 62, "x"), Error);
}

TEST_CASE("graph readers accept n up to max(2^20, 16 per file byte)", "[reliability]") {
  using graph::reader_node_limit;
  CHECK(reader_node_limit(0) == graph::kReaderFreeNodes);
  CHECK(reader_node_limit(1 << 20) == 16 * (std::int64_t{1} << 20));
  const std::string head = "%%MatrixMarket matrix coordinate pattern general\n";
  // At the free limit: fine (an empty graph of 2^20 nodes, 4 MiB of offsets).
  const auto g = graph::parse_matrix_market(head + "1048576 1048576 0\n", "a.mtx");
  CHECK(g.n() == 1048576);
  CHECK(g.nnz() == 0);
  CHECK_THROWS_WITH(graph::parse_matrix_market(head + "1048577 1048577 0\n", "b.mtx"),
                    Contains("b.mtx:2: the size line declares n = 1048577 is out of proportion"));
  // A file big enough to justify its n: 16 nodes per byte.
  std::string body = "# nodes: 2000000\n";
  body += std::string(2000000 / 16 - body.size() + 1, '#') + "\n";
  CHECK(graph::parse_edge_list(body, "c.txt").n() == 2000000);
  CHECK_THROWS_WITH(graph::parse_edge_list("# nodes: 2000000\n", "d.txt"),
                    Contains("d.txt:1: the directive '# nodes:' declares n = 2000000"));
  CHECK_THROWS_WITH(graph::parse_edge_list("0 0\n5000000 1\n", "e.txt"),
                    Contains("e.txt:2: the index in this edge implies n = 5000001"));
  // Entry counts are checked against the bytes that follow the size line.
  CHECK_THROWS_WITH(graph::parse_matrix_market(head + "3 3 3\n1 1\n2 2\n", "f.mtx"),
                    Contains("declares 3 entries but only 8 bytes follow it"));
  CHECK_NOTHROW(graph::parse_matrix_market(head + "3 3 3\n1 1\n2 2\n3 3", "g.mtx"));
}

TEST_CASE("patterns too large for int32 or memory are refused before any allocation",
          "[reliability]") {
  graph::PatternSpec full;
  full.full = true;
  CHECK_THROWS_WITH(graph::build_pattern(2000000000, full),
                    Contains("has at least 4000000000000000000 edges, more than the int32 limit"));
  full.causal = true;
  CHECK_THROWS_WITH(graph::build_pattern(70000, full), Contains("has at least 2450035000 edges"));
  graph::PatternSpec window;
  window.window = 1100;  // every row holds at least 1101 keys: 2.2e9 edges
  CHECK_THROWS_WITH(graph::build_pattern(2000000, window),
                    Contains("has at least 2202000000 edges, more than the int32 limit"));
  graph::PatternSpec global;
  global.global = 3000;
  CHECK_THROWS_WITH(graph::build_pattern(1000000, global), Contains("more than the int32 limit"));
  // The bound is a lower bound: patterns just inside it still build.
  full.causal = false;
  CHECK(graph::build_pattern(300, full).nnz() == 90000);
}
