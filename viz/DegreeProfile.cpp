// Why: see DegreeProfile.hpp. Column counts come from one pass over the edges (serial: a
// scatter; O(nnz) is far cheaper than anything drawn from it).
#include "viz/DegreeProfile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "viz/DensityMap.hpp"

namespace diffuser::viz {

using graph::Index;

std::string DegreeProfile::to_csv() const {
  std::string out = "bin,start,end,out_min,out_mean,out_max,in_min,in_mean,in_max\n";
  for (std::size_t b = 0; b + 1 < starts.size(); ++b) {
    out += fmt::format("{},{},{},{},{},{},{},{},{}\n", b, starts[b], starts[b + 1], out_min[b],
                       out_mean[b], out_max[b], in_min[b], in_mean[b], in_max[b]);
  }
  return out;
}

DegreeProfile degree_profile(const graph::CsrGraph& g, Index bins) {
  DegreeProfile d;
  d.n = g.n();
  d.nnz = g.nnz();
  d.starts = block_starts(g.n(), bins);
  const std::size_t p = d.starts.size() - 1;
  std::vector<std::int64_t> in(static_cast<std::size_t>(g.n()), 0);
  for (const Index j : g.columns()) ++in[static_cast<std::size_t>(j)];
  d.out_min.resize(p);
  d.out_max.resize(p);
  d.in_min.resize(p);
  d.in_max.resize(p);
  d.out_mean.resize(p);
  d.in_mean.resize(p);
  for (std::size_t b = 0; b < p; ++b) {
    std::int64_t omin = std::numeric_limits<std::int64_t>::max(), omax = 0,
                 imin = std::numeric_limits<std::int64_t>::max(), imax = 0, osum = 0, isum = 0;
    for (std::int64_t i = d.starts[b]; i < d.starts[b + 1]; ++i) {
      const std::int64_t o = g.degree(static_cast<Index>(i));
      const std::int64_t c = in[static_cast<std::size_t>(i)];
      omin = std::min(omin, o);
      omax = std::max(omax, o);
      imin = std::min(imin, c);
      imax = std::max(imax, c);
      osum += o;
      isum += c;
    }
    const auto count = static_cast<double>(d.starts[b + 1] - d.starts[b]);
    d.out_min[b] = omin;
    d.out_max[b] = omax;
    d.in_min[b] = imin;
    d.in_max[b] = imax;
    d.out_mean[b] = static_cast<double>(osum) / count;
    d.in_mean[b] = static_cast<double>(isum) / count;
  }
  return d;
}

}  // namespace diffuser::viz
