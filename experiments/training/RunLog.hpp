// Why: a training run's history (losses, learning rates, evaluations) must be readable while the
// run goes on, by plotting scripts and by people, and must survive an interrupted run. JSON Lines
// -- one self-contained JSON object per line, appended and flushed -- does both; a resumed run
// first cuts the log back to its checkpoint so the file reads as one uninterrupted run.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace diffuser::experiments {

/// An append-only JSONL file: write() adds one line (compact JSON + '\n') and flushes it.
class RunLog {
 public:
  /// Opens `path` for appending, creating it if missing. Throws diffuser::Error naming the path
  /// if it cannot be opened.
  explicit RunLog(const std::string& path);

  /// Appends `record` (a JSON object) as one line and flushes. Throws diffuser::Error naming
  /// the path on a write failure.
  void write(const nlohmann::json& record);

  const std::string& path() const { return path_; }

  /// Reads a JSONL file: one object per non-empty line. With `drop_partial_last_line`, a last
  /// line that is not valid JSON (cut off by an interruption) is ignored; any other malformed
  /// line is a diffuser::Error naming the file and line number.
  static std::vector<nlohmann::json> read(const std::string& path,
                                          bool drop_partial_last_line = false);

  /// Rewrites `path` atomically keeping only the records whose "step" is <= `step` (records
  /// without a step are kept), dropping a cut-off last line: a resumed run calls this with its
  /// checkpoint's step. A missing file is left missing.
  static void truncate_after_step(const std::string& path, std::int64_t step);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace diffuser::experiments
