// Why: byte-level language modelling (e.g. on Debian's dict-gcide dictionary text) needs a
// long byte stream cut into contiguous train/val/test parts and fixed-length windows of
// (input, next-byte target) pairs; the metric is bits per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace diffuser::experiments {

/// A contiguous range of a shared byte stream; tokens are the bytes (vocab 256, no padding).
/// Copies and slices share the underlying bytes.
class ByteLmDataset {
 public:
  static constexpr std::int32_t kVocabSize = 256;

  /// Takes the bytes of a whole stream.
  explicit ByteLmDataset(std::string bytes, std::string name = "bytes");

  /// Reads a whole file, gzip/dictzip-compressed or plain (e.g.
  /// /usr/share/dictd/gcide.dict.dz). Throws diffuser::Error naming the path if it cannot be
  /// read or has fewer than 2 bytes.
  static ByteLmDataset from_file(const std::string& path);

  std::size_t size() const { return end_ - begin_; }
  const std::string& name() const { return name_; }

  /// The bytes of this range.
  std::span<const std::uint8_t> bytes() const {
    return {reinterpret_cast<const std::uint8_t*>(data_->data()) + begin_, size()};
  }

  /// The sub-range [begin, end) of this range (0 <= begin <= end <= size()).
  ByteLmDataset slice(std::size_t begin, std::size_t end) const;

  /// Number of non-overlapping windows of `context` inputs: floor((size() - 1) / context)
  /// (each window needs one more byte for its last target). 0 if size() < 2.
  std::size_t num_windows(std::size_t context) const;

  /// Window w of the non-overlapping tiling: inputs[t] = byte[w * context + t],
  /// targets[t] = byte[w * context + t + 1], t < context. Spans must hold `context` elements.
  void window(std::size_t w, std::size_t context, std::span<std::int32_t> inputs,
              std::span<std::int32_t> targets) const;

  /// The window starting at byte `offset` (offset + context + 1 <= size()).
  void window_at(std::size_t offset, std::size_t context, std::span<std::int32_t> inputs,
                 std::span<std::int32_t> targets) const;

  /// `count` window start offsets drawn uniformly from [0, size() - context - 1] with `seed`
  /// (for training on random windows). Requires size() >= context + 1.
  std::vector<std::size_t> random_offsets(std::size_t count, std::size_t context,
                                          std::uint64_t seed) const;

  /// Bits per byte of a mean cross-entropy given in nats per byte: nats / ln 2.
  static double bits_per_byte(double mean_nats_per_byte);

 private:
  ByteLmDataset(std::shared_ptr<const std::string> data, std::size_t begin, std::size_t end,
                std::string name);

  std::shared_ptr<const std::string> data_;
  std::size_t begin_ = 0, end_ = 0;
  std::string name_;
};

/// Contiguous train / validation / test parts of one stream.
struct ByteLmSplits {
  ByteLmDataset train, val, test;
};

/// Cuts a stream into train (first), val, test (last): val and test get
/// floor(size * fraction) bytes each (as enwik8's customary 90/5/5 split). Fractions in [0, 1),
/// sum < 1; every part must keep at least 2 bytes.
ByteLmSplits split_byte_stream(const ByteLmDataset& data, double val_fraction,
                               double test_fraction);

}  // namespace diffuser::experiments
