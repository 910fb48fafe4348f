// Why: the C++ checkpoint format (nn/Checkpoint.hpp: versioned header, JSON metadata, named
// tensors, CRC-32) read and written from Python, so a PyTorch model can load weights trained
// by `diffuser train` and be exported for `diffuser eval`. The mapping of parameter names to
// the PyTorch module lives in diffuser/checkpoint.py.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include <cstring>

#include "Arrays.hpp"
#include "Bindings.hpp"
#include "nn/Checkpoint.hpp"

namespace diffuser::python {

namespace {

template <typename T>
nb::object tensor_array(const nn::CheckpointTensor& t) {
  std::vector<T> v(t.numel());
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
  std::vector<std::size_t> shape(t.shape.begin(), t.shape.end());
  return nb::cast(owned_array(std::move(v), std::move(shape)));
}

template <typename T>
void add_tensor(nn::Checkpoint& c, const std::string& name, const nb::ndarray<>& a) {
  std::vector<std::int64_t> shape;
  for (std::size_t i = 0; i < a.ndim(); ++i) shape.push_back(static_cast<std::int64_t>(a.shape(i)));
  c.add<T>(name, std::move(shape), elements<T>(a));
}

}  // namespace

void bind_checkpoint(nb::module_& m) {
  m.def(
      "load_checkpoint",
      [](const std::string& path) {
        nn::Checkpoint c;
        {
          nb::gil_scoped_release release;
          c = nn::load_checkpoint(path);
        }
        nb::list tensors;
        for (const nn::CheckpointTensor& t : c.tensors()) {
          nb::object a;
          switch (t.dtype) {
            case nn::DType::kF32:
              a = tensor_array<float>(t);
              break;
            case nn::DType::kF64:
              a = tensor_array<double>(t);
              break;
            case nn::DType::kI64:
              a = tensor_array<std::int64_t>(t);
              break;
            case nn::DType::kU64:
              a = tensor_array<std::uint64_t>(t);
              break;
          }
          tensors.append(nb::make_tuple(t.name, a));
        }
        return nb::make_tuple(c.meta.dump(), tensors);
      },
      nb::arg("path"),
      "(meta as a JSON string, [(name, array), ...] in file order); verified (CRC, sizes).");
  m.def(
      "save_checkpoint",
      [](const std::string& path, const std::string& meta, nb::list tensors) {
        nn::Checkpoint c;
        try {
          c.meta = nlohmann::json::parse(meta);
        } catch (const nlohmann::json::exception& e) {
          throw nb::value_error(fmt::format("meta is not valid JSON: {}", e.what()).c_str());
        }
        if (!c.meta.is_object()) throw nb::value_error("meta must be a JSON object");
        for (nb::handle item : tensors) {
          const auto pair = nb::cast<nb::tuple>(item);
          if (pair.size() != 2) throw nb::value_error("tensors must be (name, array) pairs");
          const auto name = nb::cast<std::string>(pair[0]);
          const nb::ndarray<> a = cpu_array(pair[1], "tensor '" + name + "'");
          if (has_dtype<float>(a)) {
            add_tensor<float>(c, name, a);
          } else if (has_dtype<double>(a)) {
            add_tensor<double>(c, name, a);
          } else if (has_dtype<std::int64_t>(a)) {
            add_tensor<std::int64_t>(c, name, a);
          } else if (has_dtype<std::uint64_t>(a)) {
            add_tensor<std::uint64_t>(c, name, a);
          } else {
            throw nb::type_error(fmt::format("tensor '{}' has dtype {}; checkpoints hold float32, "
                                             "float64, int64 or uint64",
                                             name, dtype_name(a.dtype()))
                                     .c_str());
          }
        }
        nb::gil_scoped_release release;
        nn::save_checkpoint(path, c);
      },
      nb::arg("path"), nb::arg("meta"), nb::arg("tensors"),
      "Writes a checkpoint atomically: meta (JSON object text) and (name, array) pairs.");
}

}  // namespace diffuser::python
