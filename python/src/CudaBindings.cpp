// Why: the torch op runs CUDA tensors on the CUDA backend in place: device pointers of the
// tensors (DLPack) go straight into CudaAttention::forward_device / backward_device, with no
// host copy. Torch allocates q, k, v, z and the gradients; the forward's saved state (edge
// weights, hop states) stays in the backend's device buffers and is handed to torch as tensors
// that view them, found again by backward through the registry (SavedRegistry.hpp). Compiled
// only with DIFFUSER_HAVE_CUDA; bind_cuda is a no-op stub otherwise. Every call holds the
// handle's mutex (a CudaAttention is not safe for concurrent calls), releases the GIL, and
// restores the caller's current CUDA device afterwards.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "Arrays.hpp"
#include "AttentionArgs.hpp"
#include "Bindings.hpp"
#include "SavedRegistry.hpp"

#ifdef DIFFUSER_HAVE_CUDA
#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/cuda/CudaAttention.hpp"
#include "attention/cuda/CudaDevice.hpp"
#include "attention/cuda/CudaSaved.hpp"
#include "attention/cuda/DeviceMemory.hpp"
#endif

namespace diffuser::python {

#ifdef DIFFUSER_HAVE_CUDA

namespace {

using attention::AttentionOptions;
using attention::AttentionPlan;
using attention::cuda::CudaAttention;
using attention::cuda::CudaSaved;
using graph::Index;
using DeviceSaved = SavedHolder<CudaSaved>;

/// One CudaAttention (a pattern uploaded to one device) and the lock its calls take.
struct CudaHandle {
  const AttentionPlan* plan;  // kept alive by the Python object (keep_alive)
  int device;
  std::mutex mutex;
  CudaAttention attention;

  CudaHandle(const AttentionPlan& p, int d, attention::cuda::CudaPath path)
      : plan(&p), device(d), attention(p, attention::cuda::CudaAttentionConfig{path, d}) {}
};

/// ValueError naming `name` when `t` is not on CUDA device `device`.
void check_on_device(const nb::ndarray<>& t, const char* name, int device) {
  if (t.device_id() != device) {
    throw nb::value_error(fmt::format("{} is on cuda:{} but this CUDA attention runs on cuda:{}",
                                      name, t.device_id(), device)
                              .c_str());
  }
}

/// A float32 array on the handle's device with q's shape; TypeError/ValueError naming it.
nb::ndarray<> device_like(nb::handle obj, const std::string& name, const Activations& a,
                          int device) {
  nb::ndarray<> t = cuda_array(obj, name);
  if (!has_dtype<float>(t)) {
    throw nb::type_error(fmt::format("{} has dtype {}; the CUDA backend computes in float32", name,
                                     dtype_name(t.dtype()))
                             .c_str());
  }
  check_on_device(t, name.c_str(), device);
  if (shape_string(t) != shape_string(a.q)) {
    throw nb::value_error(
        fmt::format("{} has shape {} but q has {}", name, shape_string(t), shape_string(a.q))
            .c_str());
  }
  return t;
}

/// q, k, v checked (float32, on the handle's device, same shapes).
Activations device_activations(const CudaHandle& h, int heads, nb::handle q, nb::handle k,
                               nb::handle v) {
  Activations a = activations(*h.plan, heads, q, k, v, cuda_array);
  if (a.is_double) {
    throw nb::type_error(
        "q is float64: the CUDA backend computes in float32 (use .float(), or CPU tensors for "
        "float64)");
  }
  check_on_device(a.q, "q", h.device);
  check_on_device(a.k, "k", h.device);
  check_on_device(a.v, "v", h.device);
  return a;
}

std::span<float> mutable_elements(const nb::ndarray<>& a) {
  return {static_cast<float*>(a.data()), a.size()};
}

/// A torch tensor on `device` viewing `data` and keeping the saved state alive.
nb::object device_tensor(float* data, std::vector<std::size_t> shape,
                         const std::shared_ptr<DeviceSaved>& holder, int device) {
  auto* held = new std::shared_ptr<DeviceSaved>(holder);
  nb::capsule owner(held,
                    [](void* p) noexcept { delete static_cast<std::shared_ptr<DeviceSaved>*>(p); });
  return nb::cast(nb::ndarray<nb::pytorch, float>(data, shape.size(), shape.data(), owner, nullptr,
                                                  nb::dtype<float>(), nb::device::cuda::value,
                                                  device));
}

/// The device span of a saved-state tensor handed back to backward ([0] when absent).
std::span<const float> saved_span(nb::handle obj, const std::string& name, int device) {
  const nb::ndarray<> t = cuda_array(obj, name);
  if (!has_dtype<float>(t)) {
    throw nb::type_error(
        fmt::format("{} has dtype {} but the CUDA state is float32", name, dtype_name(t.dtype()))
            .c_str());
  }
  if (t.size() > 0) check_on_device(t, name.c_str(), device);
  return {static_cast<const float*>(t.data()), t.size()};
}

nb::tuple cuda_forward(CudaHandle& h, nb::handle q, nb::handle k, nb::handle v, nb::handle z,
                       int heads, const std::vector<double>& theta, nb::handle lengths,
                       double dropout, std::uint64_t seed, std::uint64_t stream,
                       const std::string& memory, bool save) {
  const AttentionOptions o = make_options(heads, theta, dropout, seed, stream, memory);
  const Activations a = device_activations(h, heads, q, k, v);
  const nb::ndarray<> za = device_like(z, "z", a, h.device);
  const std::vector<Index> l = lengths_vector(lengths, a.batch);
  auto holder = save ? std::make_shared<DeviceSaved>() : nullptr;
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(h.mutex);
    const attention::cuda::ScopedDevice on(h.device);
    const attention::AttentionInputs<float> in{elements<float>(a.q), elements<float>(a.k),
                                               elements<float>(a.v), a.batch, l};
    h.attention.forward_device(o, in, mutable_elements(za), save ? &holder->state : nullptr);
  }
  if (!save) return nb::make_tuple(nb::none(), nb::none(), nb::none());
  const CudaSaved::DeviceArrays d = holder->state.device_arrays();
  DeviceSaved::add(holder, d.attn);
  const auto B = static_cast<std::size_t>(a.batch);
  const auto H = static_cast<std::size_t>(heads);
  const auto nnz = static_cast<std::size_t>(h.plan->nnz());
  const auto n = static_cast<std::size_t>(h.plan->n());
  const auto W = static_cast<std::size_t>(a.width);
  nb::object attn = device_tensor(d.attn, {B, H, nnz}, holder, h.device);
  nb::object dropped = d.attn_dropped == nullptr
                           ? nb::none()
                           : device_tensor(d.attn_dropped, {B, H, nnz}, holder, h.device);
  nb::object hops = d.hops == nullptr ? nb::none()
                                      : device_tensor(d.hops, {B, d.hops_size / (B * n * W), n, W},
                                                      holder, h.device);
  return nb::make_tuple(attn, dropped, hops);
}

nb::object cuda_backward(CudaHandle& h, nb::handle q, nb::handle k, nb::handle v, nb::handle attn,
                         nb::handle attn_dropped, nb::handle hops, nb::handle dz, nb::handle dq,
                         nb::handle dk, nb::handle dv, int heads, const std::vector<double>& theta,
                         nb::handle lengths, double dropout, std::uint64_t seed,
                         std::uint64_t stream, const std::string& memory, bool want_dtheta) {
  const AttentionOptions o = make_options(heads, theta, dropout, seed, stream, memory);
  const Activations a = device_activations(h, heads, q, k, v);
  const nb::ndarray<> dza = device_like(dz, "dz", a, h.device);
  const nb::ndarray<> dqa = device_like(dq, "dq", a, h.device);
  const nb::ndarray<> dka = device_like(dk, "dk", a, h.device);
  const nb::ndarray<> dva = device_like(dv, "dv", a, h.device);
  const std::vector<Index> l = lengths_vector(lengths, a.batch);
  const std::span<const float> attn_s = saved_span(attn, "attn", h.device);
  const std::span<const float> dropped_s = saved_span(attn_dropped, "attn_dropped", h.device);
  const std::span<const float> hops_s = saved_span(hops, "hops", h.device);
  // Fast path: the tensors are the forward's own buffers and the call repeats its options.
  std::shared_ptr<DeviceSaved> holder = DeviceSaved::find(attn_s.data());
  if (holder) {
    const CudaSaved::DeviceArrays d = holder->state.device_arrays();
    const bool same_buffers =
        d.attn_size == attn_s.size() && d.attn_dropped_size == dropped_s.size() &&
        (dropped_s.empty() || d.attn_dropped == dropped_s.data()) && d.hops_size == hops_s.size() &&
        (hops_s.empty() || d.hops == hops_s.data());
    const bool same_call = same_options(holder->state.options(), o) &&
                           holder->state.plan_id() == h.plan->id() && d.device == h.device;
    if (!same_buffers || !same_call) holder = nullptr;
  }
  const int K = o.diffusion.degree();
  std::vector<double> dtheta(want_dtheta ? static_cast<std::size_t>(K + 1) : 0);
  {
    nb::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(h.mutex);
    const attention::cuda::ScopedDevice on(h.device);
    CudaSaved copied;
    if (!holder) {
      const attention::AttentionGeometry g = attention::resolve_geometry(
          h.plan->n(), heads, a.batch, a.q.size(), a.k.size(), a.v.size(), l);
      copied = CudaSaved::copy_from_device(g, o, h.plan->id(), h.plan->nnz(), attn_s, dropped_s,
                                           hops_s, h.device);
    }
    const attention::AttentionInputs<float> in{elements<float>(a.q), elements<float>(a.k),
                                               elements<float>(a.v), a.batch, l};
    h.attention.backward_device(
        in, holder ? holder->state : copied, elements<float>(dza),
        attention::AttentionGradients<float>{mutable_elements(dqa), mutable_elements(dka),
                                             mutable_elements(dva), dtheta});
  }
  if (!want_dtheta) return nb::none();
  return nb::cast(owned_array(std::move(dtheta), {static_cast<std::size_t>(K + 1)}));
}

}  // namespace

void bind_cuda(nb::module_& m) {
  m.def(
      "cuda_available",
      [] {
        std::string reason;
        const bool ok = attention::cuda::cuda_available(&reason);
        return std::pair<bool, std::string>(ok, reason);
      },
      "(True, '') when a CUDA device is usable, else (False, why).");
  m.def(
      "cuda_memory",
      [] {
        return std::pair<std::size_t, std::size_t>(attention::cuda::device_bytes_in_use(),
                                                   attention::cuda::device_peak_bytes());
      },
      "(bytes in use, peak bytes) of the CUDA backend's own device buffers (all devices; "
      "torch's allocator does not see them).");
  m.def("cuda_reset_peak", &attention::cuda::reset_device_peak_bytes,
        "Sets the peak of cuda_memory() to the current use.");
  nb::class_<CudaHandle>(m, "CudaAttention",
                         "A pattern uploaded to one CUDA device; forward/backward take torch "
                         "CUDA tensors (float32) and run in place on the device.")
      .def(
          "__init__",
          [](CudaHandle* self, const AttentionPlan& plan, int device, const std::string& path) {
            const attention::cuda::CudaPath p = attention::cuda::parse_cuda_path(path);
            nb::gil_scoped_release release;
            const attention::cuda::ScopedDevice on(device);  // checks the index first
            new (self) CudaHandle(plan, device, p);
          },
          nb::arg("plan"), nb::arg("device") = 0, nb::arg("path") = "fused", nb::keep_alive<1, 2>())
      .def_prop_ro("device", [](const CudaHandle& h) { return h.device; })
      .def("device_bytes",
           [](CudaHandle& h) {
             const std::lock_guard<std::mutex> lock(h.mutex);
             return h.attention.device_bytes();
           })
      .def("forward", &cuda_forward, nb::arg("q"), nb::arg("k"), nb::arg("v"), nb::arg("z"),
           nb::arg("heads"), nb::arg("theta"), nb::arg("lengths").none() = nb::none(),
           nb::arg("dropout") = 0.0, nb::arg("seed") = 0, nb::arg("stream") = 0,
           nb::arg("memory") = "store", nb::arg("save") = true,
           "Writes z; returns (attn [B, H, nnz], attn_dropped or None, hops [B, K-1, n, W] or "
           "None) as CUDA tensors viewing the saved state, or three Nones when save is False.")
      .def("backward", &cuda_backward, nb::arg("q"), nb::arg("k"), nb::arg("v"), nb::arg("attn"),
           nb::arg("attn_dropped"), nb::arg("hops"), nb::arg("dz"), nb::arg("dq"), nb::arg("dk"),
           nb::arg("dv"), nb::arg("heads"), nb::arg("theta"),
           nb::arg("lengths").none() = nb::none(), nb::arg("dropout") = 0.0, nb::arg("seed") = 0,
           nb::arg("stream") = 0, nb::arg("memory") = "store", nb::arg("want_dtheta") = false,
           "Writes dq, dk, dv; returns dtheta (numpy float64 [K + 1]) or None.");
}

#else

void bind_cuda(nb::module_& m) {
  m.def(
      "cuda_available",
      [] {
        return std::pair<bool, std::string>(false,
                                            "this build of diffuser has no CUDA backend (pip "
                                            "install . -Ccmake.define.DIFFUSER_CUDA=ON)");
      },
      "(True, '') when a CUDA device is usable, else (False, why).");
}

#endif

}  // namespace diffuser::python
