// Why: the choices of the CUDA backend that are not part of the attention math (which kernels,
// which device, how long rows are split) in one value, so tests and benchmarks can force every
// code path (e.g. a tiny long-row threshold) on small inputs. No CUDA headers.
#pragma once

#include <string>

#include "graph/CsrGraph.hpp"

namespace diffuser::attention::cuda {

/// Which kernels run the attention.
enum class CudaPath {
  /// cuSPARSE baseline: SDDMM per head for the scores, the own edge softmax, then per hop one
  /// device copy of V and one SpMM (CSR_ALG2, row-major, ld = H*D) per head in the alpha/beta
  /// form; backward: SpMM over the transposed pattern, SDDMM for dA, own softmax backward.
  kCusparse,
  /// Own kernels: fused scores+softmax(+dropout), one all-heads hop kernel per hop; backward:
  /// own SDDMM for dA, all-heads hops over the transposed pattern, own softmax backward.
  kFused,
};

/// "cusparse" or "fused".
const char* cuda_path_name(CudaPath path);

/// Parses "cusparse" or "fused"; throws diffuser::Error naming the value otherwise.
CudaPath parse_cuda_path(const std::string& name);

/// Configuration of a CudaAttention.
struct CudaAttentionConfig {
  CudaPath path = CudaPath::kFused;
  /// CUDA device index.
  int device = 0;
  /// Rows with more edges than this are "long": a block (not a warp) reduces their softmax and
  /// the hop kernel splits them into segments summed by a fix-up pass.
  graph::Index long_row_degree = 1024;
  /// Edges per segment of a long row (one warp each).
  graph::Index segment_edges = 256;
  /// Check device-resident inputs for NaN/Inf (one extra read of q, k, v or dz per call); host
  /// inputs are always checked on the host.
  bool check_device_inputs = true;
};

}  // namespace diffuser::attention::cuda
