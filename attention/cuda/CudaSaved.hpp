// Why: on the device-pointer path the forward state (edge weights, hop states) stays in device
// memory between forward and backward; this is its owner. No CUDA headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

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

  /// Device pointers (null for an empty buffer) and element counts of the three buffers, for
  /// handing the state to another library without a copy (the Python binding exports them to
  /// torch through DLPack). The pointers stay valid while this object lives and is not refilled.
  struct DeviceArrays {
    float* attn = nullptr;
    std::size_t attn_size = 0;
    float* attn_dropped = nullptr;
    std::size_t attn_dropped_size = 0;
    float* hops = nullptr;
    std::size_t hops_size = 0;
    int device = 0;
  };
  /// Throws diffuser::Error when empty.
  DeviceArrays device_arrays();

  /// A fresh state on `device`, copied device-to-device from arrays in the layouts above (e.g.
  /// tensors another library made from device_arrays(), then cloned). The element counts are
  /// checked against geometry, options and nnz like from_host (diffuser::Error naming a
  /// mismatch); the spans must be device memory of `device`.
  static CudaSaved copy_from_device(const AttentionGeometry& geometry,
                                    const AttentionOptions& options, std::uint64_t plan_id,
                                    std::int64_t nnz, std::span<const float> attn,
                                    std::span<const float> attn_dropped,
                                    std::span<const float> hops, int device = 0);

  /// Backend internals (the device buffers).
  SavedBuffers& state();
  const SavedBuffers& state() const;

 private:
  std::unique_ptr<SavedBuffers> state_;
};

}  // namespace diffuser::attention::cuda
