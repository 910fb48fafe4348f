// Why: a run folder is the record of a training run and must never be overwritten by accident
// nor resumed with a config that would silently change the trajectory. This class owns those
// rules (fresh vs resume, the config comparison) and the folder's small files (config.json,
// run.json with one entry per session, metrics.json), all written atomically.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "experiments/config/Config.hpp"
#include "nn/Checkpoint.hpp"

namespace diffuser::experiments {

/// File names inside a run folder (docs/experiments.md, "Run folder").
inline constexpr const char* kRunConfigFile = "config.json";
inline constexpr const char* kRunInfoFile = "run.json";
inline constexpr const char* kRunLogFile = "log.jsonl";
inline constexpr const char* kRunMetricsFile = "metrics.json";
inline constexpr const char* kCheckpointLast = "checkpoint_last.bin";
inline constexpr const char* kCheckpointBest = "checkpoint_best.bin";

/// Config keys a resumed run may change: they do not alter the trajectory up to the checkpoint
/// (train.steps changes the schedule from then on, which the user asks for by changing it).
bool may_differ_on_resume(const std::string& key);

/// A Config from the nested JSON a run stores (config.json, checkpoint meta "config");
/// `origin` names the source in errors.
Config config_from_json(const nlohmann::json& j, const std::string& origin);

/// One training run's folder, opened fresh or for resuming.
class RunFolder {
 public:
  /// Opens `dir` for a run of `config`, creating the folder (and parents) if missing.
  ///  - fresh (resume = false): a folder holding log.jsonl or checkpoint_last.bin is refused
  ///    ("the folder already holds a run (log.jsonl); pass --resume ...");
  ///  - resume: checkpoint_last.bin must exist and be written by `diffuser train` (meta config
  ///    and trainer); it is loaded, and its config must equal `config` in every key except
  ///    those may_differ_on_resume allows (the error names the key and both values).
  /// Nothing is written yet. diffuser::Error on any refusal or I/O failure.
  RunFolder(std::string dir, bool resume, const Config& config);

  const std::string& dir() const { return dir_; }
  /// <dir>/<name>.
  std::string file(const char* name) const;

  /// Whether the run continues from a checkpoint.
  bool resuming() const { return checkpoint_.has_value(); }
  /// The loaded checkpoint_last.bin (resuming() only).
  const nn::Checkpoint& resume_checkpoint() const;

  /// Writes config.json (the resolved config) atomically.
  void write_config(const Config& config) const;
  /// Records a session in run.json (atomically): a resumed run with a run.json appends
  /// `session` to its "sessions"; otherwise run.json becomes `facts` plus "sessions":
  /// [`session`].
  void add_session(const nlohmann::json& facts, const nlohmann::json& session) const;
  /// Writes metrics.json atomically.
  void write_metrics(const nlohmann::json& metrics) const;

 private:
  std::string dir_;
  std::optional<nn::Checkpoint> checkpoint_;
};

}  // namespace diffuser::experiments
