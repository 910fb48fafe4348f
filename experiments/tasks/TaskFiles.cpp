// Why: see TaskFiles.hpp.
#include "experiments/tasks/TaskFiles.hpp"

#include "core/Error.hpp"

namespace diffuser::experiments {

std::string require_file(const std::filesystem::path& p, const std::string& what) {
  DIFFUSER_CHECK(std::filesystem::exists(p), "{}: {} not found", p.string(), what);
  return p.string();
}

}  // namespace diffuser::experiments
