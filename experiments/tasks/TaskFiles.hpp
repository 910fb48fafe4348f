// Why: a task that reads files should fail with the file's path and what it was for, not with
// a stream error deep in a reader; tasks check their inputs with this before reading.
#pragma once

#include <filesystem>
#include <string>

namespace diffuser::experiments {

/// `p` as a string; diffuser::Error "<p>: <what> not found" when it does not exist.
std::string require_file(const std::filesystem::path& p, const std::string& what);

}  // namespace diffuser::experiments
