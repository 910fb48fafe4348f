// Why: benchmarks and the Python binding report the device memory the backend holds (its own
// cudaMalloc allocations bypass every framework's allocator); these counters are kept by
// DeviceBuffer. No CUDA headers, so code outside the backend can read them.
#pragma once

#include <cstddef>

namespace diffuser::attention::cuda {

/// Bytes currently held by all DeviceBuffers of the process (every device together).
std::size_t device_bytes_in_use();

/// Largest value device_bytes_in_use() reached since the last reset_device_peak_bytes().
std::size_t device_peak_bytes();

/// Sets the peak to the current use (start of a measured region).
void reset_device_peak_bytes();

}  // namespace diffuser::attention::cuda
