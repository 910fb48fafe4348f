// Why: one place decides how many threads the CPU kernels use, so tests can compare 1 vs N
// threads and the CLI can expose --threads.
#pragma once

#include <cstdint>

namespace diffuser {

/// Below this much work (multiply-adds or element updates) a kernel runs on the calling thread:
/// opening an OpenMP parallel region costs more than the work (e.g. n = 8, W = 8 attention).
inline constexpr std::int64_t kParallelMinWork = std::int64_t{1} << 16;

/// Whether a region of `work` units is worth a parallel region: `#pragma omp parallel
/// if (parallel_worth(work))`. Kernels give every output to one thread in a fixed order, so the
/// result is the same bit for bit either way.
inline bool parallel_worth(std::int64_t work) { return work >= kParallelMinWork; }

/// Number of threads the OpenMP kernels will use (omp_get_max_threads()).
int num_threads();

/// Sets the number of threads for subsequent kernels; n must be >= 1.
void set_num_threads(int n);

/// RAII: sets the thread count for a scope and restores the previous value.
class ThreadCountGuard {
 public:
  explicit ThreadCountGuard(int n) : previous_(num_threads()) { set_num_threads(n); }
  ~ThreadCountGuard() { set_num_threads(previous_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int previous_;
};

}  // namespace diffuser
