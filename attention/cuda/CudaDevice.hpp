// Why: callers without CUDA headers (the CLI, tests, the CPU side) need to ask whether a GPU is
// usable, what it is, and where a tensor lives, to pick the backend by the tensors' location.
// This header includes no CUDA header.
#pragma once

#include <cstddef>
#include <string>

namespace diffuser::attention::cuda {

/// Properties of one CUDA device.
struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0;  ///< compute capability major (9 for H100/H200)
  int minor = 0;
  std::size_t total_bytes = 0;
  int multiprocessors = 0;
};

/// Number of CUDA devices; 0 when there is none or no usable driver (never throws).
int cuda_device_count();

/// True when at least one CUDA device is usable. Otherwise false, and `reason` (when not null)
/// receives why, e.g. "cudaGetDeviceCount: no CUDA-capable device is detected".
bool cuda_available(std::string* reason = nullptr);

/// Properties of device `device`; throws diffuser::Error for an invalid index.
CudaDeviceInfo cuda_device_info(int device);

/// Throws diffuser::Error when no device is usable ("CUDA attention: no usable CUDA device
/// (<reason>)") or `device` is not a visible device index ("CUDA attention: device 3 does not
/// exist (1 device(s) visible)").
void check_device(int device);

/// Makes `device` the calling thread's current CUDA device and restores the previous one on
/// destruction, so a call into the backend leaves the caller's current device (e.g. the one
/// PyTorch set) as it found it. Throws diffuser::Error as check_device(), or when the current
/// device cannot be read or set.
class ScopedDevice {
 public:
  explicit ScopedDevice(int device);
  ~ScopedDevice();
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;

 private:
  int previous_ = 0;
};

/// Where memory lives, as far as CUDA knows.
enum class MemoryLocation {
  kHost,    ///< ordinary or pinned host memory (or a pointer CUDA does not know)
  kDevice,  ///< device memory, or managed memory (accessible to kernels)
};

/// Location of `pointer` (cudaPointerGetAttributes); kHost when no device is usable.
MemoryLocation pointer_location(const void* pointer);

}  // namespace diffuser::attention::cuda
