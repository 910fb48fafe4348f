// Why: NumPy's .npy is how researchers move tensors in and out of diffuser (Q, K, V, gradients,
// attention weights). Format:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace diffuser {

/// Element types diffuser reads and writes (little-endian, as NumPy's '<f4', '<f8', '<i4', '<i8').
enum class DType { kFloat32, kFloat64, kInt32, kInt64 };

/// Bytes per element of a dtype.
std::size_t dtype_size(DType dtype);
/// NumPy descr string of a dtype, e.g. "<f4".
const char* dtype_descr(DType dtype);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kFloat64;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType dtype_of<std::int64_t>() {
  return DType::kInt64;
}

/// A C-order n-dimensional array read from or to be written to a .npy file.
struct NpyArray {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;  ///< empty shape = scalar (one element)
  std::vector<std::byte> bytes;     ///< numel() * dtype_size(dtype) bytes, C order

  /// Number of elements (product of shape; 1 for a scalar).
  std::int64_t numel() const;

  /// Elements converted to T (any of the four dtypes converts to any numeric T).
  template <typename T>
  std::vector<T> to_vector() const;

  /// Builds an array from typed data; data.size() must equal the product of shape.
  template <typename T>
  static NpyArray from(std::span<const T> data, std::vector<std::int64_t> shape);
};

/// Reads a .npy file (format versions 1.0, 2.0 and 3.0). diffuser::Error names the file and the
/// problem for: missing file, bad magic, unsupported version, malformed header, unsupported
/// dtype (anything but <f4 <f8 <i4 <i8), Fortran order, negative dimension, truncated data or
/// trailing bytes.
NpyArray read_npy(const std::string& path);

/// Parses .npy content held in memory; `name` is used in error messages.
NpyArray parse_npy(std::span<const std::byte> content, const std::string& name);

/// Writes a .npy file atomically (version 1.0 header, or 2.0 when the header needs it).
void write_npy(const std::string& path, const NpyArray& array);

/// Serialises an array to .npy bytes (what write_npy writes).
std::vector<std::byte> serialize_npy(const NpyArray& array);

}  // namespace diffuser
