// Why: JSON has no NaN or Inf, and every JSON writer of diffuser (CLI outputs, the spectral
// summary, analyses, the Python package through them) must map a non-finite number the same
// way: to null. One definition, so the outputs cannot disagree.
#pragma once

#include <cmath>

#include <nlohmann/json.hpp>

namespace diffuser {

/// A number as a JSON value; null when not finite.
inline nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

}  // namespace diffuser
