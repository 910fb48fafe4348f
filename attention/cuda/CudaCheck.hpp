// Why: every CUDA runtime, cuSPARSE and cuBLAS call can fail (no device, out of memory, an
// unsupported argument, an earlier kernel that faulted). Each call goes through one of these
// macros so a failure becomes a diffuser::Error naming the call, the file and the line, instead
// of a silently wrong result. Usable from .cpp (g++) and .cu (nvcc) files alike.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusparse.h>

namespace diffuser::attention::cuda {

/// Throws diffuser::Error "CUDA call `call` failed at file:line: <name>: <description>".
[[noreturn]] void throw_cuda_error(const char* call, cudaError_t status, const char* file,
                                   int line);

/// Throws diffuser::Error naming the cuSPARSE call, the status name and its description.
[[noreturn]] void throw_cusparse_error(const char* call, cusparseStatus_t status, const char* file,
                                       int line);

/// Throws diffuser::Error naming the cuBLAS call and the status name.
[[noreturn]] void throw_cublas_error(const char* call, cublasStatus_t status, const char* file,
                                     int line);

/// Checks the launch of kernel `name` (cudaGetLastError). When the environment variable
/// DIFFUSER_CUDA_SYNC is set to a non-empty value other than 0, also synchronises the device,
/// so an asynchronous fault (illegal address, ...) is reported against the kernel that caused
/// it rather than against a later call.
void check_launch(const char* name, const char* file, int line);

/// True when DIFFUSER_CUDA_SYNC asks for a synchronisation after every kernel (read once).
bool sync_after_launch();

}  // namespace diffuser::attention::cuda

/// DIFFUSER_CUDA_CHECK(cudaMalloc(...)): throws diffuser::Error naming the call on failure.
#define DIFFUSER_CUDA_CHECK(call)                                                           \
  do {                                                                                      \
    const cudaError_t diffuser_cuda_status_ = (call);                                       \
    if (diffuser_cuda_status_ != cudaSuccess) {                                             \
      ::diffuser::attention::cuda::throw_cuda_error(#call, diffuser_cuda_status_, __FILE__, \
                                                    __LINE__);                              \
    }                                                                                       \
  } while (0)

/// DIFFUSER_CUSPARSE_CHECK(cusparseSpMM(...)): throws diffuser::Error naming the call.
#define DIFFUSER_CUSPARSE_CHECK(call)                                                     \
  do {                                                                                    \
    const cusparseStatus_t diffuser_cusparse_status_ = (call);                            \
    if (diffuser_cusparse_status_ != CUSPARSE_STATUS_SUCCESS) {                           \
      ::diffuser::attention::cuda::throw_cusparse_error(#call, diffuser_cusparse_status_, \
                                                        __FILE__, __LINE__);              \
    }                                                                                     \
  } while (0)

/// DIFFUSER_CUBLAS_CHECK(cublasSgemm(...)): throws diffuser::Error naming the call.
#define DIFFUSER_CUBLAS_CHECK(call)                                                             \
  do {                                                                                          \
    const cublasStatus_t diffuser_cublas_status_ = (call);                                      \
    if (diffuser_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                     \
      ::diffuser::attention::cuda::throw_cublas_error(#call, diffuser_cublas_status_, __FILE__, \
                                                      __LINE__);                                \
    }                                                                                           \
  } while (0)

/// DIFFUSER_CUDA_CHECK_LAUNCH("kernel_name"): checks the kernel launch just made.
#define DIFFUSER_CUDA_CHECK_LAUNCH(name) \
  ::diffuser::attention::cuda::check_launch(name, __FILE__, __LINE__)
