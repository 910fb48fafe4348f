// Why: the run folder is what keeps a run from being overwritten by accident or resumed with a
// config that would change its trajectory; each rule is checked here on its own, without
// training anything: fresh vs resume, every refusal naming the file or key, and run.json
// sessions appended on resume.
#include <filesystem>
#include <string>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/training/RunFolder.hpp"
#include "nn/Checkpoint.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;
using nlohmann::json;

namespace {

Config config_with(const std::vector<std::string>& overrides) {
  Config c;
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

/// A checkpoint_last.bin in `dir` as the trainer writes it (meta config, trainer), no tensors.
void write_checkpoint(const std::string& dir, const Config& c, bool with_config = true) {
  nn::Checkpoint ck;
  if (with_config) ck.meta["config"] = c.to_json();
  ck.meta["trainer"] = {{"step", 3}};
  nn::save_checkpoint(dir + "/" + kCheckpointLast, ck);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("run folder: a fresh run creates the folder and writes its files", "[cpu][runfolder]") {
  TempDir tmp;
  const std::string dir = tmp.file("a/b/run");
  const Config c = config_with({"model.dim=32"});
  const RunFolder folder(dir, /*resume=*/false, c);
  CHECK(std::filesystem::is_directory(dir));
  CHECK_FALSE(folder.resuming());
  CHECK_THROWS_AS(folder.resume_checkpoint(), Error);
  CHECK(folder.file(kRunLogFile) == (std::filesystem::path(dir) / "log.jsonl").string());
  // Nothing is written until asked.
  CHECK_FALSE(std::filesystem::exists(folder.file(kRunConfigFile)));
  folder.write_config(c);
  CHECK(json::parse(read_text_file(folder.file(kRunConfigFile)))["model"]["dim"] == 32);
  folder.add_session({{"seed", 1}}, {{"from_step", 0}});
  const json info = json::parse(read_text_file(folder.file(kRunInfoFile)));
  CHECK(info["seed"] == 1);
  REQUIRE(info["sessions"].size() == 1);
  CHECK(info["sessions"][0]["from_step"] == 0);
  folder.write_metrics({{"steps", 8}});
  CHECK(json::parse(read_text_file(folder.file(kRunMetricsFile)))["steps"] == 8);
}

TEST_CASE("run folder: a fresh run refuses a folder that holds a run", "[cpu][runfolder]") {
  TempDir tmp;
  const Config c;
  for (const char* f : {kRunLogFile, kCheckpointLast}) {
    const std::string dir = tmp.file(std::string("run_") + f);
    std::filesystem::create_directories(dir);
    write_file(dir + "/" + f, "x");
    const auto msg = error_of([&] { RunFolder(dir, false, c); });
    CHECK_THAT(msg, Catch::Contains("the folder already holds a run (" + std::string(f) + ")"));
    CHECK_THAT(msg, Catch::Contains("pass --resume"));
  }
  // Other files (a config, generated data) do not make a run.
  const std::string dir = tmp.file("configured");
  std::filesystem::create_directories(dir + "/data");
  write_file(dir + "/" + kRunConfigFile, "{}");
  CHECK_NOTHROW(RunFolder(dir, false, c));
}

TEST_CASE("run folder: resume needs a trainer checkpoint with the same config",
          "[cpu][runfolder]") {
  TempDir tmp;
  const std::string dir = tmp.path().string();
  const Config c = config_with({"train.steps=10"});

  CHECK_THAT(error_of([&] { RunFolder(dir, true, c); }),
             Catch::Contains("no checkpoint_last.bin to resume from"));

  write_checkpoint(dir, c, /*with_config=*/false);
  CHECK_THAT(error_of([&] { RunFolder(dir, true, c); }),
             Catch::Contains("not a checkpoint written by `diffuser train`"));

  write_checkpoint(dir, c);
  const auto msg = error_of([&] { RunFolder(dir, true, config_with({"model.dim=32"})); });
  CHECK_THAT(msg, Catch::Contains("--resume: config key 'model.dim' = 32 differs from the run's "
                                  "value 64"));

  // train.steps and train.threads may change; the checkpoint is loaded.
  const RunFolder folder(dir, true, config_with({"train.steps=20", "train.threads=1"}));
  REQUIRE(folder.resuming());
  CHECK(folder.resume_checkpoint().meta["trainer"]["step"] == 3);
  CHECK(may_differ_on_resume("train.steps"));
  CHECK_FALSE(may_differ_on_resume("train.seed"));
}

TEST_CASE("run folder: a resumed run appends its session to run.json", "[cpu][runfolder]") {
  TempDir tmp;
  const std::string dir = tmp.path().string();
  const Config c;
  RunFolder(dir, false, c).add_session({{"seed", 1}}, {{"from_step", 0}});
  write_checkpoint(dir, c);
  const RunFolder resumed(dir, true, c);
  resumed.add_session({{"seed", 99}}, {{"from_step", 3}});
  const json info = json::parse(read_text_file(resumed.file(kRunInfoFile)));
  CHECK(info["seed"] == 1);  // the first session's facts stay
  REQUIRE(info["sessions"].size() == 2);
  CHECK(info["sessions"][1]["from_step"] == 3);
  // A malformed run.json is named, not overwritten.
  write_file(resumed.file(kRunInfoFile), "{");
  CHECK_THAT(error_of([&] { resumed.add_session({}, {}); }), Catch::Contains("malformed JSON"));
}
