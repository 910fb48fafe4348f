// Why: moves the forward record between the host layout (AttentionSaved<float>, shared with the
// CPU backend) and the device, with the size checks that keep a wrong record from being read.
#include "attention/cuda/SavedBuffers.hpp"

#include "core/Error.hpp"

namespace diffuser::attention::cuda {

SavedSizes saved_sizes(const AttentionGeometry& g, const AttentionOptions& options,
                       std::int64_t nnz) {
  const int K = options.diffusion.degree();
  SavedSizes sizes;
  sizes.attn = static_cast<std::size_t>(g.batch * g.heads * nnz);
  sizes.attn_dropped = options.dropout > 0.0 ? sizes.attn : 0;
  sizes.hops = options.memory == MemoryMode::kStoreHops && K > 1
                   ? static_cast<std::size_t>(g.batch * (K - 1) * g.sequence_numel())
                   : 0;
  return sizes;
}

void prepare_saved(const AttentionGeometry& g, const AttentionOptions& options,
                   std::uint64_t plan_id, std::int64_t nnz, SavedBuffers& out) {
  const SavedSizes sizes = saved_sizes(g, options, nnz);
  out.geometry = g;
  out.options = options;
  out.plan_id = plan_id;
  out.nnz = nnz;
  out.attn.ensure(sizes.attn, "saved attention weights");
  out.attn_dropped.ensure(sizes.attn_dropped, "saved dropped attention weights");
  out.hops.ensure(sizes.hops, "saved hop states");
}

void download_saved(const SavedBuffers& state, AttentionSaved<float>& out) {
  const SavedSizes sizes = saved_sizes(state.geometry, state.options, state.nnz);
  out.geometry = state.geometry;
  out.options = state.options;
  out.plan_id = state.plan_id;
  out.nnz = state.nnz;
  out.attn.resize(sizes.attn);
  out.attn_dropped.resize(sizes.attn_dropped);
  out.hops.resize(sizes.hops);
  const auto copy = [](std::vector<float>& host, const DeviceBuffer<float>& device) {
    if (host.empty()) return;
    DIFFUSER_CUDA_CHECK(cudaMemcpy(host.data(), device.data(), host.size() * sizeof(float),
                                   cudaMemcpyDeviceToHost));
  };
  copy(out.attn, state.attn);
  copy(out.attn_dropped, state.attn_dropped);
  copy(out.hops, state.hops);
}

void check_saved_sizes(const AttentionGeometry& g, const AttentionOptions& options,
                       std::int64_t nnz, std::size_t attn, std::size_t attn_dropped,
                       std::size_t hops) {
  const SavedSizes sizes = saved_sizes(g, options, nnz);
  DIFFUSER_CHECK(attn == sizes.attn,
                 "CUDA attention: saved attn has {} values, expected batch * H * nnz = {}", attn,
                 sizes.attn);
  DIFFUSER_CHECK(attn_dropped == sizes.attn_dropped,
                 "CUDA attention: saved attn_dropped has {} values, expected {} (dropout = {})",
                 attn_dropped, sizes.attn_dropped, options.dropout);
  DIFFUSER_CHECK(hops == sizes.hops,
                 "CUDA attention: saved hops has {} values, expected {} (memory mode {}, K = {})",
                 hops, sizes.hops,
                 options.memory == MemoryMode::kStoreHops ? "store-hops" : "recompute",
                 options.diffusion.degree());
}

void upload_saved(const AttentionSaved<float>& saved, SavedBuffers& out) {
  check_saved_sizes(saved.geometry, saved.options, saved.nnz, saved.attn.size(),
                    saved.attn_dropped.size(), saved.hops.size());
  prepare_saved(saved.geometry, saved.options, saved.plan_id, saved.nnz, out);
  out.attn.upload(saved.attn);
  out.attn_dropped.upload(saved.attn_dropped);
  out.hops.upload(saved.hops);
}

}  // namespace diffuser::attention::cuda
