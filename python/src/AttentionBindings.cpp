// Why: sparse attention with diffusion on numpy arrays / CPU tensors, the kernels behind the
// numpy API and the torch op. Forward returns the state backward needs as arrays that own the
// C++ buffers (no copies); a backward handed those same arrays reuses the buffers directly,
// any other arrays (a clone, a deserialised state) are copied into a fresh state. The GIL is
// released while the kernels run; `threads` > 0 sets the OpenMP thread count for the call.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/complex.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include <optional>

#include "Arrays.hpp"
#include "AttentionArgs.hpp"
#include "Bindings.hpp"
#include "SavedRegistry.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/SparseAttention.hpp"
#include "core/Diffusion.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"

namespace diffuser::python {

namespace {

using attention::AttentionOptions;
using attention::AttentionPlan;
using attention::AttentionSaved;
using graph::Index;

template <typename T>
using CpuSaved = SavedHolder<AttentionSaved<T>>;

attention::Kernels parse_kernels(const std::string& s) {
  if (s == "optimized") return attention::Kernels::kOptimized;
  if (s == "reference") return attention::Kernels::kReference;
  throw nb::value_error(
      fmt::format("kernels must be 'optimized' or 'reference', got '{}'", s).c_str());
}

/// An edge-value or hop-state array handed back to backward: its elements, copied when it is
/// not the forward's own buffer.
template <typename T>
std::vector<T> saved_vector(nb::handle obj, const std::string& name) {
  const nb::ndarray<> a = cpu_array(obj, name);
  if (!has_dtype<T>(a)) {
    throw nb::type_error(fmt::format("{} has dtype {} but q has {}", name, dtype_name(a.dtype()),
                                     dtype_name(nb::dtype<T>()))
                             .c_str());
  }
  const auto e = elements<T>(a);
  return {e.begin(), e.end()};
}

template <typename T>
nb::tuple forward_impl(const AttentionPlan& plan, const Activations& a,
                       const AttentionOptions& options, std::vector<Index> lengths,
                       attention::Kernels kernels, int threads, bool save) {
  std::vector<T> z(static_cast<std::size_t>(a.batch * plan.n() * a.width));
  auto holder = save ? std::make_shared<CpuSaved<T>>() : nullptr;
  {
    nb::gil_scoped_release release;
    std::optional<ThreadCountGuard> guard;
    if (threads > 0) guard.emplace(threads);
    const attention::AttentionInputs<T> in{elements<T>(a.q), elements<T>(a.k), elements<T>(a.v),
                                           a.batch, lengths};
    attention::sparse_attention_forward<T>(plan, options, in, z, save ? &holder->state : nullptr,
                                           kernels);
  }
  nb::object zo = nb::cast(owned_array(std::move(z), a.shape));
  if (!save) return nb::make_tuple(zo, nb::none(), nb::none(), nb::none());
  AttentionSaved<T>& s = holder->state;
  CpuSaved<T>::add(holder, s.attn.data());
  const auto B = static_cast<std::size_t>(a.batch);
  const auto H = static_cast<std::size_t>(options.heads);
  const auto nnz = static_cast<std::size_t>(plan.nnz());
  const auto n = static_cast<std::size_t>(plan.n());
  const auto W = static_cast<std::size_t>(a.width);
  const std::size_t hop_count = s.hops.empty() ? 0 : s.hops.size() / (B * n * W);
  const std::shared_ptr<void> owner = holder;
  static T empty{};
  auto attn = shared_array<T>(s.attn.data(), {B, H, nnz}, owner);
  auto dropped = s.attn_dropped.empty()
                     ? shared_array<T>(&empty, {0}, owner)
                     : shared_array<T>(s.attn_dropped.data(), {B, H, nnz}, owner);
  auto hops = s.hops.empty() ? shared_array<T>(&empty, {0}, owner)
                             : shared_array<T>(s.hops.data(), {B, hop_count, n, W}, owner);
  return nb::make_tuple(zo, attn, dropped, hops);
}

template <typename T>
nb::tuple backward_impl(const AttentionPlan& plan, const Activations& a,
                        const AttentionOptions& options, std::vector<Index> lengths,
                        nb::handle attn, nb::handle attn_dropped, nb::handle hops, nb::handle dz,
                        attention::Kernels kernels, int threads, bool want_dtheta) {
  const nb::ndarray<> dza = cpu_array(dz, "dz");
  if (dza.dtype() != a.q.dtype() || shape_string(dza) != shape_string(a.q)) {
    throw nb::value_error(fmt::format("dz must match q: dz is {} {}, q is {} {}",
                                      dtype_name(dza.dtype()), shape_string(dza),
                                      dtype_name(a.q.dtype()), shape_string(a.q))
                              .c_str());
  }
  const nb::ndarray<> attn_a = cpu_array(attn, "attn");
  const nb::ndarray<> dropped_a = cpu_array(attn_dropped, "attn_dropped");
  const nb::ndarray<> hops_a = cpu_array(hops, "hops");
  // Fast path: the arrays are the forward's own buffers and the call repeats its options.
  std::shared_ptr<CpuSaved<T>> holder = CpuSaved<T>::find(attn_a.data());
  if (holder) {
    const AttentionSaved<T>& s = holder->state;
    const bool same_buffers =
        s.attn.size() == attn_a.size() &&
        (s.attn_dropped.empty() ? dropped_a.size() == 0
                                : dropped_a.data() == s.attn_dropped.data() &&
                                      dropped_a.size() == s.attn_dropped.size()) &&
        (s.hops.empty() ? hops_a.size() == 0
                        : hops_a.data() == s.hops.data() && hops_a.size() == s.hops.size());
    const bool same_call = same_options(s.options, options) && s.plan_id == plan.id();
    if (!same_buffers || !same_call) holder = nullptr;
  }
  std::shared_ptr<CpuSaved<T>> fresh;
  if (!holder) {
    fresh = std::make_shared<CpuSaved<T>>();
    AttentionSaved<T>& s = fresh->state;
    s.geometry = attention::resolve_geometry(plan.n(), options.heads, a.batch, a.q.size(),
                                             a.k.size(), a.v.size(), lengths);
    s.options = options;
    s.plan_id = plan.id();
    s.nnz = plan.nnz();
    s.attn = saved_vector<T>(attn, "attn");
    s.attn_dropped = saved_vector<T>(attn_dropped, "attn_dropped");
    s.hops = saved_vector<T>(hops, "hops");
  }
  const AttentionSaved<T>& saved = holder ? holder->state : fresh->state;
  const auto numel = static_cast<std::size_t>(a.batch * plan.n() * a.width);
  std::vector<T> dq(numel), dk(numel), dv(numel);
  const int K = options.diffusion.degree();
  std::vector<double> dtheta(want_dtheta ? static_cast<std::size_t>(K + 1) : 0);
  {
    nb::gil_scoped_release release;
    std::optional<ThreadCountGuard> guard;
    if (threads > 0) guard.emplace(threads);
    const attention::AttentionInputs<T> in{elements<T>(a.q), elements<T>(a.k), elements<T>(a.v),
                                           a.batch, lengths};
    attention::sparse_attention_backward<T>(plan, in, saved, elements<T>(dza),
                                            attention::AttentionGradients<T>{dq, dk, dv, dtheta},
                                            kernels);
  }
  nb::object dto = nb::none();
  if (want_dtheta)
    dto = nb::cast(owned_array(std::move(dtheta), {static_cast<std::size_t>(K + 1)}));
  return nb::make_tuple(owned_array(std::move(dq), a.shape), owned_array(std::move(dk), a.shape),
                        owned_array(std::move(dv), a.shape), dto);
}

void bind_diffusion(nb::module_& m) {
  nb::class_<Diffusion>(m, "Diffusion",
                        "The diffusion polynomial f(A) = sum_k theta_k A^k (plain, PPR, heat "
                        "kernel or explicit coefficients); docs/math.md.")
      .def_static("plain", &Diffusion::plain)
      .def_static(
          "ppr",
          [](double alpha, std::optional<int> hops) {
            return hops ? Diffusion::ppr(alpha, *hops) : Diffusion::ppr(alpha);
          },
          nb::arg("alpha") = Diffusion::kDefaultAlpha,
          nb::arg("hops").none() = Diffusion::kDefaultHops,
          "Truncated PPR (hops=K) or, with hops=None, the untruncated one (spectral maps only).")
      .def_static(
          "heat",
          [](double t, std::optional<int> hops) {
            return hops ? Diffusion::heat(t, *hops) : Diffusion::heat(t);
          },
          nb::arg("t") = Diffusion::kDefaultHeatTime,
          nb::arg("hops").none() = Diffusion::kDefaultHops)
      .def_static("from_coefficients", &Diffusion::from_coefficients, nb::arg("theta"))
      .def_prop_ro("family",
                   [](const Diffusion& d) {
                     switch (d.family()) {
                       case Diffusion::Family::kPlain:
                         return "plain";
                       case Diffusion::Family::kPpr:
                         return "ppr";
                       case Diffusion::Family::kHeat:
                         return "heat";
                       default:
                         return "theta";
                     }
                   })
      .def_prop_ro("is_polynomial", &Diffusion::is_polynomial)
      .def_prop_ro("alpha", &Diffusion::alpha)
      .def_prop_ro("t", &Diffusion::t)
      .def_prop_ro("hops", &Diffusion::hops)
      .def_prop_ro("theta", &Diffusion::theta)
      .def_prop_ro("degree", &Diffusion::degree)
      .def("describe", &Diffusion::describe)
      .def("compact", &Diffusion::compact)
      .def("map", nb::overload_cast<double>(&Diffusion::map, nb::const_), nb::arg("mu"))
      .def("map", nb::overload_cast<std::complex<double>>(&Diffusion::map, nb::const_),
           nb::arg("mu"))
      .def("max_on_interval", &Diffusion::max_on_interval, nb::arg("lo"), nb::arg("hi"))
      .def("max_abs_on_interval", &Diffusion::max_abs_on_interval, nb::arg("lo"), nb::arg("hi"))
      .def("__eq__", [](const Diffusion& a, const Diffusion& b) { return a == b; })
      .def("__repr__", [](const Diffusion& d) { return "Diffusion(" + d.describe() + ")"; });
}

}  // namespace

void bind_attention(nb::module_& m) {
  bind_diffusion(m);

  nb::class_<AttentionPlan>(m, "AttentionPlan",
                            "A pattern prepared for attention (transpose, permutations, row "
                            "blocks), built once and shared by every call and thread.")
      .def(
          "__init__",
          [](AttentionPlan* self, const graph::CsrGraph& g, bool dense_rows) {
            nb::gil_scoped_release release;
            new (self) AttentionPlan(g, attention::PlanOptions{dense_rows});
          },
          nb::arg("graph"), nb::arg("dense_rows") = true)
      .def_prop_ro("n", &AttentionPlan::n)
      .def_prop_ro("nnz", &AttentionPlan::nnz)
      .def_prop_ro("id", &AttentionPlan::id)
      .def_prop_ro("max_degree", &AttentionPlan::max_degree)
      .def_prop_ro("pattern", &AttentionPlan::pattern, nb::rv_policy::reference_internal)
      .def("bytes", &AttentionPlan::bytes)
      .def("__repr__", [](const AttentionPlan& p) {
        return fmt::format("AttentionPlan(n={}, nnz={})", p.n(), p.nnz());
      });

  m.def(
      "attention_forward",
      [](const AttentionPlan& plan, nb::handle q, nb::handle k, nb::handle v, int heads,
         const std::vector<double>& theta, nb::handle lengths, double dropout, std::uint64_t seed,
         std::uint64_t stream, const std::string& memory, const std::string& kernels, int threads,
         bool save) {
        const AttentionOptions o = make_options(heads, theta, dropout, seed, stream, memory);
        const Activations a = activations(plan, heads, q, k, v, cpu_array);
        std::vector<Index> l = lengths_vector(lengths, a.batch);
        return a.is_double ? forward_impl<double>(plan, a, o, std::move(l), parse_kernels(kernels),
                                                  threads, save)
                           : forward_impl<float>(plan, a, o, std::move(l), parse_kernels(kernels),
                                                 threads, save);
      },
      nb::arg("plan"), nb::arg("q").none(), nb::arg("k").none(), nb::arg("v").none(),
      nb::arg("heads"), nb::arg("theta"), nb::arg("lengths") = nb::none(), nb::arg("dropout") = 0.0,
      nb::arg("seed") = 0, nb::arg("stream") = 0, nb::arg("memory") = "store",
      nb::arg("kernels") = "optimized", nb::arg("threads") = 0, nb::arg("save") = true,
      "(z, attn [B, H, nnz], attn_dropped [B, H, nnz] or [0], hops [B, K-1, n, W] or [0]); the "
      "last three are None when save is False.");
  m.def(
      "attention_backward",
      [](const AttentionPlan& plan, nb::handle q, nb::handle k, nb::handle v, nb::handle attn,
         nb::handle attn_dropped, nb::handle hops, nb::handle dz, int heads,
         const std::vector<double>& theta, nb::handle lengths, double dropout, std::uint64_t seed,
         std::uint64_t stream, const std::string& memory, const std::string& kernels, int threads,
         bool want_dtheta) {
        const AttentionOptions o = make_options(heads, theta, dropout, seed, stream, memory);
        const Activations a = activations(plan, heads, q, k, v, cpu_array);
        std::vector<Index> l = lengths_vector(lengths, a.batch);
        const attention::Kernels kern = parse_kernels(kernels);
        return a.is_double ? backward_impl<double>(plan, a, o, std::move(l), attn, attn_dropped,
                                                   hops, dz, kern, threads, want_dtheta)
                           : backward_impl<float>(plan, a, o, std::move(l), attn, attn_dropped,
                                                  hops, dz, kern, threads, want_dtheta);
      },
      nb::arg("plan"), nb::arg("q").none(), nb::arg("k").none(), nb::arg("v").none(),
      nb::arg("attn").none(), nb::arg("attn_dropped").none(), nb::arg("hops").none(),
      nb::arg("dz").none(), nb::arg("heads"), nb::arg("theta"), nb::arg("lengths") = nb::none(),
      nb::arg("dropout") = 0.0, nb::arg("seed") = 0, nb::arg("stream") = 0,
      nb::arg("memory") = "store", nb::arg("kernels") = "optimized", nb::arg("threads") = 0,
      nb::arg("want_dtheta") = false, "(dq, dk, dv, dtheta or None), shaped like q.");
  m.def(
      "dropout_uniform",
      [](std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::size_t count) {
        std::vector<float> u(count);
        for (std::size_t i = 0; i < count; ++i) u[i] = counter_uniform(seed, stream, first + i);
        return owned_array(std::move(u), {count});
      },
      nb::arg("seed"), nb::arg("stream"), nb::arg("first"), nb::arg("count"),
      "counter_uniform(seed, stream, first + i) for i < count: the dropout draws (index = "
      "(b H + h) nnz + e).");
}

}  // namespace diffuser::python
