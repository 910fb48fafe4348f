// Why: the device-side storage behind CudaSaved (what forward keeps for backward), visible to
// the backend's .cpp files only; the public CudaSaved header stays free of CUDA types.
#pragma once

#include <cstdint>

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionSaved.hpp"
#include "attention/cuda/DeviceBuffer.hpp"

namespace diffuser::attention::cuda {

/// Device copy of AttentionSaved<float>: same layouts ([B, H, nnz] edge weights,
/// [B, K-1, n, H*D] hop states Y_1..Y_{K-1}).
struct SavedBuffers {
  AttentionGeometry geometry;
  AttentionOptions options;
  std::uint64_t plan_id = 0;
  std::int64_t nnz = 0;
  int device = 0;
  DeviceBuffer<float> attn;          ///< softmax weights before dropout
  DeviceBuffer<float> attn_dropped;  ///< after dropout; empty when options.dropout == 0
  DeviceBuffer<float> hops;          ///< empty in kRecompute or when K <= 1

  std::size_t bytes() const { return attn.bytes() + attn_dropped.bytes() + hops.bytes(); }
};

/// Element counts of the three buffers for a forward with this geometry and these options.
struct SavedSizes {
  std::size_t attn = 0;
  std::size_t attn_dropped = 0;
  std::size_t hops = 0;
};
SavedSizes saved_sizes(const AttentionGeometry& g, const AttentionOptions& options,
                       std::int64_t nnz);

/// Records geometry, options, plan id and nnz in `out` and makes its buffers hold exactly
/// saved_sizes() elements (grow-only reallocation).
void prepare_saved(const AttentionGeometry& g, const AttentionOptions& options,
                   std::uint64_t plan_id, std::int64_t nnz, SavedBuffers& out);

/// Copies the device state into the host record (synchronous).
void download_saved(const SavedBuffers& state, AttentionSaved<float>& out);

/// Throws diffuser::Error naming the first of the three element counts that differs from
/// saved_sizes(g, options, nnz).
void check_saved_sizes(const AttentionGeometry& g, const AttentionOptions& options,
                       std::int64_t nnz, std::size_t attn, std::size_t attn_dropped,
                       std::size_t hops);

/// Checks a host record's buffer sizes against its geometry and options (diffuser::Error naming
/// the buffer) and uploads it into `out` (synchronous).
void upload_saved(const AttentionSaved<float>& saved, SavedBuffers& out);

}  // namespace diffuser::attention::cuda
