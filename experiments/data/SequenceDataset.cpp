// Why: the checks and summaries every loader relies on live once, next to the storage.
#include "experiments/data/SequenceDataset.hpp"

#include <algorithm>

#include "core/Error.hpp"

namespace diffuser::experiments {

SequenceDataset::SequenceDataset(std::string name, std::int32_t vocab_size,
                                 std::int32_t num_classes, std::int32_t pad_id)
    : name_(std::move(name)), vocab_size_(vocab_size), num_classes_(num_classes), pad_id_(pad_id) {
  DIFFUSER_CHECK(vocab_size >= 1, "dataset '{}': vocab_size must be >= 1 (got {})", name_,
                 vocab_size);
  DIFFUSER_CHECK(num_classes >= 1, "dataset '{}': num_classes must be >= 1 (got {})", name_,
                 num_classes);
  DIFFUSER_CHECK(pad_id >= 0 && pad_id < vocab_size,
                 "dataset '{}': pad_id {} outside the vocabulary [0, {})", name_, pad_id,
                 vocab_size);
}

void SequenceDataset::add(std::span<const std::int32_t> tokens, std::int32_t label) {
  const std::size_t index = size();
  DIFFUSER_CHECK(!tokens.empty(), "dataset '{}': example {} is empty", name_, index);
  DIFFUSER_CHECK(label >= 0 && label < num_classes_,
                 "dataset '{}': example {} has label {} outside [0, {})", name_, index, label,
                 num_classes_);
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    DIFFUSER_CHECK(tokens[t] >= 0 && tokens[t] < vocab_size_,
                   "dataset '{}': example {} token {} has id {} outside the vocabulary [0, {})",
                   name_, index, t, tokens[t], vocab_size_);
  }
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  offsets_.push_back(static_cast<std::int64_t>(tokens_.size()));
  labels_.push_back(label);
}

void SequenceDataset::reserve(std::size_t examples, std::size_t tokens) {
  tokens_.reserve(tokens_.size() + tokens);
  offsets_.reserve(offsets_.size() + examples);
  labels_.reserve(labels_.size() + examples);
}

void SequenceDataset::set_class_names(std::vector<std::string> names) {
  DIFFUSER_CHECK(names.empty() || names.size() == static_cast<std::size_t>(num_classes_),
                 "dataset '{}': {} class names given for {} classes", name_, names.size(),
                 num_classes_);
  class_names_ = std::move(names);
}

LengthStats SequenceDataset::length_stats() const {
  LengthStats stats;
  stats.count = size();
  if (stats.count == 0) return stats;
  std::vector<std::size_t> lengths(size());
  double total = 0;
  for (std::size_t i = 0; i < size(); ++i) {
    lengths[i] = length(i);
    total += static_cast<double>(lengths[i]);
  }
  std::sort(lengths.begin(), lengths.end());
  stats.min = lengths.front();
  stats.max = lengths.back();
  stats.median = lengths[(lengths.size() - 1) / 2];
  stats.p95 = lengths[static_cast<std::size_t>(0.95 * static_cast<double>(lengths.size() - 1))];
  stats.mean = total / static_cast<double>(lengths.size());
  return stats;
}

std::vector<std::int64_t> SequenceDataset::class_counts() const {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(num_classes_), 0);
  for (const std::int32_t label : labels_) ++counts[static_cast<std::size_t>(label)];
  return counts;
}

double SequenceDataset::majority_rate() const {
  if (empty()) return 0.0;
  const auto counts = class_counts();
  return static_cast<double>(*std::max_element(counts.begin(), counts.end())) /
         static_cast<double>(size());
}

SequenceDataset SequenceDataset::with_cls() const {
  DIFFUSER_CHECK(cls_id_ < 0, "dataset '{}' already has a CLS token (id {})", name_, cls_id_);
  SequenceDataset out(name_, vocab_size_ + 1, num_classes_, pad_id_);
  out.cls_id_ = vocab_size_;
  out.class_names_ = class_names_;
  out.tokens_.reserve(tokens_.size() + size());
  out.offsets_.reserve(offsets_.size());
  out.labels_ = labels_;
  for (std::size_t i = 0; i < size(); ++i) {
    out.tokens_.push_back(out.cls_id_);
    const auto seq = tokens(i);
    out.tokens_.insert(out.tokens_.end(), seq.begin(), seq.end());
    out.offsets_.push_back(static_cast<std::int64_t>(out.tokens_.size()));
  }
  return out;
}

SequenceDataset SequenceDataset::empty_like() const {
  SequenceDataset out(name_, vocab_size_, num_classes_, pad_id_);
  out.cls_id_ = cls_id_;
  out.class_names_ = class_names_;
  return out;
}

SequenceDataset SequenceDataset::truncated(std::size_t max_length) const {
  DIFFUSER_CHECK(max_length >= 1, "dataset '{}': truncation length must be >= 1", name_);
  SequenceDataset out = empty_like();
  out.labels_ = labels_;
  for (std::size_t i = 0; i < size(); ++i) {
    const auto seq = tokens(i).first(std::min(max_length, length(i)));
    out.tokens_.insert(out.tokens_.end(), seq.begin(), seq.end());
    out.offsets_.push_back(static_cast<std::int64_t>(out.tokens_.size()));
  }
  return out;
}

SequenceDataset SequenceDataset::subset(std::span<const std::size_t> indices) const {
  SequenceDataset out = empty_like();
  for (const std::size_t i : indices) {
    DIFFUSER_CHECK(i < size(), "dataset '{}': subset index {} out of range [0, {})", name_, i,
                   size());
    const auto seq = tokens(i);
    out.tokens_.insert(out.tokens_.end(), seq.begin(), seq.end());
    out.offsets_.push_back(static_cast<std::int64_t>(out.tokens_.size()));
    out.labels_.push_back(labels_[i]);
  }
  return out;
}

}  // namespace diffuser::experiments
