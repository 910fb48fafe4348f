// Why: the array checks shared by every binding (see Arrays.hpp).
#include "Arrays.hpp"

#include <fmt/format.h>

#include <limits>

namespace diffuser::python {

std::string dtype_name(nb::dlpack::dtype d) {
  const char* kind = "unknown";
  switch (static_cast<nb::dlpack::dtype_code>(d.code)) {
    case nb::dlpack::dtype_code::Int:
      kind = "int";
      break;
    case nb::dlpack::dtype_code::UInt:
      kind = "uint";
      break;
    case nb::dlpack::dtype_code::Float:
      kind = "float";
      break;
    case nb::dlpack::dtype_code::Bfloat:
      kind = "bfloat";
      break;
    case nb::dlpack::dtype_code::Complex:
      kind = "complex";
      break;
    case nb::dlpack::dtype_code::Bool:
      return "bool";
    default:
      break;
  }
  return fmt::format("{}{}", kind, static_cast<int>(d.bits));
}

std::string shape_string(const nb::ndarray<>& a) {
  std::string s = "[";
  for (std::size_t i = 0; i < a.ndim(); ++i) s += fmt::format("{}{}", i ? ", " : "", a.shape(i));
  return s + "]";
}

namespace {

/// `obj` as a C-contiguous ndarray in memory of DLPack device type `device_type`.
nb::ndarray<> array_on(nb::handle obj, const std::string& name, int device_type) {
  nb::ndarray<> a;
  if (obj.is_none() || !nb::try_cast(obj, a)) {
    const std::string type = nb::type_name(obj.type()).c_str();
    std::string hint;
    if (nb::hasattr(obj, "requires_grad") && nb::cast<bool>(obj.attr("requires_grad"))) {
      hint = " (a torch tensor that requires grad: use diffuser.torch, or .detach() it)";
    }
    throw nb::type_error(
        fmt::format("{} must be an array (numpy array or tensor), got {}{}", name, type, hint)
            .c_str());
  }
  if (a.device_type() != device_type) {
    const bool cpu = device_type == nb::device::cpu::value;
    throw nb::value_error(fmt::format("{} must be in {} memory (DLPack device type {}); this "
                                      "function runs on the {}",
                                      name, cpu ? "CPU" : "CUDA device", a.device_type(),
                                      cpu ? "CPU" : "GPU")
                              .c_str());
  }
  // C order: the last axis has stride 1 and each stride is the product of the later extents
  // (extent-1 axes, and every axis of an empty array, may carry any stride).
  std::int64_t expected = 1;
  for (std::size_t i = a.ndim(); a.size() > 0 && i-- > 0;) {
    if (a.shape(i) != 1 && a.stride(i) != expected) {
      throw nb::value_error(fmt::format("{} must be C-contiguous (shape {}, stride {} on axis "
                                        "{}); use np.ascontiguousarray() or .contiguous()",
                                        name, shape_string(a), a.stride(i), i)
                                .c_str());
    }
    expected *= static_cast<std::int64_t>(a.shape(i));
  }
  return a;
}

}  // namespace

nb::ndarray<> cpu_array(nb::handle obj, const std::string& name) {
  return array_on(obj, name, nb::device::cpu::value);
}

nb::ndarray<> cuda_array(nb::handle obj, const std::string& name) {
  return array_on(obj, name, nb::device::cuda::value);
}

std::vector<graph::Index> index_vector(nb::handle obj, const std::string& name) {
  const nb::ndarray<> a = cpu_array(obj, name);
  if (a.ndim() != 1) {
    throw nb::value_error(
        fmt::format("{} must be 1-D, got shape {}", name, shape_string(a)).c_str());
  }
  if (has_dtype<std::int32_t>(a)) {
    const auto e = elements<std::int32_t>(a);
    return {e.begin(), e.end()};
  }
  if (has_dtype<std::int64_t>(a)) {
    const auto e = elements<std::int64_t>(a);
    std::vector<graph::Index> out(e.size());
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (e[i] < std::numeric_limits<graph::Index>::min() ||
          e[i] > std::numeric_limits<graph::Index>::max()) {
        throw nb::value_error(
            fmt::format("{}[{}] = {} does not fit int32 (CSR indices are int32)", name, i, e[i])
                .c_str());
      }
      out[i] = static_cast<graph::Index>(e[i]);
    }
    return out;
  }
  throw nb::type_error(
      fmt::format("{} must be int32 or int64, got {}", name, dtype_name(a.dtype())).c_str());
}

}  // namespace diffuser::python
