// Why: the trainer's batches decide which patterns are built and what a resumed run sees. These
// tests check the documented plan against brute force: every example exactly once per epoch,
// each batch inside one bucket of the documented length, padding and labels in place, the same
// plan for the same (seed, epoch), and a seek() that continues exactly where next() stood.
#include <algorithm>
#include <map>
#include <set>

#include "core/Error.hpp"
#include "experiments/data/Batcher.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;

namespace {

/// 103 examples, example i has length 1 + (i * 37) % 100 (1..100) with tokens 1 + (i + t) % 9
/// and label i % 5; pad id 0 never occurs in the data, so padding is recognisable.
SequenceDataset make_data() {
  SequenceDataset d("synthetic", 10, 5, 0);
  for (int i = 0; i < 103; ++i) {
    const int len = 1 + (i * 37) % 100;
    std::vector<std::int32_t> tokens(static_cast<std::size_t>(len));
    for (int t = 0; t < len; ++t) tokens[static_cast<std::size_t>(t)] = 1 + (i + t) % 9;
    d.add(tokens, i % 5);
  }
  return d;
}

std::int64_t expected_bucket(std::size_t len, std::int64_t g, std::int64_t max_len) {
  const std::int64_t l = std::min<std::int64_t>(static_cast<std::int64_t>(len), max_len);
  std::int64_t b = ((l + g - 1) / g) * g;
  return std::min(b, max_len);
}

}  // namespace

TEST_CASE("batcher: every example once per epoch, one bucket per batch, padded as documented",
          "[batcher]") {
  const auto data = make_data();
  BatcherOptions o;
  o.batch_size = 8;
  o.granularity = 16;
  o.max_len = 90;  // not a multiple of 16: the top bucket is 90 and lengths 91..100 are cropped
  o.seed = 42;
  const Batcher batcher(data, o);

  // Expected number of batches: per bucket ceil(count / 8).
  std::map<std::int64_t, std::size_t> counts;
  for (std::size_t i = 0; i < data.size(); ++i) ++counts[expected_bucket(data.length(i), 16, 90)];
  std::size_t expected_batches = 0;
  for (const auto& [len, n] : counts) expected_batches += (n + 7) / 8;
  CHECK(batcher.batches_per_epoch() == expected_batches);
  CHECK(counts.rbegin()->first == 90);

  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    const auto plan = batcher.epoch_plan(epoch);
    REQUIRE(plan.size() == expected_batches);
    std::vector<int> seen(data.size(), 0);
    for (const auto& p : plan) {
      REQUIRE(!p.indices.empty());
      CHECK(p.indices.size() <= 8);
      const auto batch = batcher.make_batch(p);
      REQUIRE(batch.batch == static_cast<std::int64_t>(p.indices.size()));
      REQUIRE(batch.len == p.len);
      REQUIRE(batch.tokens.size() == p.indices.size() * static_cast<std::size_t>(p.len));
      for (std::size_t b = 0; b < p.indices.size(); ++b) {
        const std::size_t i = p.indices[b];
        ++seen[i];
        CHECK(expected_bucket(data.length(i), 16, 90) == p.len);
        const auto valid = std::min<std::size_t>(data.length(i), 90);
        CHECK(batch.lengths[b] == static_cast<std::int32_t>(valid));
        CHECK(batch.labels[b] == data.label(i));
        const auto tokens = data.tokens(i);
        for (std::int64_t t = 0; t < p.len; ++t) {
          const auto got =
              batch.tokens[b * static_cast<std::size_t>(p.len) + static_cast<std::size_t>(t)];
          const auto want =
              static_cast<std::size_t>(t) < valid ? tokens[static_cast<std::size_t>(t)] : 0;
          if (got != want) FAIL("token mismatch at example " << i << " position " << t);
        }
      }
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  }
}

TEST_CASE("batcher: plans depend only on (seed, epoch); evaluation order is fixed", "[batcher]") {
  const auto data = make_data();
  BatcherOptions o;
  o.batch_size = 4;
  o.granularity = 32;
  o.max_len = 128;
  o.seed = 7;
  const Batcher a(data, o), b(data, o);
  auto flat = [](const std::vector<BatchPlan>& plan) {
    std::vector<std::size_t> out;
    for (const auto& p : plan) out.insert(out.end(), p.indices.begin(), p.indices.end());
    return out;
  };
  CHECK(flat(a.epoch_plan(0)) == flat(b.epoch_plan(0)));
  CHECK(flat(a.epoch_plan(5)) == flat(b.epoch_plan(5)));
  CHECK(flat(a.epoch_plan(0)) != flat(a.epoch_plan(1)));
  o.seed = 8;
  const Batcher c(data, o);
  CHECK(flat(a.epoch_plan(0)) != flat(c.epoch_plan(0)));

  // Shuffle off: buckets by increasing length, dataset order inside each.
  o.shuffle = false;
  const Batcher eval(data, o);
  const auto plan = eval.epoch_plan(0);
  CHECK(flat(plan) == flat(eval.epoch_plan(3)));
  for (std::size_t k = 1; k < plan.size(); ++k) {
    CHECK(plan[k - 1].len <= plan[k].len);
    if (plan[k - 1].len == plan[k].len) CHECK(plan[k - 1].indices.back() < plan[k].indices.front());
  }
}

TEST_CASE("batcher: seek continues exactly where next() stood, across epochs", "[batcher]") {
  const auto data = make_data();
  BatcherOptions o;
  o.batch_size = 16;
  o.granularity = 8;
  o.max_len = 64;
  o.seed = 3;
  Batcher straight(data, o);
  const std::size_t per_epoch = straight.batches_per_epoch();
  const std::size_t stop = per_epoch + 3;  // inside the second epoch
  for (std::size_t k = 0; k < stop; ++k) straight.next();
  const BatcherPosition pos = straight.position();
  CHECK(pos.epoch == 1);
  CHECK(pos.index == 3);
  Batcher resumed(data, o);
  resumed.seek(pos);
  for (std::size_t k = 0; k < 2 * per_epoch; ++k) {
    const auto x = straight.next();
    const auto y = resumed.next();
    REQUIRE(x.tokens == y.tokens);
    REQUIRE(x.lengths == y.lengths);
    REQUIRE(x.labels == y.labels);
  }
  CHECK_THROWS_AS(resumed.seek(BatcherPosition{0, per_epoch}), Error);
}

TEST_CASE("batcher: bad options and empty data are errors naming the option", "[batcher]") {
  const auto data = make_data();
  BatcherOptions o;
  o.batch_size = 0;
  CHECK_THROWS_WITH(Batcher(data, o), Catch::Contains("batch_size"));
  o.batch_size = 4;
  o.granularity = 0;
  CHECK_THROWS_WITH(Batcher(data, o), Catch::Contains("granularity"));
  o.granularity = 4;
  o.max_len = 0;
  CHECK_THROWS_WITH(Batcher(data, o), Catch::Contains("max_len"));
  o.max_len = 8;
  const SequenceDataset empty("nothing", 4, 2, 0);
  CHECK_THROWS_WITH(Batcher(empty, o), Catch::Contains("empty"));
}
