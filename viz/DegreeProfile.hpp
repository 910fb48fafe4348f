// Why: next to the density map, the degree profile shows how many keys each query reads
// (row lengths) and how many queries read each key (column counts) along the sequence: global
// tokens, windows cut at the ends and random keys show up as spikes, edges and noise. At large n
// the profile is binned to the same pixel budget as the map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::viz {

/// Out-degrees (keys per query) and in-degrees (queries per key) of a graph, summarised over
/// P = min(n, bins) contiguous token bins (the blocks of DensityMap): per bin the minimum,
/// mean and maximum. With P = n every bin is one token and min = mean = max = the degree.
struct DegreeProfile {
  graph::Index n = 0;
  std::int64_t nnz = 0;
  std::vector<std::int64_t> starts;  ///< P + 1 bin boundaries (block_starts)
  std::vector<std::int64_t> out_min, out_max, in_min, in_max;  ///< [P] each
  std::vector<double> out_mean, in_mean;                       ///< [P] each

  /// CSV with header `bin,start,end,out_min,out_mean,out_max,in_min,in_mean,in_max`, one line
  /// per bin; `end` is exclusive.
  std::string to_csv() const;
};

/// O(n + nnz). Throws diffuser::Error for n = 0 or bins < 1.
DegreeProfile degree_profile(const graph::CsrGraph& g, graph::Index bins);

}  // namespace diffuser::viz
