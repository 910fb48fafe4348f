// Why: libFuzzer harness for the IDX reader and the Fashion-MNIST loader (experiments/IdxArray.hpp,
// FashionMnist.hpp). Input layout: feed_idx() in fuzz/ReaderFeeds.hpp. A value or diffuser::Error
// is the expected outcome; a crash, sanitizer report, other exception, hang or huge allocation is a
// finding (docs/reliability.md).
#include <cstddef>
#include <cstdint>

#include "core/Error.hpp"
#include "fuzz/ReaderFeeds.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    diffuser::fuzz::feed_idx({data, size});
  } catch (const diffuser::Error&) {
  }
  return 0;
}
