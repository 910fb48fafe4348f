// Why: device queries that never throw for "no GPU", so callers can skip or fall back cleanly.
#include "attention/cuda/CudaDevice.hpp"

#include <cuda_runtime_api.h>

#include "attention/cuda/CudaCheck.hpp"
#include "core/Error.hpp"

namespace diffuser::attention::cuda {

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

bool cuda_available(std::string* reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    if (reason != nullptr) {
      *reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
    }
    return false;
  }
  if (count == 0) {
    if (reason != nullptr) *reason = "cudaGetDeviceCount reports 0 devices";
    return false;
  }
  return true;
}

CudaDeviceInfo cuda_device_info(int device) {
  const int count = cuda_device_count();
  DIFFUSER_CHECK(device >= 0 && device < count,
                 "CUDA: device {} does not exist ({} device(s) visible)", device, count);
  cudaDeviceProp prop{};
  DIFFUSER_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  CudaDeviceInfo info;
  info.index = device;
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.total_bytes = prop.totalGlobalMem;
  info.multiprocessors = prop.multiProcessorCount;
  return info;
}

MemoryLocation pointer_location(const void* pointer) {
  if (pointer == nullptr || cuda_device_count() == 0) return MemoryLocation::kHost;
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, pointer) != cudaSuccess) {
    (void)cudaGetLastError();
    return MemoryLocation::kHost;
  }
  return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged
             ? MemoryLocation::kDevice
             : MemoryLocation::kHost;
}

void check_device(int device) {
  std::string reason;
  if (!cuda_available(&reason)) fail("CUDA attention: no usable CUDA device ({})", reason);
  const int count = cuda_device_count();
  DIFFUSER_CHECK(device >= 0 && device < count,
                 "CUDA attention: device {} does not exist ({} device(s) visible)", device, count);
}

ScopedDevice::ScopedDevice(int device) {
  check_device(device);
  DIFFUSER_CUDA_CHECK(cudaGetDevice(&previous_));
  DIFFUSER_CUDA_CHECK(cudaSetDevice(device));
}

ScopedDevice::~ScopedDevice() { (void)cudaSetDevice(previous_); }

}  // namespace diffuser::attention::cuda
