// Why: windows over a shared byte stream, with every range checked (no silent reads past the
// end of a split).
#include "experiments/data/ByteLmDataset.hpp"

#include <cmath>
#include <numbers>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "experiments/data/CompressedFile.hpp"

namespace diffuser::experiments {

ByteLmDataset::ByteLmDataset(std::string bytes, std::string name)
    : data_(std::make_shared<const std::string>(std::move(bytes))),
      begin_(0),
      end_(data_->size()),
      name_(std::move(name)) {}

ByteLmDataset::ByteLmDataset(std::shared_ptr<const std::string> data, std::size_t begin,
                             std::size_t end, std::string name)
    : data_(std::move(data)), begin_(begin), end_(end), name_(std::move(name)) {}

ByteLmDataset ByteLmDataset::from_file(const std::string& path) {
  std::string bytes = read_compressed_file(path);
  DIFFUSER_CHECK(bytes.size() >= 2, "{}: {} bytes; a language-model stream needs at least 2", path,
                 bytes.size());
  return ByteLmDataset(std::move(bytes), path);
}

ByteLmDataset ByteLmDataset::slice(std::size_t begin, std::size_t end) const {
  DIFFUSER_CHECK(begin <= end && end <= size(), "'{}': slice [{}, {}) outside [0, {})", name_,
                 begin, end, size());
  return ByteLmDataset(data_, begin_ + begin, begin_ + end, name_);
}

std::size_t ByteLmDataset::num_windows(std::size_t context) const {
  DIFFUSER_CHECK(context >= 1, "'{}': window length must be >= 1", name_);
  return size() < 2 ? 0 : (size() - 1) / context;
}

void ByteLmDataset::window_at(std::size_t offset, std::size_t context,
                              std::span<std::int32_t> inputs,
                              std::span<std::int32_t> targets) const {
  DIFFUSER_CHECK(context >= 1 && offset + context + 1 <= size(),
                 "'{}': window at byte {} of length {} needs {} bytes; the stream has {}", name_,
                 offset, context, offset + context + 1, size());
  DIFFUSER_CHECK(inputs.size() == context && targets.size() == context,
                 "'{}': window buffers hold {} and {} tokens, expected {}", name_, inputs.size(),
                 targets.size(), context);
  const auto b = bytes().subspan(offset, context + 1);
  for (std::size_t t = 0; t < context; ++t) {
    inputs[t] = b[t];
    targets[t] = b[t + 1];
  }
}

void ByteLmDataset::window(std::size_t w, std::size_t context, std::span<std::int32_t> inputs,
                           std::span<std::int32_t> targets) const {
  DIFFUSER_CHECK(w < num_windows(context), "'{}': window {} outside [0, {}) for length {}", name_,
                 w, num_windows(context), context);
  window_at(w * context, context, inputs, targets);
}

std::vector<std::size_t> ByteLmDataset::random_offsets(std::size_t count, std::size_t context,
                                                       std::uint64_t seed) const {
  DIFFUSER_CHECK(context >= 1 && size() >= context + 1,
                 "'{}': {} bytes cannot hold a window of length {}", name_, size(), context);
  Rng rng(seed);
  std::vector<std::size_t> offsets(count);
  const std::uint64_t choices = size() - context;  // offsets 0 .. size - context - 1
  for (auto& o : offsets) o = static_cast<std::size_t>(rng.uniform_below(choices));
  return offsets;
}

double ByteLmDataset::bits_per_byte(double mean_nats_per_byte) {
  return mean_nats_per_byte / std::numbers::ln2;
}

ByteLmSplits split_byte_stream(const ByteLmDataset& data, double val_fraction,
                               double test_fraction) {
  DIFFUSER_CHECK(std::isfinite(val_fraction) && val_fraction >= 0 && val_fraction < 1 &&
                     std::isfinite(test_fraction) && test_fraction >= 0 && test_fraction < 1 &&
                     val_fraction + test_fraction < 1,
                 "'{}': split fractions val {} and test {} must be in [0, 1) with sum < 1",
                 data.name(), val_fraction, test_fraction);
  const std::size_t n = data.size();
  const auto n_val = static_cast<std::size_t>(std::floor(static_cast<double>(n) * val_fraction));
  const auto n_test = static_cast<std::size_t>(std::floor(static_cast<double>(n) * test_fraction));
  const std::size_t n_train = n - n_val - n_test;
  DIFFUSER_CHECK(
      n_train >= 2 && (val_fraction == 0 || n_val >= 2) && (test_fraction == 0 || n_test >= 2),
      "'{}': {} bytes are too few for a {} / {} / {} split", data.name(), n,
      1 - val_fraction - test_fraction, val_fraction, test_fraction);
  return {data.slice(0, n_train), data.slice(n_train, n_train + n_val),
          data.slice(n_train + n_val, n)};
}

}  // namespace diffuser::experiments
