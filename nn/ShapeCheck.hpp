// Why: every layer validates the sizes of the buffers it is handed, so a shape mismatch is a
// clear diffuser::Error naming the layer and the buffer instead of an out-of-bounds access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/Error.hpp"

namespace diffuser::nn {

/// Throws diffuser::Error "<layer>: <buffer> has N elements, expected M (<shape>)" when the
/// sizes differ. `shape` is a human-readable description such as "[rows=8, in=16]".
inline void check_size(std::string_view layer, std::string_view buffer, std::size_t actual,
                       std::int64_t expected, std::string_view shape) {
  DIFFUSER_CHECK(expected >= 0 && actual == static_cast<std::size_t>(expected),
                 "{}: {} has {} elements, expected {} {}", layer, buffer, actual, expected, shape);
}

/// Throws diffuser::Error "<layer>: <what> must be >= 1, got N" when n < 1.
inline void check_positive(std::string_view layer, std::string_view what, std::int64_t n) {
  DIFFUSER_CHECK(n >= 1, "{}: {} must be >= 1, got {}", layer, what, n);
}

}  // namespace diffuser::nn
