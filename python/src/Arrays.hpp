// Why: every binding takes arrays from Python (numpy arrays, torch tensors, anything with the
// buffer protocol or DLPack) and hands results back without copies. The checks a C++ span
// needs (CPU memory, C-contiguous, the right dtype and rank) are made here once, with messages
// that name the argument, so a bad array is a Python exception and never a crash.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::python {

namespace nb = nanobind;

/// "float32", "int64", ... for a DLPack dtype.
std::string dtype_name(nb::dlpack::dtype d);

/// `obj` as an ndarray; TypeError naming `name` when it is neither a buffer nor a DLPack
/// tensor. Then checks that it lives in CPU memory and is C-contiguous (ValueError otherwise,
/// saying how to fix it). Torch tensors that require grad must be detached first.
nb::ndarray<> cpu_array(nb::handle obj, const std::string& name);

/// As cpu_array, for arrays in CUDA device memory (torch CUDA tensors through DLPack); the
/// caller checks the device index (a.device_id()).
nb::ndarray<> cuda_array(nb::handle obj, const std::string& name);

/// The shape of `a` as a string, e.g. "[2, 16, 64]".
std::string shape_string(const nb::ndarray<>& a);

/// True when `a` holds elements of type T.
template <typename T>
bool has_dtype(const nb::ndarray<>& a) {
  return a.dtype() == nb::dtype<T>();
}

/// The elements of a checked array as a span (the array must hold T: see has_dtype).
template <typename T>
std::span<const T> elements(const nb::ndarray<>& a) {
  return {static_cast<const T*>(a.data()), a.size()};
}

/// A 1-D int32 index array from an int32 or int64 array (int64 values are range-checked),
/// e.g. CSR offsets or valid lengths; TypeError for other dtypes, ValueError for an int64
/// value outside int32 or a rank other than 1.
std::vector<graph::Index> index_vector(nb::handle obj, const std::string& name);

/// A numpy array that owns `data` (moved into the array's capsule; no copy) with `shape`.
template <typename T>
nb::ndarray<nb::numpy, T> owned_array(std::vector<T>&& data, std::vector<std::size_t> shape) {
  auto* held = new std::vector<T>(std::move(data));
  nb::capsule owner(held, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(held->data(), shape.size(), shape.data(), owner);
}

/// A numpy array viewing `data` (size = product of shape) and keeping `owner` alive.
template <typename T>
nb::ndarray<nb::numpy, T> shared_array(T* data, std::vector<std::size_t> shape,
                                       std::shared_ptr<void> owner) {
  auto* held = new std::shared_ptr<void>(std::move(owner));
  nb::capsule cap(held, [](void* p) noexcept { delete static_cast<std::shared_ptr<void>*>(p); });
  return nb::ndarray<nb::numpy, T>(data, shape.size(), shape.data(), cap);
}

}  // namespace diffuser::python
