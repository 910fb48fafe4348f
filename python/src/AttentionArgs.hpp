// Why: the CPU and the CUDA attention bindings take the same call arguments (heads, theta,
// dropout, seed, stream, memory mode, valid lengths) and must check them the same way; this is
// their one parser, so both raise the same Python exceptions for the same mistakes.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "attention/AttentionOptions.hpp"
#include "attention/AttentionPlan.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::python {

/// "store" or "recompute"; ValueError naming the value otherwise.
attention::MemoryMode parse_memory(const std::string& s);

/// The options of one call, checked (theta through Diffusion::from_coefficients).
attention::AttentionOptions make_options(int heads, const std::vector<double>& theta,
                                         double dropout, std::uint64_t seed, std::uint64_t stream,
                                         const std::string& memory);

/// True when a saved forward state made with `saved` serves a backward called with `call`
/// (same heads, diffusion, dropout, seed, stream and memory mode).
bool same_options(const attention::AttentionOptions& saved,
                  const attention::AttentionOptions& call);

/// The q/k/v/dz arrays of a call, checked against each other and the plan.
struct Activations {
  nanobind::ndarray<> q, k, v;
  std::vector<std::size_t> shape;  ///< q's shape (2-D [n, W], 3-D [B, n, W], 4-D [B, n, H, D])
  std::int64_t batch = 1;
  std::int64_t width = 0;
  bool is_double = false;
};

/// cpu_array or cuda_array (Arrays.hpp): how q, k and v are taken.
using ArrayGetter = nanobind::ndarray<> (*)(nanobind::handle, const std::string&);

/// q, k, v taken with `get` and checked: float32/float64, rank 2-4, n tokens as the plan,
/// H = heads on the head axis of a 4-D array, k and v with q's dtype and shape. TypeError /
/// ValueError naming the array otherwise.
Activations activations(const attention::AttentionPlan& plan, int heads, nanobind::handle q,
                        nanobind::handle k, nanobind::handle v, ArrayGetter get);

/// Valid lengths [B] (host int32/int64 array) or empty for None; ValueError when the count is
/// not the batch size.
std::vector<graph::Index> lengths_vector(nanobind::handle lengths, std::int64_t batch);

}  // namespace diffuser::python
