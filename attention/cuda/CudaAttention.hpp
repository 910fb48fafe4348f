// Why: the host API of the CUDA backend. It implements the contract of docs/design.md §1 exactly
// like the CPU backend (same inputs, options, saved record, gradients, dropout masks) on an NVIDIA
// GPU, and picks the data path by where the tensors live: host tensors are copied in and out,
// device tensors are used in place. No CUDA headers: the CLI and CPU code can include it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "attention/AttentionGradients.hpp"
#include "attention/AttentionInputs.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"
#include "attention/cuda/CudaAttentionConfig.hpp"
#include "attention/cuda/CudaSaved.hpp"

namespace diffuser::attention::cuda {

/// Sparse attention with diffusion on one CUDA device for one pattern. Construction uploads the
/// pattern, its transpose and the edge permutation once (DevicePlan); every call reuses them
/// and grows workspaces as needed. Every call runs on the object's own stream and returns after
/// the work is done (errors surface as diffuser::Error from the call that caused them). Not
/// safe for concurrent calls on one object; use one object per host thread.
///
/// Shapes (as AttentionInputs): q, k, v, z, dz, dq, dk, dv are row-major [batch, n, H*D]
/// float32; edge values [batch, H, nnz]; lengths (host memory) as in AttentionInputs.
class CudaAttention {
 public:
  /// Throws diffuser::Error when no CUDA device is usable ("CUDA attention: no usable CUDA
  /// device (<reason>)"), the device index is invalid, or an upload fails.
  explicit CudaAttention(const AttentionPlan& plan, CudaAttentionConfig config = {});
  ~CudaAttention();
  CudaAttention(CudaAttention&&) noexcept;
  CudaAttention& operator=(CudaAttention&&) noexcept;
  CudaAttention(const CudaAttention&) = delete;
  CudaAttention& operator=(const CudaAttention&) = delete;

  const CudaAttentionConfig& config() const;
  /// Switches between the cuSPARSE and the fused path (same results within fp32 rounding).
  void set_path(CudaPath path);

  /// Forward Z = sum_k theta_k A^k V (docs/design.md §1). q, k, v, z are either all host memory
  /// (copied to the device and back) or all device memory (used in place); anything else
  /// throws. When `saved` is not null it receives the host record backward() needs (edge
  /// weights and, in MemoryMode::kStoreHops, the hop states: a device-to-host copy).
  /// Throws diffuser::Error for shape mismatches, dropout outside [0, 1), non-finite inputs.
  void forward(const AttentionOptions& options, const AttentionInputs<float>& inputs,
               std::span<float> z, AttentionSaved<float>* saved);

  /// Backward given dZ: writes dq, dk, dv ([batch, n, H*D]) and, when not empty, dtheta
  /// (K + 1 values, host memory). Tensors all on the host or all on the device, like forward.
  /// `saved` must come from a forward with this plan (its plan id) and the same inputs.
  void backward(const AttentionInputs<float>& inputs, const AttentionSaved<float>& saved,
                std::span<const float> dz, const AttentionGradients<float>& grads);

  /// Forward with device tensors only; the saved state stays on the device (no copies at all).
  void forward_device(const AttentionOptions& options, const AttentionInputs<float>& inputs,
                      std::span<float> z, CudaSaved* saved);

  /// Backward with device tensors (dtheta, when not empty, is host memory) and device state.
  void backward_device(const AttentionInputs<float>& inputs, const CudaSaved& saved,
                       std::span<const float> dz, const AttentionGradients<float>& grads);

  /// Device bytes held by the uploaded plan.
  std::size_t plan_device_bytes() const;
  /// Device bytes held by the plan, workspaces and cuSPARSE state.
  std::size_t device_bytes() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// The dropout draws the CUDA kernels make: counter_uniform(seed, stream, first + t) for
/// t < count, computed on `device` and copied back (tests compare them bit for bit with
/// core/Rng.hpp on the host). Throws diffuser::Error when no device is usable.
std::vector<float> counter_uniform_on_device(std::uint64_t seed, std::uint64_t stream,
                                             std::uint64_t first, std::int64_t count,
                                             int device = 0);

}  // namespace diffuser::attention::cuda
