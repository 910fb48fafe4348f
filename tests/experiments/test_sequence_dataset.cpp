// Why: every task goes through SequenceDataset; its checks, statistics and transforms must be
// exact, since the trainer and the results table (majority-class rate) rely on them.
#include <vector>

#include "core/Error.hpp"
#include "experiments/data/SequenceDataset.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using Catch::Matchers::Contains;

namespace {

SequenceDataset lengths_1_to_5() {
  SequenceDataset d("toy", 10, 3, 0);
  // Lengths 3, 1, 5, 2, 4; labels 2, 0, 2, 1, 2.
  d.add(std::vector<std::int32_t>{1, 2, 3}, 2);
  d.add(std::vector<std::int32_t>{9}, 0);
  d.add(std::vector<std::int32_t>{4, 4, 4, 4, 4}, 2);
  d.add(std::vector<std::int32_t>{5, 6}, 1);
  d.add(std::vector<std::int32_t>{7, 8, 9, 0}, 2);
  return d;
}

}  // namespace

TEST_CASE("adding examples checks ids, labels and emptiness", "[cpu][dataset]") {
  SequenceDataset d("toy", 10, 3, 0);
  CHECK_THROWS_WITH(d.add(std::vector<std::int32_t>{}, 0), Contains("'toy': example 0 is empty"));
  CHECK_THROWS_WITH(d.add(std::vector<std::int32_t>{1, 10}, 0),
                    Contains("example 0 token 1 has id 10 outside the vocabulary [0, 10)"));
  CHECK_THROWS_WITH(d.add(std::vector<std::int32_t>{-1}, 0), Contains("id -1"));
  CHECK_THROWS_WITH(d.add(std::vector<std::int32_t>{1}, 3), Contains("label 3 outside [0, 3)"));
  CHECK(d.empty());
  CHECK_THROWS_AS(SequenceDataset("x", 0, 1, 0), Error);
  CHECK_THROWS_AS(SequenceDataset("x", 4, 0, 0), Error);
  CHECK_THROWS_AS(SequenceDataset("x", 4, 2, 4), Error);
  CHECK_THROWS_AS(d.set_class_names({"a"}), Error);
}

TEST_CASE("length statistics, class counts and the majority rate", "[cpu][dataset]") {
  const auto d = lengths_1_to_5();
  REQUIRE(d.size() == 5);
  const auto s = d.length_stats();
  CHECK(s.count == 5);
  CHECK(s.min == 1);
  CHECK(s.max == 5);
  CHECK(s.median == 3);
  CHECK(s.p95 == 4);  // element floor(0.95 * 4) = 3 of 1,2,3,4,5
  CHECK(s.mean == Approx(3.0));
  CHECK(d.class_counts() == std::vector<std::int64_t>{1, 1, 3});
  CHECK(d.majority_rate() == Approx(0.6));
  CHECK(d.offsets().back() == 15);
  CHECK(SequenceDataset("e", 2, 2, 0).length_stats().count == 0);
  CHECK(SequenceDataset("e", 2, 2, 0).majority_rate() == 0.0);
}

TEST_CASE("with_cls, truncated and subset keep metadata and tokens", "[cpu][dataset]") {
  auto d = lengths_1_to_5();
  d.set_class_names({"a", "b", "c"});
  const auto c = d.with_cls();
  CHECK(c.vocab_size() == 11);
  CHECK(c.cls_id() == 10);
  CHECK(c.class_names() == d.class_names());
  REQUIRE(c.length(0) == 4);
  CHECK(std::vector<std::int32_t>(c.tokens(0).begin(), c.tokens(0).end()) ==
        std::vector<std::int32_t>{10, 1, 2, 3});
  CHECK(c.label(2) == 2);
  CHECK_THROWS_WITH(c.with_cls(), Contains("already has a CLS token"));

  const auto t = d.truncated(2);
  CHECK(t.length(0) == 2);
  CHECK(t.length(1) == 1);
  CHECK(t.tokens(2)[1] == 4);
  CHECK(t.label(4) == 2);
  CHECK_THROWS_AS(d.truncated(0), Error);

  const std::vector<std::size_t> pick = {3, 3, 0};
  const auto s = d.subset(pick);
  REQUIRE(s.size() == 3);
  CHECK(s.label(0) == 1);
  CHECK(s.tokens(1)[1] == 6);
  CHECK(s.tokens(2)[2] == 3);
  CHECK(s.class_names() == d.class_names());
  const std::vector<std::size_t> bad = {5};
  CHECK_THROWS_AS(d.subset(bad), Error);
}
