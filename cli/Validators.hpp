// Why: CLI11 parses "-5" into an unsigned option by wrapping around (to 2^64 - 5): a negative
// seed would silently become a different seed. Every unsigned option of the executable checks
// its text with this one validator.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace diffuser::cli {

/// Rejects option values that carry a sign ("must be a non-negative integer").
inline CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& value) {
        return value.find('-') == std::string::npos ? std::string()
                                                    : "must be a non-negative integer";
      },
      "", "non-negative");
}

}  // namespace diffuser::cli
