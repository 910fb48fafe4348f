// Why: ListOps labels must be right and the files must be LRA's format, or every ListOps
// result is meaningless. Labels are checked against an independent recursive evaluator written
// here over the LRA spelling (not the library's token ids or stack machine).
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/ListOps.hpp"
#include "experiments/data/ListOpsGenerator.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using Catch::Matchers::Contains;

namespace {

// Independent reference: parse the parenthesised LRA Source as words, ignore parentheses,
// evaluate recursively with the LRA definitions (MED = floor of the median, SM = sum mod 10).
struct Reference {
  std::vector<std::string> words;
  std::size_t pos = 0;
  int depth_seen = 0;

  explicit Reference(const std::string& source) {
    std::istringstream in(source);
    std::string w;
    while (in >> w) {
      if (w != "(" && w != ")") words.push_back(w);
    }
  }

  int eval(int depth = 1) {
    depth_seen = std::max(depth_seen, depth);
    REQUIRE(pos < words.size());
    const std::string w = words[pos++];
    if (w.size() == 1 && w[0] >= '0' && w[0] <= '9') return w[0] - '0';
    REQUIRE(w[0] == '[');
    std::vector<int> args;
    while (words.at(pos) != "]") args.push_back(eval(depth + 1));
    ++pos;
    REQUIRE(!args.empty());
    std::sort(args.begin(), args.end());
    if (w == "[MIN") return args.front();
    if (w == "[MAX") return args.back();
    if (w == "[SM") {
      int s = 0;
      for (int a : args) s += a;
      return s % 10;
    }
    REQUIRE(w == "[MED");
    const std::size_t k = args.size();
    // numpy.median then int(): mean of the middle pair for even k, truncated.
    return k % 2 == 1 ? args[k / 2] : static_cast<int>((args[k / 2 - 1] + args[k / 2]) / 2.0);
  }
};

std::vector<std::int32_t> ids(std::initializer_list<const char*> words) {
  std::string s;
  for (const char* w : words) s += std::string(w) + " ";
  return tokenize_listops(s);
}

}  // namespace

TEST_CASE("the LRA example from TOOLCHAIN.md parses to label 9 and formats back",
          "[cpu][listops]") {
  const std::string source = "( ( ( ( ( [MAX 2 ) 9 ) ( ( ( [MIN 4 ) 7 ) ] ) ) 0 ) ] )";
  const auto tokens = tokenize_listops(source);
  const std::vector<std::int32_t> expected = {kListOpsMax,   kListOpsDigit0 + 2, kListOpsDigit0 + 9,
                                              kListOpsMin,   kListOpsDigit0 + 4, kListOpsDigit0 + 7,
                                              kListOpsClose, kListOpsDigit0 + 0, kListOpsClose};
  CHECK(tokens == expected);
  CHECK(evaluate_listops(tokens) == 9);
  CHECK(listops_source(tokens) == source);
  CHECK(tokenize_listops("[MAX 2 9 [MIN 4 7 ] 0 ]") == expected);  // parentheses optional
}

TEST_CASE("token ids are the documented ones", "[cpu][listops]") {
  const std::vector<std::string> names = {"<pad>", "[MIN", "[MAX", "[MED", "[SM", "]", "0", "1",
                                          "2",     "3",    "4",    "5",    "6",   "7", "8", "9"};
  REQUIRE(kListOpsVocabSize == 16);
  for (std::int32_t id = 0; id < kListOpsVocabSize; ++id)
    CHECK(listops_token_name(id) == names[id]);
  CHECK_THROWS_AS(listops_token_name(16), Error);
}

TEST_CASE("operators follow the LRA semantics on hand-computed cases", "[cpu][listops]") {
  CHECK(evaluate_listops(ids({"5"})) == 5);
  CHECK(evaluate_listops(ids({"[MIN", "3", "1", "4", "]"})) == 1);
  CHECK(evaluate_listops(ids({"[MAX", "3", "1", "4", "]"})) == 4);
  CHECK(evaluate_listops(ids({"[SM", "9", "9", "9", "]"})) == 7);               // 27 mod 10
  CHECK(evaluate_listops(ids({"[MED", "1", "2", "]"})) == 1);                   // 1.5 -> 1
  CHECK(evaluate_listops(ids({"[MED", "3", "1", "4", "1", "]"})) == 2);         // (1+3)/2
  CHECK(evaluate_listops(ids({"[MED", "9", "0", "5", "]"})) == 5);              // odd count
  CHECK(evaluate_listops(ids({"[MED", "8", "9", "]"})) == 8);                   // 8.5 -> 8
  CHECK(evaluate_listops(ids({"[SM", "[MAX", "1", "8", "]", "5", "]"})) == 3);  // 13 mod 10
}

TEST_CASE("malformed expressions are errors, not labels", "[cpu][listops]") {
  CHECK_THROWS_WITH(evaluate_listops(ids({"]"})), Contains("closes nothing"));
  CHECK_THROWS_WITH(evaluate_listops(ids({"[MAX", "1"})), Contains("not closed"));
  CHECK_THROWS_WITH(evaluate_listops(ids({"[MAX", "]"})), Contains("no arguments"));
  CHECK_THROWS_WITH(evaluate_listops(ids({"1", "2"})), Contains("followed by more"));
  CHECK_THROWS_WITH(evaluate_listops(ids({"[SM", "1", "]", "2"})), Contains("after the closing"));
  CHECK_THROWS_AS(evaluate_listops(std::vector<std::int32_t>{}), Error);
  CHECK_THROWS_AS(evaluate_listops(std::vector<std::int32_t>{kListOpsPad}), Error);
  CHECK_THROWS_WITH(tokenize_listops("( [MAX 1 ) [FOO ] )"), Contains("'[FOO' at column 12"));
  CHECK_THROWS_AS(listops_source(ids({"[MAX", "1"})), Error);
}

TEST_CASE("generated labels equal the independent evaluator; lengths are within bounds",
          "[cpu][listops]") {
  struct Bounds {
    std::int64_t min, max;
    std::int32_t depth;
    std::size_t count;
  };
  for (const Bounds b : {Bounds{10, 60, 10, 2000}, Bounds{50, 200, 10, 800},
                         Bounds{500, 2000, 10, 60}, Bounds{4, 30, 3, 500}}) {
    ListOpsOptions o;
    o.min_length = b.min;
    o.max_length = b.max;
    o.max_depth = b.depth;
    o.seed = 7;
    const SequenceDataset data = ListOpsGenerator(o).generate(b.count);
    REQUIRE(data.size() == b.count);
    CHECK(data.vocab_size() == 16);
    CHECK(data.num_classes() == 10);
    CHECK(data.pad_id() == 0);
    std::set<std::vector<std::int32_t>> distinct;
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto tokens = data.tokens(i);
      INFO("bounds (" << b.min << ", " << b.max << ") example " << i);
      CHECK(static_cast<std::int64_t>(tokens.size()) > b.min);
      CHECK(static_cast<std::int64_t>(tokens.size()) < b.max);
      const std::string source = listops_source(tokens);
      Reference r(source);
      CHECK(r.eval() == data.label(i));
      CHECK(r.pos == r.words.size());
      // Operators sit at depths < max_depth, so digits are at depth <= max_depth.
      CHECK(r.depth_seen <= b.depth);
      distinct.emplace(tokens.begin(), tokens.end());
    }
    CHECK(distinct.size() == data.size());
  }
}

TEST_CASE("operators, digits and argument counts follow the distribution", "[cpu][listops]") {
  // Conditioning on the length does not favour any operator or digit (the length depends only
  // on the shape), so their frequencies stay uniform: 1/4 and 1/10. Argument counts are in
  // [2, max_args]. Tolerances: ~200k operators / 700k digits, standard errors < 0.001; the
  // bands below are > 10 standard errors wide.
  ListOpsOptions o;
  o.min_length = 50;
  o.max_length = 400;
  o.max_args = 5;
  o.seed = 3;
  const SequenceDataset data = ListOpsGenerator(o).generate(5000);
  std::vector<double> count(kListOpsVocabSize, 0);
  for (const auto t : data.all_tokens()) count[static_cast<std::size_t>(t)] += 1;
  const double ops = count[1] + count[2] + count[3] + count[4];
  double digits = 0;
  for (int d = 0; d < 10; ++d) digits += count[static_cast<std::size_t>(kListOpsDigit0 + d)];
  CHECK(count[kListOpsClose] == ops);
  CHECK(count[kListOpsPad] == 0);
  for (int op = 1; op <= 4; ++op) CHECK(std::abs(count[op] / ops - 0.25) < 0.01);
  for (int d = 0; d < 10; ++d) {
    CHECK(std::abs(count[static_cast<std::size_t>(kListOpsDigit0 + d)] / digits - 0.1) < 0.005);
  }
  // Arguments per operator: every operator has between 2 and max_args children.
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::vector<int> args;
    for (const auto t : data.tokens(i)) {
      if (t == kListOpsClose) {
        CHECK(args.back() >= 2);
        CHECK(args.back() <= o.max_args);
        args.pop_back();
      } else {
        if (!args.empty()) ++args.back();
        if (t >= kListOpsMin && t <= kListOpsSum) args.push_back(0);
      }
    }
  }
}

TEST_CASE("the generator is deterministic and never repeats a tree", "[cpu][listops]") {
  ListOpsOptions o;
  o.min_length = 8;
  o.max_length = 40;
  o.seed = 11;
  ListOpsGenerator a(o), b(o);
  const auto da = a.generate(300);
  const auto db = b.generate(300);
  CHECK(std::vector<std::int32_t>(da.all_tokens().begin(), da.all_tokens().end()) ==
        std::vector<std::int32_t>(db.all_tokens().begin(), db.all_tokens().end()));
  o.seed = 12;
  const auto dc = ListOpsGenerator(o).generate(300);
  CHECK(std::vector<std::int32_t>(da.all_tokens().begin(), da.all_tokens().end()) !=
        std::vector<std::int32_t>(dc.all_tokens().begin(), dc.all_tokens().end()));
  // A second call continues the stream and excludes everything seen before.
  const auto more = a.generate(300);
  std::set<std::vector<std::int32_t>> seen;
  for (const auto* d : {&da, &more}) {
    for (std::size_t i = 0; i < d->size(); ++i) {
      seen.emplace(d->tokens(i).begin(), d->tokens(i).end());
    }
  }
  CHECK(seen.size() == 600);
}

TEST_CASE("impossible or exhausted bounds fail with a clear error instead of hanging",
          "[cpu][listops]") {
  ListOpsOptions o;
  o.min_length = 10;
  o.max_length = 11;  // nothing strictly between
  CHECK_THROWS_WITH(ListOpsGenerator(o), Contains("must exceed min_length + 1"));
  o.min_length = 1;
  o.max_length = 4;  // lengths 2 and 3 cannot occur: a leaf is 1, an operator node >= 4
  CHECK_THROWS_WITH(ListOpsGenerator(o), Contains("strictly between 1 and 4"));
  o.min_length = 3;
  o.max_length = 6;
  o.max_args = 2;  // with 2 arguments lengths are 1, 4, 7, ...: 4 is fine
  CHECK_NOTHROW(ListOpsGenerator(o));
  o.min_length = 4;
  o.max_length = 7;  // 5 and 6 unreachable with max_args 2
  CHECK_THROWS_WITH(ListOpsGenerator(o), Contains("strictly between 4 and 7"));
  o = ListOpsOptions{};
  o.max_depth = 2;
  o.max_args = 10;  // longest tree: 12 tokens
  CHECK_THROWS_WITH(ListOpsGenerator(o), Contains("longest tree has 12 tokens"));
  o = ListOpsOptions{};
  o.min_length = 3;
  o.max_length = 5;  // only [OP d d ]: 4 x 100 = 400 distinct trees exist
  o.max_stall_nodes = 2'000'000;
  ListOpsGenerator g(o);
  CHECK_THROWS_WITH(g.generate(401), Contains("without a new distinct tree"));
  o.leaf_probability = 1.5;
  CHECK_THROWS_AS(ListOpsGenerator(o), Error);
  o = ListOpsOptions{};
  o.max_args = 1;
  CHECK_THROWS_AS(ListOpsGenerator(o), Error);
}

TEST_CASE("exactly 400 distinct trees of length 4 exist and all are found", "[cpu][listops]") {
  ListOpsOptions o;
  o.min_length = 3;
  o.max_length = 5;
  const auto data = ListOpsGenerator(o).generate(400);
  std::set<std::vector<std::int32_t>> distinct;
  for (std::size_t i = 0; i < data.size(); ++i) {
    CHECK(data.length(i) == 4);
    distinct.emplace(data.tokens(i).begin(), data.tokens(i).end());
  }
  CHECK(distinct.size() == 400);
}

TEST_CASE("TSV round trip: write, read back, identical tokens and labels", "[cpu][listops][io]") {
  testing::TempDir dir;
  ListOpsOptions o;
  o.min_length = 20;
  o.max_length = 120;
  const auto data = ListOpsGenerator(o).generate(200);
  const auto path = dir.file("basic_test.tsv");
  write_listops_tsv(path, data);
  const std::string text = read_text_file(path);
  CHECK(text.rfind("Source\tTarget\n", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 201);
  const auto back = read_listops_tsv(path);
  REQUIRE(back.size() == data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    CHECK(std::vector<std::int32_t>(back.tokens(i).begin(), back.tokens(i).end()) ==
          std::vector<std::int32_t>(data.tokens(i).begin(), data.tokens(i).end()));
    CHECK(back.label(i) == data.label(i));
  }
}

TEST_CASE("the TSV reader accepts official-style files and names file and line on errors",
          "[cpu][listops][io]") {
  testing::TempDir dir;
  const std::string header = "Source\tTarget\r\n";
  const std::string good = "( ( ( ( ( [MAX 2 ) 9 ) ( ( ( [MIN 4 ) 7 ) ] ) ) 0 ) ] )\t9\r\n";
  const auto path = dir.file("basic_val.tsv");
  testing::write_file(path, header + good + "( ( ( [SM 4 ) 7 ) ] )\t1\r\n");
  const auto data = read_listops_tsv(path);
  REQUIRE(data.size() == 2);
  CHECK(data.label(0) == 9);
  CHECK(data.label(1) == 1);
  CHECK(data.length(0) == 9);

  auto expect_error = [&](const std::string& content, const std::string& message) {
    testing::write_file(path, content);
    CHECK_THROWS_WITH(read_listops_tsv(path), Contains(path) && Contains(message));
  };
  expect_error("", "empty file");
  expect_error("Src\tTgt\n" + good, ":1: expected the header");
  expect_error(header + good + "[MAX 1 2 ]\n", ":3: expected 2 tab-separated fields");
  expect_error(header + good + "[MAX 1 2 ]\t2\t0\n", ":3: expected 2 tab-separated fields");
  expect_error(header + "[MAX 1 2 ]\tx\n", ":2: Target 'x' is not a digit");
  expect_error(header + "[MAX 1 2 ]\t12\n", ":2: Target '12' is not a digit");
  expect_error(header + good + "[MAX 1 [FOO ] ]\t1\n", ":3: unknown ListOps token '[FOO'");
  expect_error(header + "[MAX 1 2\t2\n", ":2: ListOps expression");
  expect_error(header + good + "\n" + good, ":3: empty line");
  expect_error(header + "[MAX 1 2 ]\t1\n", ":2: Target is 1 but the Source evaluates to 2");
  // With label verification off a wrong Target is taken as given.
  testing::write_file(path, header + "[MAX 1 2 ]\t1\n");
  CHECK(read_listops_tsv(path, {.verify_labels = false}).label(0) == 1);
  CHECK_THROWS_WITH(read_listops_tsv(dir.file("missing.tsv")), Contains("missing.tsv"));
}

TEST_CASE("the writer refuses datasets that are not ListOps or have wrong labels",
          "[cpu][listops][io]") {
  testing::TempDir dir;
  SequenceDataset wrong("bad", kListOpsVocabSize, 10, 0);
  wrong.add(ids({"[MAX", "1", "2", "]"}), 1);
  CHECK_THROWS_WITH(write_listops_tsv(dir.file("x.tsv"), wrong),
                    Contains("has label 1 but evaluates to 2"));
  CHECK_FALSE(std::filesystem::exists(dir.file("x.tsv")));
  SequenceDataset other("bytes", 256, 10, 0);
  other.add(std::vector<std::int32_t>{7}, 1);
  CHECK_THROWS_WITH(write_listops_tsv(dir.file("y.tsv"), other), Contains("not a ListOps"));
}

TEST_CASE("write_listops_splits writes three LRA files with disjoint splits",
          "[cpu][listops][io]") {
  testing::TempDir dir;
  ListOpsOptions o;
  o.min_length = 10;
  o.max_length = 80;
  o.seed = 5;
  const auto out = (dir.path() / "listops").string();
  const auto splits = write_listops_splits(out, o, {.train = 300, .val = 40, .test = 50});
  REQUIRE(splits.size() == 3);
  const std::size_t sizes[3] = {300, 40, 50};
  const char* names[3] = {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"};
  std::set<std::vector<std::int32_t>> all;
  for (int s = 0; s < 3; ++s) {
    const auto back = read_listops_tsv((std::filesystem::path(out) / names[s]).string());
    REQUIRE(back.size() == sizes[s]);
    CHECK(splits[s].size() == sizes[s]);
    for (std::size_t i = 0; i < back.size(); ++i) {
      all.emplace(back.tokens(i).begin(), back.tokens(i).end());
      CHECK(back.label(i) == splits[s].label(i));
    }
  }
  CHECK(all.size() == 390);
}

TEST_CASE("gzip-compressed TSV files read like plain ones; a directory is an error",
          "[cpu][listops][io]") {
  testing::TempDir dir;
  ListOpsOptions o;
  o.min_length = 20;
  o.max_length = 100;
  const auto data = ListOpsGenerator(o).generate(50);
  write_listops_tsv(dir.file("a.tsv"), data);
  const std::string text = read_text_file(dir.file("a.tsv"));
  gzFile f = gzopen(dir.file("a.tsv.gz").c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) ==
          static_cast<int>(text.size()));
  REQUIRE(gzclose(f) == Z_OK);
  const auto back = read_listops_tsv(dir.file("a.tsv.gz"));
  CHECK(std::vector<std::int32_t>(back.all_tokens().begin(), back.all_tokens().end()) ==
        std::vector<std::int32_t>(data.all_tokens().begin(), data.all_tokens().end()));
  CHECK_THROWS_WITH(read_listops_tsv(dir.path().string()), Contains("is a directory"));
}
