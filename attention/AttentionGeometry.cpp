// Why: shape resolution and input checks shared by every attention entry point.
#include "attention/AttentionGeometry.hpp"

#include <cmath>
#include <limits>

#include "core/Error.hpp"
#include "core/Threads.hpp"

namespace diffuser::attention {

AttentionGeometry resolve_geometry(graph::Index n, int heads, std::int64_t batch,
                                   std::size_t q_size, std::size_t k_size, std::size_t v_size,
                                   std::span<const graph::Index> lengths) {
  DIFFUSER_CHECK(n >= 1, "attention: the pattern has n = {} tokens (need >= 1)", n);
  DIFFUSER_CHECK(batch >= 1, "attention: batch = {} must be >= 1", batch);
  DIFFUSER_CHECK(heads >= 1, "attention: heads = {} must be >= 1", heads);
  DIFFUSER_CHECK(q_size > 0, "attention: q is empty (expected [batch, n, H*D])");
  const auto rows = static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(n);
  DIFFUSER_CHECK(q_size % rows == 0,
                 "attention: q has {} elements, not a multiple of batch * n = {} * {} (expected "
                 "[batch, n, H*D])",
                 q_size, batch, n);
  DIFFUSER_CHECK(k_size == q_size,
                 "attention: k has {} elements but q has {} (q, k, v must all be [batch, n, H*D])",
                 k_size, q_size);
  DIFFUSER_CHECK(v_size == q_size,
                 "attention: v has {} elements but q has {} (q, k, v must all be [batch, n, H*D])",
                 v_size, q_size);
  const auto width = static_cast<std::int64_t>(q_size / rows);
  DIFFUSER_CHECK(width % heads == 0,
                 "attention: width H*D = {} is not a multiple of heads = {} (q is [{}, {}, {}])",
                 width, heads, batch, n, width);
  DIFFUSER_CHECK(width / heads <= std::numeric_limits<int>::max(),
                 "attention: head dimension {} is too large", width / heads);
  AttentionGeometry g;
  g.batch = batch;
  g.n = n;
  g.heads = heads;
  g.head_dim = static_cast<int>(width / heads);
  g.width = width;
  if (lengths.empty()) {
    g.lengths.assign(static_cast<std::size_t>(batch), n);
  } else {
    DIFFUSER_CHECK(static_cast<std::int64_t>(lengths.size()) == batch,
                   "attention: {} sequence lengths given for a batch of {}", lengths.size(), batch);
    for (std::size_t b = 0; b < lengths.size(); ++b) {
      DIFFUSER_CHECK(lengths[b] >= 0 && lengths[b] <= n,
                     "attention: length of sequence {} is {}, outside [0, n = {}]", b, lengths[b],
                     n);
    }
    g.lengths.assign(lengths.begin(), lengths.end());
  }
  return g;
}

void check_tensor_size(const std::string& name, std::size_t size, const AttentionGeometry& g) {
  DIFFUSER_CHECK(static_cast<std::int64_t>(size) == g.numel(),
                 "attention: {} has {} elements, expected [batch, n, H*D] = [{}, {}, {}] = {}",
                 name, size, g.batch, g.n, g.width, g.numel());
}

template <typename T>
void check_finite(const std::string& name, std::span<const T> values, const AttentionGeometry& g) {
  const auto count = static_cast<std::int64_t>(values.size());
  std::int64_t first_bad = count;
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (parallel_worth(count))
  for (std::int64_t x = 0; x < count; ++x) {
    if (!std::isfinite(values[x]) && x < first_bad) first_bad = x;
  }
  if (first_bad == count) return;
  const std::int64_t row = first_bad / g.width;
  fail("attention input {}: element [{}, {}, {}] is {} (inputs must be finite)", name, row / g.n,
       row % g.n, first_bad % g.width, values[first_bad]);
}

template void check_finite<float>(const std::string&, std::span<const float>,
                                  const AttentionGeometry&);
template void check_finite<double>(const std::string&, std::span<const double>,
                                   const AttentionGeometry&);

}  // namespace diffuser::attention
