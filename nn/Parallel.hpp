// Why: a parallel region costs microseconds to start (milliseconds on a loaded machine), more
// than the tiny tensors of tests and small heads take to compute. Kernels open a team only when
// the work is large enough. This never changes results: every kernel splits its work in a way
// that does not depend on the number of threads.
#pragma once

#include <cstdint>

namespace diffuser::nn {

/// Minimum work (elements touched, or multiply-adds for GEMMs) for a kernel to run in parallel.
/// For GEMMs it is also below Eigen's own threshold for multi-threading (2 x 50000 multiply-adds
/// in Eigen 3.4's parallelize_gemm), so a GEMM run outside a team stays single-threaded too.
inline constexpr std::int64_t kMinParallelWork = 32768;

}  // namespace diffuser::nn
