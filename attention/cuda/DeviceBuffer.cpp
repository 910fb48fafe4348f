// Why: the allocation side of DeviceBuffer: cudaMalloc with a message naming the buffer and the
// size on failure, and the byte counters behind the benchmarks' peak-memory figures.
#include "attention/cuda/DeviceBuffer.hpp"

#include <atomic>

#include "core/Error.hpp"

namespace diffuser::attention::cuda {

namespace {
std::atomic<std::size_t> g_in_use{0};
std::atomic<std::size_t> g_peak{0};
}  // namespace

std::size_t device_bytes_in_use() { return g_in_use.load(); }

std::size_t device_peak_bytes() { return g_peak.load(); }

void reset_device_peak_bytes() { g_peak.store(g_in_use.load()); }

namespace detail {

void* device_allocate(std::size_t bytes, const char* what) {
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    const bool known = cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess;
    (void)cudaGetLastError();
    if (known) {
      fail("CUDA: cannot allocate {} ({} bytes, {:.2f} GiB): {} ({:.2f} GiB free of {:.2f} GiB)",
           what, bytes, bytes / 1073741824.0, cudaGetErrorString(status), free_bytes / 1073741824.0,
           total_bytes / 1073741824.0);
    }
    fail("CUDA: cannot allocate {} ({} bytes): {}", what, bytes, cudaGetErrorString(status));
  }
  const std::size_t now = g_in_use.fetch_add(bytes) + bytes;
  std::size_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return pointer;
}

void device_release(void* pointer, std::size_t bytes) noexcept {
  // cudaFree can only fail here for a context already torn down (process exit); nothing useful
  // can be done about it in a destructor.
  (void)cudaFree(pointer);
  g_in_use.fetch_sub(bytes);
}

}  // namespace detail

}  // namespace diffuser::attention::cuda
