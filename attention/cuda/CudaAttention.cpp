// Why: orchestration of the CUDA backend: input checks (the CPU backend's messages), the
// choice between host copies and in-place device tensors, and the sequence of kernels and
// cuSPARSE calls for forward (scores, softmax, Horner hops) and backward (transposed hops,
// dA, softmax backward, dq/dk), per sequence of the batch, all on one stream.
#include "attention/cuda/CudaAttention.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attention/AttentionGeometry.hpp"
#include "attention/cuda/AttentionKernels.hpp"
#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/CudaDevice.hpp"
#include "attention/cuda/CudaStream.hpp"
#include "attention/cuda/CusparseBackend.hpp"
#include "attention/cuda/DeviceBuffer.hpp"
#include "attention/cuda/DevicePlan.hpp"
#include "attention/cuda/SavedBuffers.hpp"
#include "core/Error.hpp"

namespace diffuser::attention::cuda {

namespace {

void require_device(int device) {
  check_device(device);
  DIFFUSER_CUDA_CHECK(cudaSetDevice(device));
}

const char* location_name(MemoryLocation where) {
  return where == MemoryLocation::kDevice ? "device" : "host";
}

// The common location of a call's tensors; throws when they are mixed.
MemoryLocation common_location(std::initializer_list<std::pair<const char*, const void*>> tensors,
                               const char* call) {
  std::optional<MemoryLocation> first;
  const char* first_name = "";
  for (const auto& [name, pointer] : tensors) {
    const MemoryLocation where = pointer_location(pointer);
    if (!first) {
      first = where;
      first_name = name;
    } else if (*first != where) {
      fail(
          "{}: {} is in {} memory but {} is in {} memory (the tensors of a call must all be "
          "on the host or all on the device)",
          call, name, location_name(where), first_name, location_name(*first));
    }
  }
  return *first;
}

void check_options(const AttentionOptions& options) {
  DIFFUSER_CHECK(std::isfinite(options.dropout) && options.dropout >= 0.0 &&
                     options.dropout < 1.0 && static_cast<float>(options.dropout) < 1.0f,
                 "attention: dropout = {} must be in [0, 1)", options.dropout);
}

void check_width(const AttentionGeometry& g) {
  DIFFUSER_CHECK(g.width <= std::numeric_limits<int>::max(),
                 "CUDA attention: width H*D = {} is too large (limit {})", g.width,
                 std::numeric_limits<int>::max());
}

HeadShape head_shape(const AttentionGeometry& g) {
  return HeadShape{g.heads, g.head_dim, static_cast<int>(g.width)};
}

float score_scale(int head_dim) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
}

template <typename T>
void copy_to_device(DeviceBuffer<T>& device, std::span<const T> host, cudaStream_t stream,
                    const char* what) {
  device.ensure(host.size(), what);
  DIFFUSER_CUDA_CHECK(cudaMemcpyAsync(device.data(), host.data(), host.size() * sizeof(T),
                                      cudaMemcpyHostToDevice, stream));
}

template <typename T>
void copy_to_host(std::span<T> host, const T* device, cudaStream_t stream) {
  DIFFUSER_CUDA_CHECK(cudaMemcpyAsync(host.data(), device, host.size() * sizeof(T),
                                      cudaMemcpyDeviceToHost, stream));
}

}  // namespace

struct CudaAttention::Impl {
  Impl(const AttentionPlan& p, const CudaAttentionConfig& c)
      : config(c), plan(p, c.long_row_degree, c.segment_edges) {}

  CudaAttentionConfig config;
  CudaStream stream;
  DevicePlan plan;
  std::unique_ptr<CusparseBackend> cusparse;
  // Staging for host tensors.
  DeviceBuffer<float> q, k, v, z, dz, dq, dk, dv;
  // [n, H*D] ping-pong buffers, recomputed hop states, [H, nnz] edge buffers.
  DeviceBuffer<float> ping, pong, hops_tmp;
  DeviceBuffer<float> edge_attn, edge_dropped, edge_grad, edge_perm;
  DeviceBuffer<float> partial;
  DeviceBuffer<double> dots;
  DeviceBuffer<std::int64_t> finite;
  SavedBuffers host_saved;  // device copy of the host record of forward()/backward()

  cudaStream_t s() const { return stream.get(); }

  CusparseBackend& sparse() {
    if (!cusparse) cusparse = std::make_unique<CusparseBackend>(plan, stream.get());
    return *cusparse;
  }

  AttentionGeometry validate_forward(const AttentionOptions& options,
                                     const AttentionInputs<float>& in, std::size_t z_size) const {
    check_options(options);
    AttentionGeometry g = resolve_geometry(plan.n(), options.heads, in.batch, in.q.size(),
                                           in.k.size(), in.v.size(), in.lengths);
    check_tensor_size("z", z_size, g);
    check_width(g);
    return g;
  }

  AttentionGeometry validate_backward(const AttentionInputs<float>& in,
                                      const AttentionGeometry& saved_geometry,
                                      const AttentionOptions& saved_options,
                                      std::uint64_t saved_plan_id, std::size_t dz_size,
                                      const AttentionGradients<float>& grads) const {
    DIFFUSER_CHECK(saved_plan_id == plan.plan_id(),
                   "CUDA attention backward: the saved forward state belongs to another plan (id "
                   "{}; this CudaAttention was built for plan {})",
                   saved_plan_id, plan.plan_id());
    AttentionGeometry g = resolve_geometry(plan.n(), saved_options.heads, in.batch, in.q.size(),
                                           in.k.size(), in.v.size(), in.lengths);
    DIFFUSER_CHECK(g == saved_geometry,
                   "CUDA attention backward: the inputs (batch {}, n {}, heads {}, head dim {}) "
                   "differ from the saved forward state (batch {}, n {}, heads {}, head dim {}) "
                   "or its sequence lengths",
                   g.batch, g.n, g.heads, g.head_dim, saved_geometry.batch, saved_geometry.n,
                   saved_geometry.heads, saved_geometry.head_dim);
    check_tensor_size("dz", dz_size, g);
    check_tensor_size("dq", grads.dq.size(), g);
    check_tensor_size("dk", grads.dk.size(), g);
    check_tensor_size("dv", grads.dv.size(), g);
    const int K = saved_options.diffusion.degree();
    DIFFUSER_CHECK(grads.dtheta.empty() || static_cast<int>(grads.dtheta.size()) == K + 1,
                   "attention: dtheta has {} elements, expected K + 1 = {} (or none)",
                   grads.dtheta.size(), K + 1);
    check_width(g);
    return g;
  }

  // Throws when a device tensor holds NaN/Inf, naming the element like check_finite().
  void check_finite_device(const char* name, const float* x, const AttentionGeometry& g) {
    if (!config.check_device_inputs) return;
    const std::int64_t count = g.numel();
    finite.ensure(kReductionBlocks, "finite-check partials");
    launch_find_nonfinite(x, count, finite.data(), s());
    std::vector<std::int64_t> partials(kReductionBlocks);
    copy_to_host(std::span<std::int64_t>(partials), finite.data(), s());
    stream.synchronize();
    const std::int64_t first = *std::min_element(partials.begin(), partials.end());
    if (first >= count) return;
    float value = 0.0f;
    DIFFUSER_CUDA_CHECK(cudaMemcpy(&value, x + first, sizeof(float), cudaMemcpyDeviceToHost));
    const std::int64_t row = first / g.width;
    fail("attention input {}: element [{}, {}, {}] is {} (inputs must be finite)", name, row / g.n,
         row % g.n, first % g.width, value);
  }

  void ensure_partial(const AttentionGeometry& g) {
    const std::int64_t slots =
        std::max(plan.pattern().view().num_slots, plan.transposed().view().num_slots);
    if (slots > 0) partial.ensure(static_cast<std::size_t>(slots * g.width), "hop partial sums");
  }

  // out = alpha * A x + beta * add (rows < len; 0 beyond) with A's weights w [H, nnz].
  void hop(HeadShape shape, const float* w, const float* x, float alpha, const float* add,
           float beta, int len, float* out) {
    if (config.path == CudaPath::kCusparse) {
      sparse().hop(shape, w, x, alpha, add, beta, len, out);
    } else {
      launch_spmm(plan.pattern().view(), shape, w, nullptr, x, alpha, add, beta, len, out,
                  partial.data(), s());
    }
  }

  // Horner for one sequence: Y_K = theta_K V (never formed: the first hop scales A V by
  // theta_K), Y_k = A Y_{k+1} + theta_k V for k = K-1 .. stop. Y_0 goes to z (when stop = 0),
  // Y_1..Y_{K-1} to hops ([K-1, n, W]) when given, else to the ping-pong buffers.
  void horner(const AttentionGeometry& g, const std::vector<double>& theta, const float* w,
              const float* v, int len, float* z, float* hops, int stop) {
    const HeadShape shape = head_shape(g);
    const int K = static_cast<int>(theta.size()) - 1;
    const std::int64_t N = g.sequence_numel();
    if (K == 0) {
      // Z = theta_0 V on the valid rows, 0 on padded rows (SparseAttention.hpp's contract).
      if (stop == 0) {
        const std::int64_t valid = static_cast<std::int64_t>(len) * g.width;
        launch_scale(z, v, static_cast<float>(theta[0]), valid, s());
        if (valid < N) {
          DIFFUSER_CUDA_CHECK(cudaMemsetAsync(
              z + valid, 0, static_cast<std::size_t>(N - valid) * sizeof(float), s()));
        }
      }
      return;
    }
    if (hops == nullptr && K > 1) {
      ping.ensure(static_cast<std::size_t>(N), "hop state");
      pong.ensure(static_cast<std::size_t>(N), "hop state");
    }
    const float* source = v;
    float alpha = static_cast<float>(theta[K]);
    for (int k = K - 1; k >= stop; --k) {
      float* target = nullptr;
      if (k == 0) {
        target = z;
      } else if (hops != nullptr) {
        target = hops + (k - 1) * N;
      } else {
        target = (k % 2 == 0 ? ping : pong).data();
      }
      hop(shape, w, source, alpha, v, static_cast<float>(theta[k]), len, target);
      source = target;
      alpha = 1.0f;
    }
  }

  void run_forward(const AttentionOptions& options, const AttentionGeometry& g, const float* q_d,
                   const float* k_d, const float* v_d, float* z_d, SavedBuffers* saved) {
    const HeadShape shape = head_shape(g);
    const std::int64_t nnz = plan.nnz();
    const std::int64_t edges = nnz * g.heads;
    const std::int64_t N = g.sequence_numel();
    const int K = options.diffusion.degree();
    const bool dropout = options.dropout > 0.0;
    const bool store = saved != nullptr && options.memory == MemoryMode::kStoreHops && K > 1;
    if (saved != nullptr) {
      prepare_saved(g, options, plan.plan_id(), nnz, *saved);
      saved->device = config.device;
    } else {
      edge_attn.ensure(static_cast<std::size_t>(edges), "attention weights");
      if (dropout) edge_dropped.ensure(static_cast<std::size_t>(edges), "dropped weights");
    }
    ensure_partial(g);
    const float scale = score_scale(g.head_dim);
    for (std::int64_t b = 0; b < g.batch; ++b) {
      const int len = g.lengths[static_cast<std::size_t>(b)];
      const float* qb = q_d + b * N;
      const float* kb = k_d + b * N;
      const float* vb = v_d + b * N;
      float* attn = saved != nullptr ? saved->attn.data() + b * edges : edge_attn.data();
      float* dropped = nullptr;
      if (dropout) {
        dropped = saved != nullptr ? saved->attn_dropped.data() + b * edges : edge_dropped.data();
      }
      const EdgeDropout drop{static_cast<float>(options.dropout), options.seed, options.stream, b};
      if (config.path == CudaPath::kCusparse) {
        sparse().sddmm(shape, qb, kb, scale, 0.0f, attn);
        launch_softmax_forward(plan.pattern().view(), shape, attn, len, drop, attn, dropped, s());
      } else {
        launch_fused_scores_softmax(plan.pattern().view(), shape, qb, kb, scale, len, drop, attn,
                                    dropped, s());
      }
      const float* weights = dropped != nullptr ? dropped : attn;
      float* hops = store ? saved->hops.data() + b * (K - 1) * N : nullptr;
      horner(g, options.diffusion.theta(), weights, vb, len, z_d + b * N, hops, 0);
    }
  }

  void run_backward(const AttentionGeometry& g, const float* q_d, const float* k_d,
                    const float* v_d, const SavedBuffers& saved, const float* dz_d, float* dq_d,
                    float* dk_d, float* dv_d, std::span<double> dtheta) {
    const HeadShape shape = head_shape(g);
    const AttentionOptions& options = saved.options;
    const std::vector<double>& theta = options.diffusion.theta();
    const int K = options.diffusion.degree();
    const std::int64_t nnz = plan.nnz();
    const std::int64_t edges = nnz * g.heads;
    const std::int64_t N = g.sequence_numel();
    const std::size_t row_bytes = static_cast<std::size_t>(g.width) * sizeof(float);
    const bool stored = options.memory == MemoryMode::kStoreHops && K > 1;
    const bool cusparse_path = config.path == CudaPath::kCusparse;
    const float scale = score_scale(g.head_dim);
    ensure_partial(g);
    ping.ensure(static_cast<std::size_t>(N), "backward state");
    pong.ensure(static_cast<std::size_t>(N), "backward state");
    edge_grad.ensure(static_cast<std::size_t>(edges), "edge gradients");
    if (cusparse_path) edge_perm.ensure(static_cast<std::size_t>(edges), "transposed weights");
    if (K > 1 && !stored) hops_tmp.ensure(static_cast<std::size_t>((K - 1) * N), "hop states");
    const std::size_t dot_count = static_cast<std::size_t>(g.batch * (K + 1)) * kReductionBlocks;
    if (!dtheta.empty()) dots.ensure(dot_count, "dtheta partials");
    const DeviceGraphView& pattern = plan.pattern().view();
    const DeviceGraphView& transposed = plan.transposed().view();

    for (std::int64_t b = 0; b < g.batch; ++b) {
      const int len = g.lengths[static_cast<std::size_t>(b)];
      const float* qb = q_d + b * N;
      const float* kb = k_d + b * N;
      const float* vb = v_d + b * N;
      float* dqb = dq_d + b * N;
      float* dkb = dk_d + b * N;
      float* dvb = dv_d + b * N;
      const float* attn = saved.attn.data() + b * edges;
      // (Decided by the options, not by buffer sizes: saved buffers only ever grow.)
      const float* weights = options.dropout > 0.0 ? saved.attn_dropped.data() + b * edges : attn;
      const EdgeDropout drop{static_cast<float>(options.dropout), options.seed, options.stream, b};

      // Hop states Y_1..Y_{K-1}: stored by forward, or rebuilt by Horner now.
      const float* hop_states = nullptr;
      if (K > 1) {
        if (stored) {
          hop_states = saved.hops.data() + b * (K - 1) * N;
        } else {
          horner(g, theta, weights, vb, len, nullptr, hops_tmp.data(), 1);
          hop_states = hops_tmp.data();
        }
      }

      // dY_0 = dZ on the valid rows.
      float* grad = ping.data();
      float* next = pong.data();
      const std::size_t valid = static_cast<std::size_t>(len);
      const std::size_t n = static_cast<std::size_t>(g.n);
      if (valid > 0) {
        DIFFUSER_CUDA_CHECK(
            cudaMemcpyAsync(grad, dz_d + b * N, valid * row_bytes, cudaMemcpyDeviceToDevice, s()));
      }
      if (valid < n) {
        DIFFUSER_CUDA_CHECK(
            cudaMemsetAsync(grad + valid * g.width, 0, (n - valid) * row_bytes, s()));
      }
      launch_scale(dvb, grad, static_cast<float>(theta[0]), N, s());
      double* dots_b = dtheta.empty() ? nullptr : dots.data() + b * (K + 1) * kReductionBlocks;
      if (dots_b != nullptr) launch_dot_partials(grad, vb, N, dots_b, s());
      if (K == 0) {
        DIFFUSER_CUDA_CHECK(cudaMemsetAsync(dqb, 0, static_cast<std::size_t>(N) * 4, s()));
        DIFFUSER_CUDA_CHECK(cudaMemsetAsync(dkb, 0, static_cast<std::size_t>(N) * 4, s()));
        continue;
      }

      float* da = edge_grad.data();
      float* weights_t = nullptr;
      if (cusparse_path) {
        weights_t = edge_perm.data();
        launch_permute_edges(weights, plan.transpose_perm(), nnz, g.heads, weights_t, s());
      }
      for (int k = 0; k < K; ++k) {
        // dA += dY_k Y_{k+1}^T on the pattern; Y_K = theta_K V.
        const bool last = k + 1 == K;
        const float* y = last ? vb : hop_states + k * N;
        const float y_scale = last ? static_cast<float>(theta[K]) : 1.0f;
        if (cusparse_path) {
          sparse().sddmm(shape, grad, y, y_scale, k > 0 ? 1.0f : 0.0f, da);
          sparse().spmm(true, shape, weights_t, grad, 1.0f, 0.0f, next);
        } else {
          launch_edge_dot(pattern, shape, grad, y, y_scale, k > 0, len, da, s());
          launch_spmm(transposed, shape, weights, plan.transpose_perm(), grad, 1.0f, nullptr, 0.0f,
                      len, next, partial.data(), s());
        }
        std::swap(grad, next);  // grad = dY_{k+1} = A^T dY_k
        launch_axpy(dvb, grad, static_cast<float>(theta[k + 1]), N, s());
        if (dots_b != nullptr) {
          launch_dot_partials(grad, vb, N, dots_b + (k + 1) * kReductionBlocks, s());
        }
      }

      // Softmax backward (in place: da becomes ds, scale 1/sqrt(D) included), then
      // dq = ds K over the pattern and dk = ds^T Q over the transposed pattern.
      launch_softmax_backward(pattern, shape, attn, da, scale, len, drop, da, s());
      if (cusparse_path) {
        sparse().spmm(false, shape, da, kb, 1.0f, 0.0f, dqb);
        launch_permute_edges(da, plan.transpose_perm(), nnz, g.heads, weights_t, s());
        sparse().spmm(true, shape, weights_t, qb, 1.0f, 0.0f, dkb);
      } else {
        launch_spmm(pattern, shape, da, nullptr, kb, 1.0f, nullptr, 0.0f, len, dqb, partial.data(),
                    s());
        launch_spmm(transposed, shape, da, plan.transpose_perm(), qb, 1.0f, nullptr, 0.0f, len, dkb,
                    partial.data(), s());
      }
    }
    if (!dtheta.empty()) {
      std::vector<double> partials(dot_count);
      copy_to_host(std::span<double>(partials), dots.data(), s());
      stream.synchronize();
      std::fill(dtheta.begin(), dtheta.end(), 0.0);
      for (std::int64_t b = 0; b < g.batch; ++b) {
        for (int k = 0; k <= K; ++k) {
          const double* p = partials.data() + (b * (K + 1) + k) * kReductionBlocks;
          double sum = 0.0;
          for (int x = 0; x < kReductionBlocks; ++x) sum += p[x];
          dtheta[static_cast<std::size_t>(k)] += sum;
        }
      }
    }
  }
};

CudaAttention::CudaAttention(const AttentionPlan& plan, CudaAttentionConfig config) {
  require_device(config.device);
  impl_ = std::make_unique<Impl>(plan, config);
}

CudaAttention::~CudaAttention() {
  if (impl_ == nullptr) return;
  // The buffers are freed on their device; the caller's current device is left as it was.
  int previous = -1;
  const bool known = cudaGetDevice(&previous) == cudaSuccess;
  (void)cudaSetDevice(impl_->config.device);
  impl_.reset();
  if (known) (void)cudaSetDevice(previous);
}
CudaAttention::CudaAttention(CudaAttention&&) noexcept = default;
CudaAttention& CudaAttention::operator=(CudaAttention&&) noexcept = default;

const CudaAttentionConfig& CudaAttention::config() const { return impl_->config; }

void CudaAttention::set_path(CudaPath path) { impl_->config.path = path; }

std::size_t CudaAttention::plan_device_bytes() const { return impl_->plan.bytes(); }

std::size_t CudaAttention::device_bytes() const {
  const Impl& m = *impl_;
  std::size_t total =
      m.plan.bytes() + m.host_saved.bytes() + m.partial.bytes() + m.dots.bytes() + m.finite.bytes();
  for (const DeviceBuffer<float>* buffer :
       {&m.q, &m.k, &m.v, &m.z, &m.dz, &m.dq, &m.dk, &m.dv, &m.ping, &m.pong, &m.hops_tmp,
        &m.edge_attn, &m.edge_dropped, &m.edge_grad, &m.edge_perm}) {
    total += buffer->bytes();
  }
  if (m.cusparse) total += m.cusparse->bytes();
  return total;
}

void CudaAttention::forward(const AttentionOptions& options, const AttentionInputs<float>& in,
                            std::span<float> z, AttentionSaved<float>* saved) {
  Impl& m = *impl_;
  DIFFUSER_CUDA_CHECK(cudaSetDevice(m.config.device));
  const AttentionGeometry g = m.validate_forward(options, in, z.size());
  const MemoryLocation where =
      common_location({{"q", in.q.data()}, {"k", in.k.data()}, {"v", in.v.data()}, {"z", z.data()}},
                      "CUDA attention forward");
  SavedBuffers* state = saved != nullptr ? &m.host_saved : nullptr;
  if (where == MemoryLocation::kHost) {
    check_finite("q", in.q, g);
    check_finite("k", in.k, g);
    check_finite("v", in.v, g);
    copy_to_device(m.q, in.q, m.s(), "q");
    copy_to_device(m.k, in.k, m.s(), "k");
    copy_to_device(m.v, in.v, m.s(), "v");
    m.z.ensure(z.size(), "z");
    m.run_forward(options, g, m.q.data(), m.k.data(), m.v.data(), m.z.data(), state);
    copy_to_host(z, m.z.data(), m.s());
  } else {
    m.check_finite_device("q", in.q.data(), g);
    m.check_finite_device("k", in.k.data(), g);
    m.check_finite_device("v", in.v.data(), g);
    m.run_forward(options, g, in.q.data(), in.k.data(), in.v.data(), z.data(), state);
  }
  m.stream.synchronize();
  if (saved != nullptr) download_saved(m.host_saved, *saved);
}

void CudaAttention::backward(const AttentionInputs<float>& in, const AttentionSaved<float>& saved,
                             std::span<const float> dz, const AttentionGradients<float>& grads) {
  Impl& m = *impl_;
  DIFFUSER_CUDA_CHECK(cudaSetDevice(m.config.device));
  const AttentionGeometry g =
      m.validate_backward(in, saved.geometry, saved.options, saved.plan_id, dz.size(), grads);
  const MemoryLocation where = common_location({{"q", in.q.data()},
                                                {"k", in.k.data()},
                                                {"v", in.v.data()},
                                                {"dz", dz.data()},
                                                {"dq", grads.dq.data()},
                                                {"dk", grads.dk.data()},
                                                {"dv", grads.dv.data()}},
                                               "CUDA attention backward");
  upload_saved(saved, m.host_saved);
  m.host_saved.device = m.config.device;
  if (where == MemoryLocation::kHost) {
    check_finite("dz", dz, g);
    copy_to_device(m.q, in.q, m.s(), "q");
    copy_to_device(m.k, in.k, m.s(), "k");
    copy_to_device(m.v, in.v, m.s(), "v");
    copy_to_device(m.dz, dz, m.s(), "dz");
    m.dq.ensure(grads.dq.size(), "dq");
    m.dk.ensure(grads.dk.size(), "dk");
    m.dv.ensure(grads.dv.size(), "dv");
    m.run_backward(g, m.q.data(), m.k.data(), m.v.data(), m.host_saved, m.dz.data(), m.dq.data(),
                   m.dk.data(), m.dv.data(), grads.dtheta);
    copy_to_host(grads.dq, m.dq.data(), m.s());
    copy_to_host(grads.dk, m.dk.data(), m.s());
    copy_to_host(grads.dv, m.dv.data(), m.s());
  } else {
    m.check_finite_device("dz", dz.data(), g);
    m.run_backward(g, in.q.data(), in.k.data(), in.v.data(), m.host_saved, dz.data(),
                   grads.dq.data(), grads.dk.data(), grads.dv.data(), grads.dtheta);
  }
  m.stream.synchronize();
}

void CudaAttention::forward_device(const AttentionOptions& options,
                                   const AttentionInputs<float>& in, std::span<float> z,
                                   CudaSaved* saved) {
  Impl& m = *impl_;
  DIFFUSER_CUDA_CHECK(cudaSetDevice(m.config.device));
  const AttentionGeometry g = m.validate_forward(options, in, z.size());
  const MemoryLocation where =
      common_location({{"q", in.q.data()}, {"k", in.k.data()}, {"v", in.v.data()}, {"z", z.data()}},
                      "CUDA attention forward_device");
  DIFFUSER_CHECK(where == MemoryLocation::kDevice,
                 "CUDA attention forward_device: q, k, v and z must be device memory (use "
                 "forward() for host tensors)");
  m.check_finite_device("q", in.q.data(), g);
  m.check_finite_device("k", in.k.data(), g);
  m.check_finite_device("v", in.v.data(), g);
  m.run_forward(options, g, in.q.data(), in.k.data(), in.v.data(), z.data(),
                saved != nullptr ? &saved->state() : nullptr);
  m.stream.synchronize();
}

void CudaAttention::backward_device(const AttentionInputs<float>& in, const CudaSaved& saved,
                                    std::span<const float> dz,
                                    const AttentionGradients<float>& grads) {
  Impl& m = *impl_;
  DIFFUSER_CUDA_CHECK(cudaSetDevice(m.config.device));
  const SavedBuffers& state = saved.state();
  DIFFUSER_CHECK(state.device == m.config.device,
                 "CUDA attention backward_device: the saved state is on device {}, this object "
                 "runs on device {}",
                 state.device, m.config.device);
  const AttentionGeometry g =
      m.validate_backward(in, state.geometry, state.options, state.plan_id, dz.size(), grads);
  const MemoryLocation where = common_location({{"q", in.q.data()},
                                                {"k", in.k.data()},
                                                {"v", in.v.data()},
                                                {"dz", dz.data()},
                                                {"dq", grads.dq.data()},
                                                {"dk", grads.dk.data()},
                                                {"dv", grads.dv.data()}},
                                               "CUDA attention backward_device");
  DIFFUSER_CHECK(where == MemoryLocation::kDevice,
                 "CUDA attention backward_device: q, k, v, dz, dq, dk and dv must be device "
                 "memory (use backward() for host tensors)");
  m.check_finite_device("dz", dz.data(), g);
  m.run_backward(g, in.q.data(), in.k.data(), in.v.data(), state, dz.data(), grads.dq.data(),
                 grads.dk.data(), grads.dv.data(), grads.dtheta);
  m.stream.synchronize();
}

std::vector<float> counter_uniform_on_device(std::uint64_t seed, std::uint64_t stream,
                                             std::uint64_t first, std::int64_t count, int device) {
  require_device(device);
  DIFFUSER_CHECK(count >= 0, "counter_uniform_on_device: count = {} must be >= 0", count);
  std::vector<float> out(static_cast<std::size_t>(count));
  if (count == 0) return out;
  CudaStream s;
  DeviceBuffer<float> buffer(static_cast<std::size_t>(count), "dropout draws");
  launch_counter_uniform(seed, stream, first, count, buffer.data(), s.get());
  copy_to_host(std::span<float>(out), buffer.data(), s.get());
  s.synchronize();
  return out;
}

}  // namespace diffuser::attention::cuda
