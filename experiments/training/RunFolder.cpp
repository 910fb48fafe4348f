// Why: fresh/resume rules and the small files of a run folder (see RunFolder.hpp).
#include "experiments/training/RunFolder.hpp"

#include <filesystem>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/JsonDepth.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

bool may_differ_on_resume(const std::string& key) {
  return key == "train.steps" || key == "train.threads";
}

Config config_from_json(const json& j, const std::string& origin) {
  Config c;
  c.apply_json(j, origin);
  return c;
}

RunFolder::RunFolder(std::string dir, bool resume, const Config& config) : dir_(std::move(dir)) {
  const fs::path d(dir_);
  const std::string ckpt_last = file(kCheckpointLast);
  if (resume) {
    DIFFUSER_CHECK(fs::exists(ckpt_last),
                   "{}: no {} to resume from (a run that stopped before its first checkpoint "
                   "must be started again in a new or emptied folder)",
                   d.string(), kCheckpointLast);
    checkpoint_ = nn::load_checkpoint(ckpt_last);
    DIFFUSER_CHECK(checkpoint_->meta.contains("config") && checkpoint_->meta.contains("trainer"),
                   "{}: not a checkpoint written by `diffuser train` (no config/trainer state)",
                   ckpt_last);
    const Config stored = config_from_json(checkpoint_->meta["config"], ckpt_last);
    const json a = stored.to_json(), b = config.to_json();
    for (const auto& k : config_schema()) {
      const auto dot = k.key.find('.');
      const auto& va = a[k.key.substr(0, dot)][k.key.substr(dot + 1)];
      const auto& vb = b[k.key.substr(0, dot)][k.key.substr(dot + 1)];
      DIFFUSER_CHECK(va == vb || may_differ_on_resume(k.key),
                     "--resume: config key '{}' = {} differs from the run's value {} in {} (only "
                     "train.steps and train.threads may change on resume)",
                     k.key, vb.dump(), va.dump(), ckpt_last);
    }
  } else {
    for (const char* f : {kRunLogFile, kCheckpointLast}) {
      DIFFUSER_CHECK(!fs::exists(d / f),
                     "{}: the folder already holds a run ({}); pass --resume to continue it or "
                     "choose another --out",
                     d.string(), f);
    }
  }
  std::error_code ec;
  fs::create_directories(d, ec);
  DIFFUSER_CHECK(!ec, "{}: cannot create the run folder: {}", d.string(), ec.message());
}

std::string RunFolder::file(const char* name) const { return (fs::path(dir_) / name).string(); }

const nn::Checkpoint& RunFolder::resume_checkpoint() const {
  DIFFUSER_CHECK(checkpoint_.has_value(), "{}: not resuming a run", dir_);
  return *checkpoint_;
}

void RunFolder::write_config(const Config& config) const {
  write_text_atomic(file(kRunConfigFile), config.to_json().dump(2) + "\n");
}

void RunFolder::add_session(const json& facts, const json& session) const {
  const std::string info_path = file(kRunInfoFile);
  json info = json::object();
  if (resuming() && fs::exists(info_path)) {
    const std::string info_text = read_text_file(info_path);
    check_json_depth(info_text, info_path);
    info = json::parse(info_text, nullptr, /*allow_exceptions=*/false);
    DIFFUSER_CHECK(info.is_object(), "{}: malformed JSON", info_path);
  } else {
    info = facts;
    info["sessions"] = json::array();
  }
  info["sessions"].push_back(session);
  write_text_atomic(info_path, info.dump(2) + "\n");
}

void RunFolder::write_metrics(const json& metrics) const {
  write_text_atomic(file(kRunMetricsFile), metrics.dump(2) + "\n");
}

}  // namespace diffuser::experiments
