// Why: one parser of the attention call arguments for the CPU and CUDA bindings.
#include "AttentionArgs.hpp"

#include <fmt/format.h>

#include "Arrays.hpp"
#include "core/Diffusion.hpp"

namespace diffuser::python {

attention::MemoryMode parse_memory(const std::string& s) {
  if (s == "store") return attention::MemoryMode::kStoreHops;
  if (s == "recompute") return attention::MemoryMode::kRecompute;
  throw nb::value_error(fmt::format("memory must be 'store' or 'recompute', got '{}'", s).c_str());
}

attention::AttentionOptions make_options(int heads, const std::vector<double>& theta,
                                         double dropout, std::uint64_t seed, std::uint64_t stream,
                                         const std::string& memory) {
  attention::AttentionOptions o;
  o.heads = heads;
  o.diffusion = Diffusion::from_coefficients(theta);
  o.dropout = dropout;
  o.seed = seed;
  o.stream = stream;
  o.memory = parse_memory(memory);
  return o;
}

bool same_options(const attention::AttentionOptions& saved,
                  const attention::AttentionOptions& call) {
  return saved.heads == call.heads && saved.diffusion == call.diffusion &&
         saved.dropout == call.dropout && saved.seed == call.seed && saved.stream == call.stream &&
         saved.memory == call.memory;
}

Activations activations(const attention::AttentionPlan& plan, int heads, nb::handle q, nb::handle k,
                        nb::handle v, ArrayGetter get) {
  Activations a;
  a.q = get(q, "q");
  a.k = get(k, "k");
  a.v = get(v, "v");
  if (!has_dtype<float>(a.q) && !has_dtype<double>(a.q)) {
    throw nb::type_error(
        fmt::format("q must be float32 or float64, got {}", dtype_name(a.q.dtype())).c_str());
  }
  a.is_double = has_dtype<double>(a.q);
  const std::size_t nd = a.q.ndim();
  if (nd < 2 || nd > 4) {
    throw nb::value_error(fmt::format("q must be [n, H*D], [B, n, H*D] or [B, n, H, D], got "
                                      "shape {}",
                                      shape_string(a.q))
                              .c_str());
  }
  for (std::size_t i = 0; i < nd; ++i) a.shape.push_back(a.q.shape(i));
  const std::size_t n_axis = nd == 2 ? 0 : 1;
  if (a.shape[n_axis] != static_cast<std::size_t>(plan.n())) {
    throw nb::value_error(fmt::format("q has {} tokens (axis {}) but the pattern has n = {}",
                                      a.shape[n_axis], n_axis, plan.n())
                              .c_str());
  }
  if (nd == 4 && a.shape[2] != static_cast<std::size_t>(heads)) {
    throw nb::value_error(
        fmt::format("q is [B, n, H, D] = {} but heads = {}", shape_string(a.q), heads).c_str());
  }
  a.batch = nd == 2 ? 1 : static_cast<std::int64_t>(a.shape[0]);
  a.width = static_cast<std::int64_t>(a.shape.back()) * (nd == 4 ? heads : 1);
  for (const auto& [t, name] : {std::pair{&a.k, "k"}, std::pair{&a.v, "v"}}) {
    if (t->dtype() != a.q.dtype()) {
      throw nb::type_error(fmt::format("{} has dtype {} but q has {}", name, dtype_name(t->dtype()),
                                       dtype_name(a.q.dtype()))
                               .c_str());
    }
    if (shape_string(*t) != shape_string(a.q)) {
      throw nb::value_error(
          fmt::format("{} has shape {} but q has {}", name, shape_string(*t), shape_string(a.q))
              .c_str());
    }
  }
  return a;
}

std::vector<graph::Index> lengths_vector(nb::handle lengths, std::int64_t batch) {
  if (lengths.is_none()) return {};
  std::vector<graph::Index> l = index_vector(lengths, "lengths");
  if (static_cast<std::int64_t>(l.size()) != batch) {
    throw nb::value_error(
        fmt::format("lengths has {} entries but the batch has {} sequences", l.size(), batch)
            .c_str());
  }
  return l;
}

}  // namespace diffuser::python
