// Why: the physical-memory query and refusal behind check_memory_budget (POSIX sysconf).
#include "core/MemoryBudget.hpp"

#include <unistd.h>

#include "core/Error.hpp"

namespace diffuser {

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

void check_memory_budget(std::uint64_t bytes, const std::string& what) {
  const std::uint64_t have = physical_memory_bytes();
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  DIFFUSER_CHECK(have == 0 || bytes <= have,
                 "{} needs {:.1f} GiB of memory, more than this machine's {:.1f} GiB", what,
                 static_cast<double>(bytes) / kGiB, static_cast<double>(have) / kGiB);
}

}  // namespace diffuser
