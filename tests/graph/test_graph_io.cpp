// Why: graph files must round-trip exactly, and every malformed Matrix Market or edge-list file
// must fail with a diffuser::Error naming the file, the line and the problem (issue 2).
#include <fstream>
#include <sstream>

#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "graph/EdgeList.hpp"
#include "graph/GraphExport.hpp"
#include "graph/MatrixMarket.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::graph;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

CsrGraph weighted_sample() {
  // Values chosen to need full float precision in text (0.1f, 1/3, a tiny and a huge number).
  return CsrGraph(4, {0, 2, 3, 3, 6}, {0, 3, 1, 0, 2, 3},
                  {0.1f, -1.0f / 3.0f, 1e-30f, 3.4e38f, 7.0f, -0.0f});
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes `content` to a file and expects read_graph to fail with a message containing each of
/// `parts` (the file name is always required).
void expect_error(const TempDir& dir, const std::string& name, const std::string& content,
                  const std::vector<std::string>& parts) {
  const std::string path = dir.file(name);
  write_file(path, content);
  INFO("file content:\n" << content);
  try {
    read_graph(path);
    FAIL("no error for " << name);
  } catch (const Error& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(msg.find(path) != std::string::npos);
    for (const auto& p : parts) CHECK(msg.find(p) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

const char* kHeader = "%%MatrixMarket matrix coordinate pattern general\n";

}  // namespace

TEST_CASE("Matrix Market round trips", "[graph][io]") {
  TempDir dir;
  const CsrGraph p = build_pattern(50, parse_pattern_spec("window=2,global=3,random=4,seed=1"));
  write_matrix_market(dir.file("p.mtx"), p);
  CHECK(read_matrix_market(dir.file("p.mtx")) == p);
  CHECK(slurp(dir.file("p.mtx")).rfind("%%MatrixMarket matrix coordinate pattern general\n", 0) ==
        0);
  const CsrGraph w = weighted_sample();
  write_matrix_market(dir.file("w.mtx"), w);
  CHECK(read_matrix_market(dir.file("w.mtx")) == w);  // bit-exact values
  write_matrix_market(dir.file("e.mtx"), CsrGraph());
  CHECK(read_matrix_market(dir.file("e.mtx")) == CsrGraph());
}

TEST_CASE("Matrix Market reader: variants of valid input", "[graph][io]") {
  // Symmetric lower triangle expands; integer field; comments, blank lines, CRLF, case.
  const std::string text =
      "%%MatrixMarket MATRIX Coordinate integer SYMMETRIC\r\n"
      "% a comment\r\n"
      "\r\n"
      "3 3 3\r\n"
      "1 1 5\r\n"
      "3 1 -2\r\n"
      "\r\n"
      "3 2 4\r\n";
  const CsrGraph g = parse_matrix_market(text, "s.mtx");
  CHECK(g == CsrGraph(3, {0, 2, 3, 5}, {0, 2, 2, 0, 1}, {5, -2, 4, -2, 4}));
  // Duplicate entries merge, values add.
  const CsrGraph d = parse_matrix_market(
      "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 2 1.5\n1 2 2\n2 1 1e1\n", "d.mtx");
  CHECK(d == CsrGraph(2, {0, 1, 2}, {1, 0}, {3.5f, 10.0f}));
}

TEST_CASE("Matrix Market reader: every malformed case names file and line", "[graph][io]") {
  TempDir dir;
  expect_error(dir, "empty.mtx", "", {"empty file"});
  expect_error(dir, "blank.mtx", "\n  \n", {"empty file"});
  expect_error(dir, "nohead.mtx", "3 3 1\n1 1\n", {":1:", "bad header", "not a Matrix Market"});
  expect_error(dir, "short.mtx", "%%MatrixMarket matrix coordinate\n1 1 0\n",
               {":1:", "bad header"});
  expect_error(dir, "array.mtx", "%%MatrixMarket matrix array real general\n1 1\n1\n",
               {":1:", "format 'array'"});
  expect_error(dir, "complex.mtx", "%%MatrixMarket matrix coordinate complex general\n",
               {":1:", "field 'complex'"});
  expect_error(dir, "herm.mtx", "%%MatrixMarket matrix coordinate real hermitian\n",
               {":1:", "symmetry 'hermitian'"});
  expect_error(dir, "vector.mtx", "%%MatrixMarket vector coordinate real general\n",
               {":1:", "object 'vector'"});
  expect_error(dir, "nosize.mtx", std::string(kHeader) + "% only comments\n",
               {":2:", "missing size line"});
  expect_error(dir, "size2.mtx", std::string(kHeader) + "3 3\n", {":2:", "bad size line"});
  expect_error(dir, "sizex.mtx", std::string(kHeader) + "3 x 1\n", {":2:", "bad size line"});
  expect_error(dir, "sizeneg.mtx", std::string(kHeader) + "3 3 -1\n", {":2:", "negative"});
  expect_error(dir, "rect.mtx", std::string(kHeader) + "3 4 1\n1 1\n", {":2:", "not square"});
  expect_error(dir, "huge.mtx", std::string(kHeader) + "3000000000 3000000000 1\n",
               {":2:", "int32 limit"});
  expect_error(dir, "row0.mtx", std::string(kHeader) + "3 3 1\n0 1\n",
               {":3:", "row index 0 out of range [1, 3]"});
  expect_error(dir, "col4.mtx", std::string(kHeader) + "3 3 2\n1 1\n2 4\n",
               {":4:", "column index 4 out of range [1, 3]"});
  expect_error(
      dir, "fewer.mtx", std::string(kHeader) + "3 3 3\n1 1\n2 2\n",
      {":2:", "declares 3 entries but only 8 bytes follow", "truncated file or wrong count"});
  expect_error(dir, "fewer_long.mtx", std::string(kHeader) + "3 3 3\n1    1\n2    2\n",
               {":4:", "file ends after 2 of the 3 entries declared on line 2"});
  expect_error(dir, "more.mtx", std::string(kHeader) + "3 3 1\n1 1\n2 2\n",
               {":4:", "more entries than the 1 declared on line 2"});
  expect_error(dir, "nonnum.mtx", std::string(kHeader) + "3 3 1\n1 b\n",
               {":3:", "non-numeric column index 'b'"});
  expect_error(dir, "nonnumrow.mtx", std::string(kHeader) + "3 3 1\n1.5 1\n",
               {":3:", "non-numeric row index '1.5'"});
  expect_error(dir, "fields.mtx", std::string(kHeader) + "3 3 1\n1 1 1\n",
               {":3:", "expected 2 fields"});
  expect_error(dir, "realfields.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1\n",
               {":3:", "expected 3 fields"});
  expect_error(dir, "realx.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 x\n",
               {":3:", "non-numeric value 'x'"});
  expect_error(dir, "realnan.mtx",
               "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 nan\n",
               {":3:", "not finite"});
  expect_error(dir, "realbig.mtx",
               "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1e300\n",
               {":3:", "overflows float32"});
  expect_error(dir, "intx.mtx",
               "%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 2.5\n",
               {":3:", "non-integer value '2.5'"});
  expect_error(dir, "upper.mtx", "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 1\n1 2\n",
               {":3:", "above the diagonal"});
}

TEST_CASE("edge list round trips and reads plain lists", "[graph][io]") {
  TempDir dir;
  const CsrGraph p = build_pattern(40, parse_pattern_spec("window=1,expander=2,seed=4"));
  write_edge_list(dir.file("p.txt"), p);
  CHECK(read_edge_list(dir.file("p.txt")) == p);
  const CsrGraph w = weighted_sample();
  write_edge_list(dir.file("w.edges"), w);
  CHECK(read_edge_list(dir.file("w.edges")) == w);
  // Isolated trailing nodes survive thanks to '# nodes:'.
  const CsrGraph iso(5, {0, 1, 1, 1, 1, 1}, {1});
  write_edge_list(dir.file("iso.txt"), iso);
  CHECK(read_edge_list(dir.file("iso.txt")) == iso);
  // Without directives n = largest index + 1; comments and blank lines skipped; duplicates merge.
  CHECK(parse_edge_list("# plain\n0 2\n\n2 1\r\n0 2\n", "x.txt") ==
        CsrGraph(3, {0, 1, 1, 2}, {2, 1}));
}

TEST_CASE("edge list reader: every malformed case names file and line", "[graph][io]") {
  TempDir dir;
  expect_error(dir, "empty.txt", "", {"empty file"});
  expect_error(dir, "comments.txt", "# nothing\n", {"empty file", "no edges"});
  expect_error(dir, "one.txt", "0 1\n7\n", {":2:", "found 1 fields but line 1 has 2"});
  expect_error(dir, "mixed.txt", "0 1\n1 2 0.5\n", {":2:", "found 3 fields but line 1 has 2"});
  expect_error(dir, "four.txt", "0 1 2 3\n", {":1:", "expected 2 fields (i j) or 3"});
  expect_error(dir, "nonnum.txt", "0 1\nx 2\n", {":2:", "non-numeric query index 'x'"});
  expect_error(dir, "nonnumw.txt", "0 1 0.5\n1 2 abc\n", {":2:", "non-numeric weight 'abc'"});
  expect_error(dir, "nanw.txt", "0 1 inf\n", {":1:", "not a finite float32"});
  expect_error(dir, "neg.txt", "0 1\n-1 2\n", {":2:", "negative index"});
  expect_error(dir, "range.txt", "# nodes: 3\n0 1\n1 3\n",
               {":3:", "edge (1, 3) out of range [0, 3)", "line 1"});
  expect_error(dir, "baddir.txt", "# nodes: many\n0 1\n", {":1:", "bad directive"});
  expect_error(dir, "fewer.txt", "# edges: 3\n0 1\n1 2\n",
               {":3:", "file ends after 2 of the 3 edges declared on line 1"});
  expect_error(dir, "more.txt", "# edges: 1\n0 1\n1 2\n",
               {":3:", "more edges than the 1 declared on line 1"});
  expect_error(dir, "twice.txt", "# nodes: 3\n# nodes: 4\n", {":2:", "second '# nodes:'"});
}

TEST_CASE("JSON, dense .npy, DOT and GraphML export", "[graph][io]") {
  TempDir dir;
  const CsrGraph p = build_pattern(12, parse_pattern_spec("window=1,global=1"));
  const CsrGraph w = weighted_sample();
  for (const auto& g : {p, w}) {
    write_graph(dir.file("g.json"), g);
    CHECK(read_graph(dir.file("g.json")) == g);
  }
  // Dense .npy: the pattern round-trips; so does a weighted graph without zero values.
  write_graph(dir.file("p.npy"), p);
  CHECK(read_graph(dir.file("p.npy")) == p);
  const NpyArray a = read_npy(dir.file("p.npy"));
  CHECK(a.shape == std::vector<std::int64_t>{12, 12});
  const CsrGraph w2(3, {0, 2, 2, 3}, {0, 2, 1}, {0.5f, -2.0f, 1e-3f});
  write_graph(dir.file("w.npy"), w2);
  CHECK(read_graph(dir.file("w.npy")) == w2);
  CHECK_THROWS_WITH(write_graph(dir.file("z.npy"), w), Catch::Contains("has value 0"));
  write_npy(dir.file("r.npy"), NpyArray::from<float>(std::vector<float>(6, 1.0f), {2, 3}));
  CHECK_THROWS_WITH(read_graph(dir.file("r.npy")), Catch::Contains("square 2-D array"));
  write_npy(dir.file("nan.npy"),
            NpyArray::from<float>(std::vector<float>{1.0f, NAN, 0.0f, 1.0f}, {2, 2}));
  CHECK_THROWS_WITH(read_graph(dir.file("nan.npy")), Catch::Contains("entry (0, 1) is nan"));
  // DOT: content, and refusal above the limit unless forced.
  write_graph(dir.file("g.dot"), w);
  const std::string dot = slurp(dir.file("g.dot"));
  CHECK(dot.find("digraph diffuser {") != std::string::npos);
  CHECK(dot.find("  0 -> 3 [label=\"") != std::string::npos);
  CHECK(dot.find("  2;") != std::string::npos);  // isolated node listed
  const CsrGraph big = build_pattern(2000, parse_pattern_spec("window=10"));
  CHECK_THROWS_WITH(write_graph(dir.file("big.dot"), big),
                    Catch::Contains("refusing to write DOT") && Catch::Contains("41890 edges") &&
                        Catch::Contains("--force"));
  CHECK_FALSE(std::filesystem::exists(dir.file("big.dot")));
  write_graph(dir.file("big.dot"), big, true);
  CHECK(std::filesystem::exists(dir.file("big.dot")));
  // GraphML.
  write_graph(dir.file("g.graphml"), w);
  const std::string gml = slurp(dir.file("g.graphml"));
  CHECK(gml.find("edgedefault=\"directed\"") != std::string::npos);
  CHECK(gml.find("<edge source=\"n3\" target=\"n2\"><data key=\"weight\">7</data></edge>") !=
        std::string::npos);
  CHECK(gml.find("<node id=\"n3\"/>") != std::string::npos);
  // Formats by extension.
  CHECK(format_from_path("a/b.MTX") == GraphFormat::kMatrixMarket);
  CHECK(format_from_path("x.gv") == GraphFormat::kDot);
  CHECK_THROWS_WITH(format_from_path("a.b/graph"), Catch::Contains("unknown graph file extension"));
  CHECK_THROWS_WITH(read_graph(dir.file("g.dot")), Catch::Contains("export-only"));
  CHECK_THROWS_WITH(read_graph(dir.file("missing.mtx")), Catch::Contains("missing.mtx"));
}

TEST_CASE("JSON reader errors name the file", "[graph][io]") {
  TempDir dir;
  expect_error(dir, "e.json", "", {"empty file"});
  expect_error(dir, "bad.json", "{\"n\": 3,", {"invalid JSON"});
  expect_error(dir, "fmt.json", "{\"n\": 1, \"offsets\": [0, 0], \"columns\": []}",
               {"\"format\" must be \"diffuser-csr\""});
  expect_error(dir, "miss.json", "{\"format\": \"diffuser-csr\", \"n\": 1, \"offsets\": [0, 0]}",
               {"missing field \"columns\""});
  expect_error(
      dir, "type.json",
      "{\"format\": \"diffuser-csr\", \"n\": 1, \"offsets\": [0, 1], \"columns\": [\"a\"]}",
      {"columns[0] = \"a\" is not an integer"});
  expect_error(dir, "wrap.json",
               "{\"format\": \"diffuser-csr\", \"n\": 2, \"offsets\": [0, 1, 1], \"columns\": "
               "[4294967297]}",
               {"columns[0] = 4294967297 is not an integer in [0, 2147483647]"});
  expect_error(dir, "neg.json",
               "{\"format\": \"diffuser-csr\", \"n\": 2, \"offsets\": [0, -1, 0], \"columns\": "
               "[]}",
               {"offsets[1] = -1"});
  expect_error(dir, "val.json",
               "{\"format\": \"diffuser-csr\", \"n\": 1, \"offsets\": [0, 1], \"columns\": [0], "
               "\"values\": [1e300]}",
               {"values[0] = 1e+300 is not a finite float32"});
  expect_error(dir, "inv.json",
               "{\"format\": \"diffuser-csr\", \"n\": 2, \"offsets\": [0, 1, 2], \"columns\": "
               "[1, 2]}",
               {"(I4)"});
}
