// Why: the ListOps tree sampler, written iteratively (no recursion, no allocation per node) so
// LRA-sized sets take seconds; trees that grow past max_length are abandoned as soon as they
// must end up too long, which does not change the distribution of the accepted trees.
#include "experiments/data/ListOpsGenerator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>

#include "core/Error.hpp"
#include "core/MemoryBudget.hpp"
#include "experiments/data/ListOps.hpp"

namespace diffuser::experiments {

namespace {

// Bit set over lengths [0, size).
using Bits = std::vector<std::uint64_t>;

bool test_bit(const Bits& b, std::int64_t i) { return (b[i >> 6] >> (i & 63)) & 1; }
void set_bit(Bits& b, std::int64_t i) { b[i >> 6] |= std::uint64_t{1} << (i & 63); }

// out |= a shifted up by `shift` positions, truncated to the set's size.
void or_shifted(Bits& out, const Bits& a, std::int64_t shift) {
  const std::int64_t words = static_cast<std::int64_t>(a.size());
  const std::int64_t ws = shift >> 6;
  const int bs = static_cast<int>(shift & 63);
  for (std::int64_t w = words - 1; w >= ws; --w) {
    std::uint64_t v = a[w - ws] << bs;
    if (bs != 0 && w - ws - 1 >= 0) v |= a[w - ws - 1] >> (64 - bs);
    out[w] |= v;
  }
}

// Sumset {x + y : x in a, y in b}, truncated to lengths < limit.
Bits sumset(const Bits& a, const Bits& b, std::int64_t limit) {
  Bits out(a.size(), 0);
  for (std::int64_t y = 0; y < limit; ++y) {
    if (test_bit(b, y)) or_shifted(out, a, y);
  }
  // Clear bits at or above `limit` in the last word.
  if (limit % 64 != 0) out.back() &= (std::uint64_t{1} << (limit % 64)) - 1;
  return out;
}

// Is some tree length L with min < L < max reachable? Exact dynamic programme over the set of
// reachable lengths per depth (lengths >= max are irrelevant and dropped).
bool some_length_in_bounds(const ListOpsOptions& o) {
  const std::int64_t limit = o.max_length;
  const std::size_t words = static_cast<std::size_t>((limit + 63) / 64);
  Bits level(words, 0);  // reachable lengths of a node at depth d (starting at max_depth)
  if (1 < limit) set_bit(level, 1);
  for (std::int32_t d = o.max_depth - 1; d >= 1; --d) {
    Bits next(words, 0);
    if (o.leaf_probability > 0 && 1 < limit) set_bit(next, 1);
    if (o.leaf_probability < 1) {
      Bits sums = level;  // sums of m child lengths, m = 1
      for (std::int32_t m = 2; m <= o.max_args; ++m) {
        sums = sumset(sums, level, limit);
        or_shifted(next, sums, 2);  // operator token + closing bracket
      }
      if (limit % 64 != 0) next.back() &= (std::uint64_t{1} << (limit % 64)) - 1;
    }
    level = std::move(next);
  }
  for (std::int64_t len = o.min_length + 1; len < o.max_length; ++len) {
    if (test_bit(level, len)) return true;
  }
  return false;
}

// Longest possible tree (all operators with max_args arguments), saturating at 2^62.
std::int64_t longest_tree(const ListOpsOptions& o) {
  std::int64_t len = 1;
  if (o.leaf_probability >= 1) return 1;
  for (std::int32_t d = o.max_depth - 1; d >= 1; --d) {
    if (len > (std::int64_t{1} << 62) / o.max_args) return std::int64_t{1} << 62;
    len = len * o.max_args + 2;
  }
  return len;
}

}  // namespace

ListOpsGenerator::ListOpsGenerator(const ListOpsOptions& options)
    : options_(options), rng_(options.seed) {
  const auto& o = options_;
  DIFFUSER_CHECK(o.min_length >= 0, "ListOps: min_length must be >= 0 (got {})", o.min_length);
  DIFFUSER_CHECK(o.max_length > o.min_length + 1,
                 "ListOps: lengths are kept when min_length < length < max_length, so max_length "
                 "must exceed min_length + 1 (got min {} max {})",
                 o.min_length, o.max_length);
  DIFFUSER_CHECK(o.max_depth >= 1, "ListOps: max_depth must be >= 1 (got {})", o.max_depth);
  DIFFUSER_CHECK(o.max_args >= 2, "ListOps: max_args must be >= 2 (got {})", o.max_args);
  DIFFUSER_CHECK(
      std::isfinite(o.leaf_probability) && o.leaf_probability >= 0 && o.leaf_probability <= 1,
      "ListOps: leaf_probability must be in [0, 1] (got {})", o.leaf_probability);
  DIFFUSER_CHECK(o.max_stall_nodes >= 1, "ListOps: max_stall_nodes must be >= 1 (got {})",
                 o.max_stall_nodes);
  const std::int64_t longest = longest_tree(o);
  DIFFUSER_CHECK(longest > o.min_length,
                 "ListOps: no tree can be longer than min_length {}: with max_depth {}, max_args "
                 "{} and leaf_probability {} the longest tree has {} tokens",
                 o.min_length, o.max_depth, o.max_args, o.leaf_probability, longest);
  // The exact check costs O(max_length^2 / 64 * max_args * max_depth) word operations.
  if (o.max_length <= 8192) {
    DIFFUSER_CHECK(some_length_in_bounds(o),
                   "ListOps: no tree with max_depth {}, max_args {} has a length strictly "
                   "between {} and {}",
                   o.max_depth, o.max_args, o.min_length, o.max_length);
  }
}

bool ListOpsGenerator::draw(std::vector<std::int32_t>& tokens) {
  const auto& o = options_;
  const auto max_length = static_cast<std::size_t>(o.max_length);
  const auto arg_choices = static_cast<std::uint64_t>(o.max_args - 1);
  tokens.clear();
  // remaining[k]: arguments still to draw for the open operator at depth k + 1.
  std::int32_t remaining[64];
  std::vector<std::int32_t> deep;  // only used when max_depth > 64
  std::int32_t* stack = remaining;
  if (o.max_depth > 64) {
    deep.resize(static_cast<std::size_t>(o.max_depth));
    stack = deep.data();
  }
  std::size_t open = 0;
  ++trees_drawn_;
  for (;;) {
    ++nodes_drawn_;
    const auto depth = static_cast<std::int32_t>(open) + 1;
    if (depth < o.max_depth && rng_.uniform() >= o.leaf_probability) {
      tokens.push_back(kListOpsMin + static_cast<std::int32_t>(rng_.uniform_below(4)));
      stack[open++] = 2 + static_cast<std::int32_t>(rng_.uniform_below(arg_choices));
    } else {
      tokens.push_back(kListOpsDigit0 + static_cast<std::int32_t>(rng_.uniform_below(10)));
      while (open > 0 && --stack[open - 1] == 0) {
        tokens.push_back(kListOpsClose);
        --open;
      }
      if (open == 0) return tokens.size() < max_length;
    }
    // Each open operator still needs its closing bracket: the tree ends up at least this long.
    if (tokens.size() + open >= max_length) return false;
  }
}

SequenceDataset ListOpsGenerator::generate(std::size_t count) {
  DIFFUSER_CHECK(count <= kMaxListOpsExamples, "ListOps: {} examples requested; at most {}", count,
                 kMaxListOpsExamples);
  // Every kept tree has more than min_length tokens (int32), plus an offset, a label and a
  // 16-byte distinctness key: refuse a request that cannot fit before drawing for hours.
  check_memory_budget(
      static_cast<std::uint64_t>(count) *
          (4 * static_cast<std::uint64_t>(std::max<std::int64_t>(options_.min_length + 1, 1)) + 8 +
           4 + 16),
      fmt::format("ListOps: {} examples of more than {} tokens", count, options_.min_length));
  SequenceDataset data("listops", kListOpsVocabSize, kListOpsNumClasses, kListOpsPad);
  const std::size_t reserved = std::min<std::size_t>(count, 1 << 20);
  data.reserve(reserved, reserved * static_cast<std::size_t>(
                                        std::min<std::int64_t>(options_.min_length + 1, 1 << 12)));
  std::vector<std::int32_t> tokens;
  tokens.reserve(static_cast<std::size_t>(std::min<std::int64_t>(options_.max_length, 1 << 20)));
  std::int64_t stall_start = nodes_drawn_;
  while (data.size() < count) {
    const bool short_enough = draw(tokens);
    if (short_enough && static_cast<std::int64_t>(tokens.size()) > options_.min_length) {
      // Two 64-bit hashes of the sequence (FNV-1a and a multiply-rotate hash), finalised
      // with the length: together a 128-bit key.
      std::uint64_t a = 0xCBF29CE484222325ULL, b = 0x243F6A8885A308D3ULL;
      for (const std::int32_t t : tokens) {
        a = (a ^ static_cast<std::uint64_t>(t)) * 0x100000001B3ULL;
        b = (b + static_cast<std::uint64_t>(t) * 0x9E3779B97F4A7C15ULL);
        b = ((b << 31) | (b >> 33)) * 0xBF58476D1CE4E5B9ULL;
      }
      std::uint64_t mix = tokens.size();
      const Key key{a ^ splitmix64(mix), b ^ splitmix64(mix)};
      if (seen_.insert(key).second) {
        data.add(tokens, evaluate_listops(tokens));
        stall_start = nodes_drawn_;
        continue;
      }
    }
    DIFFUSER_CHECK(nodes_drawn_ - stall_start < options_.max_stall_nodes,
                   "ListOps: drew {} nodes without a new distinct tree of length in ({}, {}) "
                   "after {} examples; the bounds are too narrow or fewer distinct trees exist "
                   "than requested ({})",
                   nodes_drawn_ - stall_start, options_.min_length, options_.max_length,
                   seen_.size(), count);
  }
  return data;
}

std::vector<SequenceDataset> write_listops_splits(const std::string& out_dir,
                                                  const ListOpsOptions& options,
                                                  const ListOpsSplitSizes& sizes) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  DIFFUSER_CHECK(!ec && std::filesystem::is_directory(out_dir),
                 "cannot create output directory '{}': {}", out_dir, ec.message());
  // One generator for all three: its calls continue one stream and exclude every tree seen
  // before, so this equals generating train + val + test trees at once and cutting the list.
  ListOpsGenerator generator(options);
  std::vector<SequenceDataset> splits;
  const std::size_t counts[3] = {sizes.train, sizes.val, sizes.test};
  const char* names[3] = {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"};
  for (int s = 0; s < 3; ++s) splits.push_back(generator.generate(counts[s]));
  // Written only once all three exist, so a failed generation leaves no partial set behind.
  for (int s = 0; s < 3; ++s) {
    write_listops_tsv((std::filesystem::path(out_dir) / names[s]).string(), splits[s]);
  }
  return splits;
}

}  // namespace diffuser::experiments
