// Why: see WeightedDot.hpp.
#include "viz/WeightedDot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"

namespace diffuser::viz {

using graph::Index;

namespace {

// DOT double-quoted string: escape backslashes and quotes.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void write_weighted_dot(const std::string& path, const graph::CsrGraph& g,
                        const std::vector<std::string>& labels, double min_weight) {
  DIFFUSER_CHECK(g.has_values(), "{}: weighted DOT needs edge values", path);
  DIFFUSER_CHECK(labels.empty() || labels.size() == static_cast<std::size_t>(g.n()),
                 "{}: {} node labels for {} nodes", path, labels.size(), g.n());
  DIFFUSER_CHECK(min_weight >= 0.0 && min_weight <= 1.0,
                 "{}: minimum relative weight {} is outside [0, 1]", path, min_weight);
  const auto vals = g.values();
  double w_max = 0.0;
  for (const float v : vals) w_max = std::max(w_max, std::abs(static_cast<double>(v)));
  const double cut = min_weight * w_max;
  std::int64_t drawn = 0;
  for (const float v : vals) drawn += std::abs(static_cast<double>(v)) >= cut ? 1 : 0;
  DIFFUSER_CHECK(drawn <= kWeightedDotMaxEdges,
                 "{}: {} edges to draw, more than the DOT limit {} (raise the minimum weight or "
                 "use GraphML)",
                 path, drawn, kWeightedDotMaxEdges);
  // Tokens in sequence order on a circle (neato with pinned positions, straight edges): the
  // layout stays readable for dense attention, where a hierarchical layout tangles.
  const double pi = 3.14159265358979323846;
  const double radius = std::max(1.5, 0.09 * static_cast<double>(g.n()));
  std::string text =
      "digraph attention {\n  layout=neato;\n  splines=false;\n  outputorder=edgesfirst;\n"
      "  node [shape=circle, fixedsize=true, width=0.35, fontsize=8, style=filled, "
      "fillcolor=white];\n  edge [arrowsize=0.4];\n";
  for (Index i = 0; i < g.n(); ++i) {
    const double angle = pi / 2.0 - 2.0 * pi * static_cast<double>(i) / static_cast<double>(g.n());
    text += fmt::format("  {} [label={}, pos=\"{:.3f},{:.3f}!\"];\n", i,
                        quoted(labels.empty() ? std::to_string(i) : labels[i]),
                        radius * std::cos(angle), radius * std::sin(angle));
  }
  const auto offsets = g.offsets();
  const auto columns = g.columns();
  for (Index i = 0; i < g.n(); ++i) {
    for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
      const double w = std::abs(static_cast<double>(vals[e]));
      if (w < cut) continue;
      const double rel = w_max > 0.0 ? w / w_max : 0.0;
      const int grey = static_cast<int>(std::lround(200.0 * (1.0 - rel)));
      text += fmt::format(
          "  {} -> {} [penwidth={:.3f}, color=\"#{:02x}{:02x}{:02x}\", tooltip=\"{:.6g}\"];\n", i,
          columns[e], 0.2 + 4.0 * rel, grey, grey, grey, vals[e]);
    }
  }
  text += "}\n";
  write_text_atomic(path, text);
}

}  // namespace diffuser::viz
