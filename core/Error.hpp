// Why: every failure in the library surfaces as one exception type whose message names the
// input and what is wrong, so the CLI can print one clear line and exit non-zero.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace diffuser {

/// The single exception type thrown by diffuser library code. The message names the input
/// (file, line, argument, tensor) and the problem, e.g. "g.mtx:3: column 12 out of range [1, 10]".
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// Throws diffuser::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace diffuser

/// DIFFUSER_CHECK(cond, "fmt", args...): throws diffuser::Error with the formatted message
/// when `cond` is false. Used for input validation; always on (not an assert).
#define DIFFUSER_CHECK(cond, ...)    \
  do {                               \
    if (!(cond)) {                   \
      ::diffuser::fail(__VA_ARGS__); \
    }                                \
  } while (0)
