// Why: names of the CUDA paths for the CLI, benchmarks and logs.
#include "attention/cuda/CudaAttentionConfig.hpp"

#include "core/Error.hpp"

namespace diffuser::attention::cuda {

const char* cuda_path_name(CudaPath path) {
  return path == CudaPath::kCusparse ? "cusparse" : "fused";
}

CudaPath parse_cuda_path(const std::string& name) {
  if (name == "cusparse") return CudaPath::kCusparse;
  if (name == "fused") return CudaPath::kFused;
  fail("CUDA attention: unknown path '{}' (expected cusparse or fused)", name);
}

}  // namespace diffuser::attention::cuda
