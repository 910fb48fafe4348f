// Why: libFuzzer harness for the experiment config reader and --set overrides
// (experiments/Config.hpp). Input layout: feed_config() in fuzz/ReaderFeeds.hpp. A value or
// diffuser::Error is the expected outcome; a crash, sanitizer report, other exception, hang or huge
// allocation is a finding (docs/reliability.md).
#include <cstddef>
#include <cstdint>

#include "core/Error.hpp"
#include "fuzz/ReaderFeeds.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    diffuser::fuzz::feed_config({data, size});
  } catch (const diffuser::Error&) {
  }
  return 0;
}
