// Why: byte-level text tasks must keep every byte of a document (newlines, tabs, non-ASCII)
// and map label names to the same ids in every split; the fortunes builder must be
// deterministic, stratified and leak-free. Checked on files written here, and on Debian's
// fortunes when installed.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/ByteLmDataset.hpp"
#include "experiments/data/FortunesBuilder.hpp"
#include "experiments/data/TextDataset.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("escaping round-trips every byte and leaves no tab or newline", "[cpu][text]") {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (const std::string& s : {all, std::string("a\\nb"), std::string("\\"), std::string("x\\")}) {
    const std::string e = escape_text_field(s);
    CHECK(e.find('\n') == std::string::npos);
    CHECK(e.find('\t') == std::string::npos);
    CHECK(e.find('\r') == std::string::npos);
    CHECK(unescape_text_field(e) == s);
  }
  CHECK(escape_text_field("a\tb\nc\\") == "a\\tb\\nc\\\\");
  // Hand-made files: an unknown escape or a trailing backslash stays literal.
  CHECK(unescape_text_field("\\o/ 100\\") == "\\o/ 100\\");
}

TEST_CASE("label<TAB>text files: classes, ids, errors by file and line", "[cpu][text][io]") {
  testing::TempDir dir;
  const auto path = dir.file("train.tsv");
  testing::write_file(path, "pos\tgreat film\\n10/10\r\nneg\tawful\n\nneg\t\xC3\xA9t\xC3\xA9\tx\n");
  const auto data = read_text_tsv(path);
  CHECK(data.class_names == std::vector<std::string>{"neg", "pos"});
  REQUIRE(data.examples.size() == 3);
  CHECK(data.examples[0].label == 1);
  CHECK(data.examples[0].text == "great film\n10/10");
  CHECK(data.examples[2].text == "\xC3\xA9t\xC3\xA9\tx");  // text keeps a raw tab after the first
  const auto fixed = read_text_tsv(path, {"pos", "neg", "other"});
  CHECK(fixed.examples[0].label == 0);
  CHECK(fixed.examples[1].label == 1);
  CHECK_THROWS_WITH(read_text_tsv(path, {"pos"}), Contains(path + ":2: label 'neg'"));

  auto expect = [&](const std::string& content, const std::string& message) {
    testing::write_file(path, content);
    CHECK_THROWS_WITH(read_text_tsv(path), Contains(path) && Contains(message));
  };
  expect("a\tb\nno tab here\n", ":2: expected 'label<TAB>text'");
  expect("a\tb\n\tb\n", ":2: empty label");
  expect("a\tb\nc\t\n", ":2: empty text");
  expect("\n\n", "no documents");
}

TEST_CASE("text sets round-trip through files; bytes become tokens", "[cpu][text][io]") {
  testing::TempDir dir;
  TextDataset data;
  data.class_names = {"x", "y"};
  data.examples = {{1, "line one\nline\ttwo \\ end"}, {0, "\xFF\x01 bytes"}, {1, "z"}};
  write_text_tsv(dir.file("d.tsv"), data);
  write_class_names(dir.file("classes.txt"), data.class_names);
  const auto names = read_class_names(dir.file("classes.txt"));
  const auto back = read_text_tsv(dir.file("d.tsv"), names);
  REQUIRE(back.examples.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back.examples[i].label == data.examples[i].label);
    CHECK(back.examples[i].text == data.examples[i].text);
  }
  const auto seq = to_byte_sequences(back, "t");
  CHECK(seq.vocab_size() == 256);
  CHECK(seq.num_classes() == 2);
  CHECK(seq.class_names() == names);
  REQUIRE(seq.length(1) == 8);
  CHECK(seq.tokens(1)[0] == 255);
  CHECK(seq.tokens(1)[1] == 1);
  CHECK(seq.tokens(1)[2] == ' ');
  const auto cut = load_text_classification(dir.file("d.tsv"), names, 4);
  CHECK(cut.length(0) == 4);
  CHECK(cut.length(2) == 1);

  testing::write_file(dir.file("dup.txt"), "a\nb\na\n");
  CHECK_THROWS_WITH(read_class_names(dir.file("dup.txt")), Contains(":3: duplicate class name"));
  CHECK_THROWS_AS(write_class_names(dir.file("c.txt"), {"a\tb"}), Error);
  data.examples.push_back({2, "bad label"});
  CHECK_THROWS_WITH(write_text_tsv(dir.file("e.tsv"), data), Contains("label 2 outside"));
  CHECK_FALSE(fs::exists(dir.file("e.tsv")));
}

TEST_CASE("fortune files split on % lines; empty entries are skipped", "[cpu][text][io]") {
  testing::TempDir dir;
  testing::write_file(dir.file("f"), "first\n  indented\n%\r\n\n%\nsecond\r\n%\n%\nthird");
  const auto entries = read_fortune_file(dir.file("f"));
  CHECK(entries == std::vector<std::string>{"first\n  indented", "second", "third"});
}

namespace {

// A fake fortunes tree: root files alpha (30 entries), beta.fortunes (20), gamma (3);
// index files and .u8 links that must be ignored; language directories `de` (12 entries) and
// `it` (4, linked from the top level as `italia`), and an `off` directory that language mode
// skips.
void make_fortunes(const fs::path& root) {
  fs::create_directories(root / "de");
  fs::create_directories(root / "off");
  auto file = [](const fs::path& p, const std::string& prefix, int n, const std::string& extra) {
    std::string s;
    for (int i = 0; i < n; ++i) s += prefix + " number " + std::to_string(i) + "\n\tmore\n%\n";
    testing::write_file(p.string(), s + extra);
  };
  file(root / "alpha", "alpha", 30, "alpha number 3\n\tmore\n%\nshared text\n%\n");
  file(root / "beta.fortunes", "beta", 20, "shared text\n");
  file(root / "gamma", "gamma", 3, "");
  testing::write_file((root / "alpha.dat").string(), "binary index");
  testing::write_file((root / "beta.fortunes.dat").string(), "binary index");
  testing::write_file((root / ".hidden").string(), "x\n%\ny\n");
  fs::create_symlink("alpha", root / "alpha.u8");
  file(root / "de" / "sprueche", "Spruch", 12, "");
  // Like fortunes-it: the file lives in it/ and is linked from the top level.
  fs::create_directories(root / "it");
  file(root / "it" / "italia", "Detto", 4, "");
  fs::create_symlink("it/italia", root / "italia");
  file(root / "off" / "rot", "Bad", 15, "");
}

std::multiset<std::string> texts(const TextDataset& d) {
  std::multiset<std::string> out;
  for (const auto& e : d.examples)
    out.insert(d.class_names[static_cast<std::size_t>(e.label)] + "|" + e.text);
  return out;
}

}  // namespace

TEST_CASE("fortunes by category: classes, dedup, stratified seeded split", "[cpu][text]") {
  testing::TempDir dir;
  make_fortunes(dir.path());
  FortunesOptions o;
  o.dir = dir.path().string();
  o.min_per_class = 5;  // gamma (3 entries) and italia (4) are dropped
  o.val_fraction = 0.1;
  o.test_fraction = 0.2;
  o.seed = 42;
  const auto splits = build_fortunes_dataset(o);
  CHECK(splits.train.class_names == std::vector<std::string>{"alpha", "beta"});
  CHECK(splits.val.class_names == splits.train.class_names);
  // alpha: 30 distinct (the repeated entry counts once, "shared text" is in two classes and
  // dropped); beta: 20. Per class: test round(0.2 n), val round(0.1 n), train the rest.
  std::map<std::int32_t, int> train, val, test;
  for (const auto& e : splits.train.examples) ++train[e.label];
  for (const auto& e : splits.val.examples) ++val[e.label];
  for (const auto& e : splits.test.examples) ++test[e.label];
  CHECK(train[0] == 21);
  CHECK(val[0] == 3);
  CHECK(test[0] == 6);
  CHECK(train[1] == 14);
  CHECK(val[1] == 2);
  CHECK(test[1] == 4);
  std::set<std::string> all;
  for (const auto* part : {&splits.train, &splits.val, &splits.test}) {
    for (const auto& e : part->examples) {
      CHECK(e.text != "shared text");
      CHECK(e.text.find("\n\tmore") != std::string::npos);
      all.insert(e.text);
    }
  }
  CHECK(all.size() == 50);  // no entry in two splits

  const auto again = build_fortunes_dataset(o);
  CHECK(texts(again.train) == texts(splits.train));
  CHECK(again.test.examples.front().text == splits.test.examples.front().text);
  o.seed = 43;
  const auto other = build_fortunes_dataset(o);
  CHECK(texts(other.test) != texts(splits.test));
  CHECK(texts(other.train).size() == texts(splits.train).size());
}

TEST_CASE("fortunes by language, class filters and option errors", "[cpu][text]") {
  testing::TempDir dir;
  make_fortunes(dir.path());
  FortunesOptions o;
  o.dir = dir.path().string();
  o.grouping = FortunesGrouping::kLanguage;
  o.min_per_class = 1;
  o.val_fraction = 0;
  o.test_fraction = 0.25;
  const auto lang = build_fortunes_dataset(o);
  CHECK(lang.train.class_names == std::vector<std::string>{"de", "en", "it"});  // "off" skipped
  // en = every root file together: alpha 30 + beta 20 + gamma 3 + "shared text" once
  // (both copies are in the same class now), not the italia link; de = 12; it = 4.
  CHECK(lang.train.examples.size() + lang.test.examples.size() == 54 + 12 + 4);
  std::map<std::int32_t, int> per_class;
  for (const auto* part : {&lang.train, &lang.test}) {
    for (const auto& e : part->examples) ++per_class[e.label];
  }
  CHECK(per_class[2] == 4);

  o.grouping = FortunesGrouping::kCategory;
  o.classes = {"gamma", "beta"};
  o.test_fraction = 0;
  o.val_fraction = 0;
  const auto two = build_fortunes_dataset(o);
  CHECK(two.train.class_names == std::vector<std::string>{"beta", "gamma"});
  CHECK(two.train.examples.size() == 21 + 3);  // "shared text" only in beta now: kept
  o.max_per_class = 2;
  CHECK(build_fortunes_dataset(o).train.examples.size() == 4);

  o.classes = {"delta"};
  CHECK_THROWS_WITH(
      build_fortunes_dataset(o),
      Contains("class 'delta' not found") && Contains("available: alpha, beta, gamma, italia"));
  o.classes = {"alpha"};
  CHECK_THROWS_WITH(build_fortunes_dataset(o), Contains("need 2 or more"));
  o.classes = {};
  o.val_fraction = 0.6;
  o.test_fraction = 0.4;
  CHECK_THROWS_WITH(build_fortunes_dataset(o), Contains("leave nothing to train on"));
  o.val_fraction = 0.1;
  o.test_fraction = 0.1;
  o.dir = dir.file("nowhere");
  CHECK_THROWS_WITH(build_fortunes_dataset(o), Contains("nowhere") && Contains("not a directory"));
}

TEST_CASE("fortunes splits written to a directory read back identically", "[cpu][text][io]") {
  testing::TempDir dir;
  make_fortunes(dir.path() / "src");
  FortunesOptions o;
  o.dir = (dir.path() / "src").string();
  const auto splits = build_fortunes_dataset(o);
  const auto out = (dir.path() / "out").string();
  write_text_splits(out, splits);
  const auto names = read_class_names(out + "/classes.txt");
  CHECK(names == splits.train.class_names);
  const auto train = read_text_tsv(out + "/train.tsv", names);
  CHECK(texts(train) == texts(splits.train));
  const auto test = load_text_classification(out + "/test.tsv", names);
  CHECK(test.size() == splits.test.examples.size());
}

TEST_CASE("Debian's fortunes build into a many-class text task", "[cpu][text]") {
  const std::string root = "/usr/share/games/fortunes";
  if (!fs::exists(root + "/computers")) {
    WARN("SKIPPED: the Debian package 'fortunes' is not installed");
    return;
  }
  FortunesOptions o;
  o.dir = root;
  o.max_bytes = 1000;
  o.min_per_class = 50;
  const auto splits = build_fortunes_dataset(o);
  const std::size_t classes = splits.train.class_names.size();
  const std::size_t total =
      splits.train.examples.size() + splits.val.examples.size() + splits.test.examples.size();
  INFO(classes << " classes, " << total << " entries");
  CHECK(classes >= 20);
  CHECK(total >= 5000);
  CHECK(std::find(splits.train.class_names.begin(), splits.train.class_names.end(), "computers") !=
        splits.train.class_names.end());
  for (const auto& e : splits.train.examples) CHECK(e.text.size() <= 1000);
}

TEST_CASE("byte LM windows: inputs and next-byte targets, splits, seeded offsets", "[cpu][lm]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i % 256);
  const ByteLmDataset data(text, "ramp");
  CHECK(data.size() == 1000);
  CHECK(data.num_windows(100) == 9);  // 999 targets available
  CHECK(data.num_windows(111) == 9);
  // Poisoned with -1 (never a byte) so an unwritten element fails.
  std::vector<std::int32_t> in(100, -1), out(100, -1);
  data.window(3, 100, in, out);
  for (int t = 0; t < 100; ++t) {
    CHECK(in[t] == (300 + t) % 256);
    CHECK(out[t] == (301 + t) % 256);
  }
  CHECK_THROWS_AS(data.window(9, 100, in, out), Error);
  data.window_at(899, 100, in, out);
  CHECK(out[99] == 999 % 256);
  CHECK_THROWS_WITH(data.window_at(900, 100, in, out), Contains("needs 1001 bytes"));
  std::vector<std::int32_t> small(10);
  CHECK_THROWS_AS(data.window_at(0, 100, small, out), Error);

  const auto offsets = data.random_offsets(500, 100, 9);
  CHECK(offsets == data.random_offsets(500, 100, 9));
  CHECK(offsets != data.random_offsets(500, 100, 10));
  CHECK(*std::max_element(offsets.begin(), offsets.end()) <= 899);
  CHECK(*std::max_element(offsets.begin(), offsets.end()) >= 850);  // 500 draws from 900 values

  const auto s = split_byte_stream(data, 0.05, 0.1);
  CHECK(s.train.size() == 850);
  CHECK(s.val.size() == 50);
  CHECK(s.test.size() == 100);
  CHECK(s.val.bytes()[0] == 850 % 256);
  CHECK(s.test.bytes()[99] == 999 % 256);
  CHECK(s.test.num_windows(99) == 1);
  CHECK_THROWS_AS(split_byte_stream(data, 0.5, 0.5), Error);
  CHECK_THROWS_AS(data.slice(10, 1001), Error);
  CHECK(ByteLmDataset::bits_per_byte(std::numbers::ln2) == Approx(1.0));
  CHECK(ByteLmDataset::bits_per_byte(std::log(256.0)) == Approx(8.0));
}

TEST_CASE("byte LM from a file; too-short files are errors", "[cpu][lm][io]") {
  testing::TempDir dir;
  testing::write_file(dir.file("t.txt"), "hello world");
  const auto data = ByteLmDataset::from_file(dir.file("t.txt"));
  CHECK(data.size() == 11);
  CHECK(data.bytes()[4] == 'o');
  testing::write_file(dir.file("one.txt"), "x");
  CHECK_THROWS_WITH(ByteLmDataset::from_file(dir.file("one.txt")), Contains("one.txt"));
}
