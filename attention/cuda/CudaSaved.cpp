// Why: the public owner of the device-side forward record.
#include "attention/cuda/CudaSaved.hpp"

#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/SavedBuffers.hpp"
#include "core/Error.hpp"

namespace diffuser::attention::cuda {

CudaSaved::CudaSaved() = default;
CudaSaved::~CudaSaved() = default;
CudaSaved::CudaSaved(CudaSaved&&) noexcept = default;
CudaSaved& CudaSaved::operator=(CudaSaved&&) noexcept = default;

bool CudaSaved::empty() const { return state_ == nullptr || state_->attn.empty(); }

const SavedBuffers& CudaSaved::state() const {
  DIFFUSER_CHECK(!empty(), "CUDA attention: the saved state is empty (run forward first)");
  return *state_;
}

SavedBuffers& CudaSaved::state() {
  if (state_ == nullptr) state_ = std::make_unique<SavedBuffers>();
  return *state_;
}

const AttentionGeometry& CudaSaved::geometry() const { return state().geometry; }
const AttentionOptions& CudaSaved::options() const { return state().options; }
std::uint64_t CudaSaved::plan_id() const { return state().plan_id; }

std::size_t CudaSaved::device_bytes() const { return state_ == nullptr ? 0 : state_->bytes(); }

AttentionSaved<float> CudaSaved::to_host() const {
  const SavedBuffers& s = state();
  DIFFUSER_CUDA_CHECK(cudaSetDevice(s.device));
  AttentionSaved<float> out;
  download_saved(s, out);
  return out;
}

CudaSaved CudaSaved::from_host(const AttentionSaved<float>& saved, int device) {
  DIFFUSER_CUDA_CHECK(cudaSetDevice(device));
  CudaSaved out;
  out.state().device = device;
  upload_saved(saved, out.state());
  return out;
}

CudaSaved::DeviceArrays CudaSaved::device_arrays() {
  DIFFUSER_CHECK(!empty(), "CUDA attention: the saved state is empty (run forward first)");
  SavedBuffers& s = *state_;
  const auto data = [](DeviceBuffer<float>& b) { return b.empty() ? nullptr : b.data(); };
  return {data(s.attn),  s.attn.size(), data(s.attn_dropped), s.attn_dropped.size(), data(s.hops),
          s.hops.size(), s.device};
}

CudaSaved CudaSaved::copy_from_device(const AttentionGeometry& geometry,
                                      const AttentionOptions& options, std::uint64_t plan_id,
                                      std::int64_t nnz, std::span<const float> attn,
                                      std::span<const float> attn_dropped,
                                      std::span<const float> hops, int device) {
  check_saved_sizes(geometry, options, nnz, attn.size(), attn_dropped.size(), hops.size());
  DIFFUSER_CUDA_CHECK(cudaSetDevice(device));
  CudaSaved out;
  SavedBuffers& s = out.state();
  s.device = device;
  prepare_saved(geometry, options, plan_id, nnz, s);
  const auto copy = [](DeviceBuffer<float>& to, std::span<const float> from) {
    if (from.empty()) return;
    DIFFUSER_CUDA_CHECK(
        cudaMemcpy(to.data(), from.data(), from.size_bytes(), cudaMemcpyDeviceToDevice));
  };
  copy(s.attn, attn);
  copy(s.attn_dropped, attn_dropped);
  copy(s.hops, hops);
  return out;
}

}  // namespace diffuser::attention::cuda
