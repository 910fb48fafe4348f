// Why: on the device-pointer path the forward state (edge weights, hop states) stays in device
// memory between forward and backward; this is its owner. No CUDA headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionSaved.hpp"

namespace diffuser::attention::cuda {

struct SavedBuffers;

/// What CudaAttention::forward_device keeps for backward_device, in device memory, with the
/// layouts of AttentionSaved<float> (edge weights [B, H, nnz], hop states [B, K-1, n, H*D]).
/// Move-only; empty until a forward fills it.
class CudaSaved {
 public:
  CudaSaved();
  ~CudaSaved();
  CudaSaved(CudaSaved&&) noexcept;
  CudaSaved& operator=(CudaSaved&&) noexcept;
  CudaSaved(const CudaSaved&) = delete;
  CudaSaved& operator=(const CudaSaved&) = delete;

  /// True until a forward has filled it.
  bool empty() const;

  /// Geometry, options and plan id of the forward that filled it (throws when empty).
  const AttentionGeometry& geometry() const;
  const AttentionOptions& options() const;
  std::uint64_t plan_id() const;

  /// Device bytes held.
  std::size_t device_bytes() const;

  /// Downloads into the host record of the CPU backend (same layouts, same meaning).
  AttentionSaved<float> to_host() const;

  /// Uploads a host record (e.g. from the CPU backend) to `device`; checks its buffer sizes
  /// against its geometry and options and throws diffuser::Error naming a mismatch.
  static CudaSaved from_host(const AttentionSaved<float>& saved, int device = 0);

  /// Backend internals (the device buffers).
  SavedBuffers& state();
  const SavedBuffers& state() const;

 private:
  std::unique_ptr<SavedBuffers> state_;
};

}  // namespace diffuser::attention::cuda
