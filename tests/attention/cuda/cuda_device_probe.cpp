// Why: makes "no GPU" visible in ctest. With a device it prints the device and exits 0; without
// one it checks that the CUDA backend refuses cleanly (diffuser::Error, no crash), prints
// "SKIPPED: no CUDA device (...)" and exits 77, which ctest reports as Skipped
// (SKIP_RETURN_CODE). A backend that does not refuse cleanly exits 1 (Failed).
#include <cstdio>
#include <exception>
#include <string>

#include "attention/AttentionPlan.hpp"
#include "attention/cuda/CudaAttention.hpp"
#include "attention/cuda/CudaDevice.hpp"
#include "core/Error.hpp"
#include "graph/CsrGraph.hpp"

namespace {

// Runs `action`, expecting diffuser::Error with `needle` in its message.
template <typename F>
bool refuses(const char* what, const std::string& needle, F&& action) {
  try {
    action();
  } catch (const diffuser::Error& e) {
    if (std::string(e.what()).find(needle) != std::string::npos) return true;
    std::printf("FAIL: %s threw an unexpected message: %s\n", what, e.what());
    return false;
  } catch (const std::exception& e) {
    std::printf("FAIL: %s threw a non-diffuser exception: %s\n", what, e.what());
    return false;
  }
  std::printf("FAIL: %s did not throw without a device\n", what);
  return false;
}

}  // namespace

int main() {
  namespace cuda = diffuser::attention::cuda;
  std::string reason;
  if (cuda::cuda_available(&reason)) {
    for (int d = 0; d < cuda::cuda_device_count(); ++d) {
      const cuda::CudaDeviceInfo info = cuda::cuda_device_info(d);
      std::printf("CUDA device %d: %s (compute capability %d.%d, %.1f GiB, %d SMs)\n", d,
                  info.name.c_str(), info.major, info.minor, info.total_bytes / 1073741824.0,
                  info.multiprocessors);
    }
    return 0;
  }
  const diffuser::graph::CsrGraph g(2, {0, 1, 2}, {0, 1});
  const diffuser::attention::AttentionPlan plan(g);
  bool ok = refuses("CudaAttention construction", "no usable CUDA device",
                    [&] { cuda::CudaAttention attention(plan); });
  ok = refuses("counter_uniform_on_device", "no usable CUDA device",
               [] { (void)cuda::counter_uniform_on_device(0, 0, 0, 4); }) &&
       ok;
  ok = ok && cuda::pointer_location(&reason) == cuda::MemoryLocation::kHost;
  if (!ok) return 1;
  std::printf("SKIPPED: no CUDA device (%s); checked that the CUDA backend refuses cleanly\n",
              reason.c_str());
  return 77;
}
