// Why: every classification task (ListOps, pixel images, byte-level text) reduces to the same
// thing: variable-length int32 token sequences, each with one integer label. One flat,
// CSR-like container serves them all, so the trainer can bucket by length and batch without
// knowing which task made the data, and large sets (LRA-sized ListOps, 60k images) cost one
// allocation instead of one per example.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace diffuser::experiments {

/// Summary of sequence lengths (in tokens) over a dataset. All zero for an empty dataset.
struct LengthStats {
  std::size_t count = 0;   ///< number of sequences
  std::size_t min = 0;     ///< shortest sequence
  std::size_t max = 0;     ///< longest sequence
  std::size_t median = 0;  ///< lower median (element floor((count-1)/2) of the sorted lengths)
  std::size_t p95 = 0;     ///< element floor(0.95 (count-1)) of the sorted lengths
  double mean = 0.0;       ///< arithmetic mean
};

/// A classification dataset: examples i = 0..size()-1, each a token sequence
/// tokens(i) in [0, vocab_size())^length(i), length >= 1, with a label in [0, num_classes()).
///
/// Storage is flat: all tokens concatenated in one int32 array, offsets[i]..offsets[i+1]
/// delimiting example i (size()+1 offsets, int64), one label per example.
///
/// Padding convention: pad_id() is the id a batcher writes into padded positions. Models mask
/// padding by each sequence's valid length, never by comparing ids, so pad_id may coincide
/// with a real token (pixel and byte datasets use 0, which is also black / NUL).
/// cls_id() is the id of a classification token prepended to every sequence, or -1 if none.
class SequenceDataset {
 public:
  SequenceDataset() = default;

  /// An empty dataset. Requires vocab_size >= 1, num_classes >= 1, pad_id in [0, vocab_size).
  SequenceDataset(std::string name, std::int32_t vocab_size, std::int32_t num_classes,
                  std::int32_t pad_id);

  /// Appends one example. Throws diffuser::Error (naming the dataset and the example index)
  /// if tokens is empty, a token is outside [0, vocab_size) or label outside [0, num_classes).
  void add(std::span<const std::int32_t> tokens, std::int32_t label);

  /// Reserves room for `examples` more examples holding `tokens` more tokens in total.
  void reserve(std::size_t examples, std::size_t tokens);

  std::size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }

  /// Tokens of example i, length(i) of them. Accessors take i < size() (not checked: hot path).
  std::span<const std::int32_t> tokens(std::size_t i) const {
    return std::span<const std::int32_t>(tokens_).subspan(static_cast<std::size_t>(offsets_[i]),
                                                          static_cast<std::size_t>(length(i)));
  }
  std::size_t length(std::size_t i) const {
    return static_cast<std::size_t>(offsets_[i + 1] - offsets_[i]);
  }
  std::int32_t label(std::size_t i) const { return labels_[i]; }

  /// The flat arrays: all tokens, size()+1 offsets into them, size() labels.
  std::span<const std::int32_t> all_tokens() const { return tokens_; }
  std::span<const std::int64_t> offsets() const { return offsets_; }
  std::span<const std::int32_t> labels() const { return labels_; }

  const std::string& name() const { return name_; }
  std::int32_t vocab_size() const { return vocab_size_; }
  std::int32_t num_classes() const { return num_classes_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t cls_id() const { return cls_id_; }

  /// Human-readable class names: empty, or exactly num_classes() entries (name of label c).
  const std::vector<std::string>& class_names() const { return class_names_; }
  /// Sets the class names; names.size() must equal num_classes() (or be 0 to clear).
  void set_class_names(std::vector<std::string> names);

  /// Length statistics over all examples.
  LengthStats length_stats() const;

  /// Number of examples of each class, num_classes() entries.
  std::vector<std::int64_t> class_counts() const;

  /// Fraction of examples in the most frequent class: the accuracy of always predicting it
  /// (the "majority-class rate" baseline). 0 for an empty dataset.
  double majority_rate() const;

  /// A copy with a classification token prepended to every sequence: the new token gets id
  /// vocab_size() and the vocabulary grows by one. Throws if the dataset already has one.
  SequenceDataset with_cls() const;

  /// A copy in which every sequence longer than max_length keeps only its first max_length
  /// tokens (max_length >= 1). Used for byte-level text (LRA truncates documents).
  SequenceDataset truncated(std::size_t max_length) const;

  /// The examples at `indices` (in that order; indices may repeat), same metadata.
  SequenceDataset subset(std::span<const std::size_t> indices) const;

 private:
  SequenceDataset empty_like() const;

  std::string name_;
  std::int32_t vocab_size_ = 1;
  std::int32_t num_classes_ = 1;
  std::int32_t pad_id_ = 0;
  std::int32_t cls_id_ = -1;
  std::vector<std::string> class_names_;
  std::vector<std::int32_t> tokens_;
  std::vector<std::int64_t> offsets_{0};
  std::vector<std::int32_t> labels_;
};

}  // namespace diffuser::experiments
