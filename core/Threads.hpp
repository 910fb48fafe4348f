// Why: one place decides how many threads the CPU kernels use, so tests can compare 1 vs N
// threads and the CLI can expose --threads.
#pragma once

namespace diffuser {

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
