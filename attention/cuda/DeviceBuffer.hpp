// Why: device memory must be released on every path, including when an exception unwinds
// through a half-finished call. DeviceBuffer owns one cudaMalloc allocation (RAII, move-only)
// and counts the bytes it holds, so benchmarks can report the peak device memory of a path.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <span>
#include <utility>

#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/DeviceMemory.hpp"

namespace diffuser::attention::cuda {

namespace detail {
void* device_allocate(std::size_t bytes, const char* what);
void device_release(void* pointer, std::size_t bytes) noexcept;
}  // namespace detail

/// An owned array of `size()` elements of trivially copyable T in device memory of the device
/// current at construction. Contents are uninitialised unless stated. Move-only.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;

  /// Allocates `count` elements (nothing for count = 0). Throws diffuser::Error naming `what`
  /// and the size when cudaMalloc fails.
  explicit DeviceBuffer(std::size_t count, const char* what = "device buffer") {
    allocate(count, what);
  }

  /// Allocates and uploads `host` (synchronous copy).
  DeviceBuffer(std::span<const T> host, const char* what) {
    allocate(host.size(), what);
    upload(host);
  }

  ~DeviceBuffer() { reset(); }

  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }
  bool empty() const { return size_ == 0; }

  /// Frees the memory (size becomes 0).
  void reset() noexcept {
    if (data_ != nullptr) detail::device_release(data_, bytes());
    data_ = nullptr;
    size_ = 0;
  }

  /// Makes room for at least `count` elements; grows by reallocation (old contents are
  /// discarded), never shrinks. Used for workspaces reused across calls.
  void ensure(std::size_t count, const char* what = "device workspace") {
    if (count <= size_) return;
    reset();
    allocate(count, what);
  }

  /// Copies host -> device (synchronous); host.size() must not exceed size().
  void upload(std::span<const T> host) {
    if (host.empty()) return;
    DIFFUSER_CUDA_CHECK(
        cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }

 private:
  void allocate(std::size_t count, const char* what) {
    if (count == 0) return;
    data_ = static_cast<T*>(detail::device_allocate(count * sizeof(T), what));
    size_ = count;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace diffuser::attention::cuda
