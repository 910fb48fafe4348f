// Why: the error paths of the CUDA check macros, out of line so the headers stay light and the
// messages are formatted in one place.
#include "attention/cuda/CudaCheck.hpp"

#include <cstdlib>
#include <cstring>

#include "core/Error.hpp"

namespace diffuser::attention::cuda {

namespace {

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "unknown cuBLAS status";
}

}  // namespace

void throw_cuda_error(const char* call, cudaError_t status, const char* file, int line) {
  // Clear a non-sticky error so a later, unrelated call does not report it again.
  (void)cudaGetLastError();
  fail("CUDA call `{}` failed at {}:{}: {}: {}{}", call, file, line, cudaGetErrorName(status),
       cudaGetErrorString(status),
       sync_after_launch() ? ""
                           : " (an earlier asynchronous kernel may have caused it; rerun with "
                             "DIFFUSER_CUDA_SYNC=1 to locate it)");
}

void throw_cusparse_error(const char* call, cusparseStatus_t status, const char* file, int line) {
  fail("cuSPARSE call `{}` failed at {}:{}: {}: {}", call, file, line, cusparseGetErrorName(status),
       cusparseGetErrorString(status));
}

void throw_cublas_error(const char* call, cublasStatus_t status, const char* file, int line) {
  fail("cuBLAS call `{}` failed at {}:{}: {}", call, file, line, cublas_status_name(status));
}

bool sync_after_launch() {
  static const bool enabled = [] {
    const char* value = std::getenv("DIFFUSER_CUDA_SYNC");
    return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
  }();
  return enabled;
}

void check_launch(const char* name, const char* file, int line) {
  cudaError_t status = cudaGetLastError();
  if (status == cudaSuccess && sync_after_launch()) status = cudaDeviceSynchronize();
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    fail("CUDA kernel {} failed at {}:{}: {}: {}", name, file, line, cudaGetErrorName(status),
         cudaGetErrorString(status));
  }
}

}  // namespace diffuser::attention::cuda
