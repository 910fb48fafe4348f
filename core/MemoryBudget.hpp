// Why: a request such as `graph build --n 2000000000 --spec full` or a dense n x n export of a
// huge graph must end in a clear refusal, not in minutes of swapping followed by the kernel's
// OOM killer (a signal, no message). Code that is about to allocate an amount derived from user
// input compares it with the machine's physical memory first.
#pragma once

#include <cstdint>
#include <string>

namespace diffuser {

/// Physical memory of this machine in bytes (sysconf(_SC_PHYS_PAGES) * page size; 0 when
/// unknown).
std::uint64_t physical_memory_bytes();

/// Throws diffuser::Error "<what> needs <X> GiB of memory, more than this machine's <Y> GiB"
/// when `bytes` exceeds the physical memory. Does nothing when the size is unknown.
void check_memory_budget(std::uint64_t bytes, const std::string& what);

}  // namespace diffuser
