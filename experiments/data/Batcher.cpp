// Why: length-bucketed, seeded batching (see Batcher.hpp for the exact plan).
#include "experiments/data/Batcher.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "core/Error.hpp"
#include "core/Rng.hpp"

namespace diffuser::experiments {

namespace {

// Seed of epoch `epoch`'s generator: two SplitMix64 steps over (seed, epoch), so neighbouring
// seeds and epochs give unrelated streams.
std::uint64_t epoch_seed(std::uint64_t seed, std::uint64_t epoch) {
  std::uint64_t state = seed;
  std::uint64_t a = splitmix64(state);
  a ^= epoch * 0xD1B54A32D192ED03ULL;
  return splitmix64(a);
}

template <typename V>
void fisher_yates(std::vector<V>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.uniform_below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

Batcher::Batcher(const SequenceDataset& data, const BatcherOptions& options)
    : data_(&data), options_(options) {
  DIFFUSER_CHECK(options.batch_size >= 1, "batcher: batch_size = {} (must be >= 1)",
                 options.batch_size);
  DIFFUSER_CHECK(options.granularity >= 1, "batcher: granularity = {} (must be >= 1)",
                 options.granularity);
  DIFFUSER_CHECK(options.max_len >= 1, "batcher: max_len = {} (must be >= 1)", options.max_len);
  DIFFUSER_CHECK(!data.empty(), "batcher: dataset '{}' is empty", data.name());
  std::map<std::int64_t, std::size_t> counts;
  for (std::size_t i = 0; i < data.size(); ++i) ++counts[bucket_length(data.length(i))];
  const auto b = static_cast<std::size_t>(options.batch_size);
  for (const auto& [len, count] : counts) batches_per_epoch_ += (count + b - 1) / b;
}

std::int64_t Batcher::bucket_length(std::size_t length) const {
  const std::int64_t g = options_.granularity;
  const std::int64_t l =
      std::min<std::int64_t>(static_cast<std::int64_t>(length), options_.max_len);
  return std::min((l + g - 1) / g * g, options_.max_len);
}

std::vector<BatchPlan> Batcher::epoch_plan(std::uint64_t epoch) const {
  std::vector<std::size_t> order(data_->size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(epoch_seed(options_.seed, epoch));
  if (options_.shuffle) fisher_yates(order, rng);
  // Stable bucketing: std::map keeps buckets by increasing length, each in `order`'s order.
  std::map<std::int64_t, std::vector<std::size_t>> buckets;
  for (const std::size_t i : order) buckets[bucket_length(data_->length(i))].push_back(i);
  std::vector<BatchPlan> plan;
  plan.reserve(batches_per_epoch_);
  const auto b = static_cast<std::size_t>(options_.batch_size);
  for (auto& [len, members] : buckets) {
    for (std::size_t start = 0; start < members.size(); start += b) {
      const std::size_t end = std::min(members.size(), start + b);
      plan.push_back(
          BatchPlan{len, std::vector<std::size_t>(members.begin() + start, members.begin() + end)});
    }
  }
  if (options_.shuffle) fisher_yates(plan, rng);
  return plan;
}

nn::Batch Batcher::make_batch(const BatchPlan& plan) const {
  DIFFUSER_CHECK(!plan.indices.empty() && plan.len >= 1, "batcher: empty batch plan");
  nn::Batch batch;
  batch.batch = static_cast<std::int64_t>(plan.indices.size());
  batch.len = plan.len;
  batch.tokens.assign(static_cast<std::size_t>(batch.batch * batch.len), data_->pad_id());
  batch.lengths.resize(plan.indices.size());
  batch.labels.resize(plan.indices.size());
  for (std::size_t b = 0; b < plan.indices.size(); ++b) {
    const std::size_t i = plan.indices[b];
    DIFFUSER_CHECK(i < data_->size(), "batcher: index {} outside dataset '{}' of {} examples", i,
                   data_->name(), data_->size());
    const auto tokens = data_->tokens(i);
    const std::size_t valid =
        std::min<std::size_t>(tokens.size(), static_cast<std::size_t>(plan.len));
    std::copy_n(
        tokens.begin(), valid,
        batch.tokens.begin() + static_cast<std::ptrdiff_t>(b * static_cast<std::size_t>(plan.len)));
    batch.lengths[b] = static_cast<std::int32_t>(valid);
    batch.labels[b] = data_->label(i);
  }
  return batch;
}

nn::Batch Batcher::next() {
  if (!current_valid_) {
    current_ = epoch_plan(position_.epoch);
    current_valid_ = true;
  }
  nn::Batch batch = make_batch(current_[position_.index]);
  if (++position_.index == current_.size()) {
    position_.index = 0;
    ++position_.epoch;
    current_valid_ = false;
  }
  return batch;
}

void Batcher::seek(const BatcherPosition& position) {
  DIFFUSER_CHECK(position.index < batches_per_epoch_,
                 "batcher: position {} of epoch {} is past the {} batches of an epoch",
                 position.index, position.epoch, batches_per_epoch_);
  if (position.epoch != position_.epoch) current_valid_ = false;
  position_ = position;
}

}  // namespace diffuser::experiments
