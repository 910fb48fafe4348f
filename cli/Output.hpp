// Why: the commands print numbers and text into CSV and JSON the same way: non-finite numbers as
// empty CSV fields / JSON null, text fields quoted only when they must be. One copy for every
// command keeps their outputs consistent (and byte-identical to what they always printed).
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "core/JsonNumber.hpp"

namespace diffuser::cli {

/// A CSV field, quoted (RFC 4180: inner quotes doubled) when it holds a comma, quote or newline.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (const char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// A number as a CSV field: the shortest text that reads back exactly ({fmt}'s "{}"); empty
/// when not finite.
inline std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }

}  // namespace diffuser::cli
