// Why: keeps <omp.h> out of headers.
#include "core/Threads.hpp"

#include <omp.h>

#include "core/Error.hpp"

namespace diffuser {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int n) {
  DIFFUSER_CHECK(n >= 1, "thread count must be >= 1 (got {})", n);
  omp_set_num_threads(n);
}

}  // namespace diffuser
