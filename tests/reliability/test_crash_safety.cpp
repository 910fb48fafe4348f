// Why: "an interrupted run loses nothing" (docs/design.md §3). A process killed with SIGKILL (no
// handler, no cleanup) in the middle of writing a checkpoint must leave the previous checkpoint
// intact and loadable, and a killed training run must resume from it. The first test stops the
// writer at a known point inside write_atomic (deterministic); the second kills a real
// `diffuser train` while one of its checkpoint temporaries exists (found by polling the run
// folder, no sleeps).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "nn/Checkpoint.hpp"
#include "tests/Testing.hpp"
#include "tests/reliability/CliRunner.hpp"

using namespace diffuser;
using Catch::Contains;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;
namespace fs = std::filesystem;

namespace {

nn::Checkpoint checkpoint_of(float fill, std::size_t n, std::int64_t step) {
  nn::Checkpoint c;
  c.meta["step"] = step;
  const std::vector<float> values(n, fill);
  c.add<float>("param/w", {static_cast<std::int64_t>(n)}, values);
  return c;
}

/// Temporary files of `target` ("<target>.tmp.<pid>") present in its folder.
std::vector<fs::path> temporaries(const fs::path& target) {
  std::vector<fs::path> out;
  const std::string prefix = target.filename().string() + ".tmp.";
  for (const auto& e : fs::directory_iterator(target.parent_path())) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("SIGKILL in the middle of a checkpoint write keeps the previous checkpoint",
          "[reliability][crash]") {
  TempDir dir;
  const std::string path = dir.file("checkpoint_last.bin");
  nn::save_checkpoint(path, checkpoint_of(1.5f, 1000, 7));
  // The bytes of the next checkpoint, as save_checkpoint would write them.
  const std::string staging = dir.file("next.bin");
  nn::save_checkpoint(staging, checkpoint_of(-2.0f, 200000, 8));
  const std::string next = read_text_file(staging);

  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Child: write half of the new checkpoint through write_atomic, tell the parent, then wait
    // to be killed. It never returns into the test framework.
    ::close(ready[0]);
    try {
      write_atomic(path, [&](std::ostream& out) {
        out.write(next.data(), static_cast<std::streamsize>(next.size() / 2));
        out.flush();
        const char byte = 1;
        if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
        for (;;) ::pause();
      });
    } catch (...) {
    }
    ::_exit(4);
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  const fs::path tmp = path + ".tmp." + std::to_string(child);
  REQUIRE(fs::exists(tmp));  // the writer is mid-write: the temporary exists, the rename has not
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  // The previous checkpoint is intact: it loads, with its own step and values.
  const auto ck = nn::load_checkpoint(path);
  CHECK(ck.meta["step"] == 7);
  std::vector<float> w(1000);
  ck.read<float>("param/w", std::vector<std::int64_t>{1000}, w);
  CHECK(w.front() == 1.5f);
  CHECK(w.back() == 1.5f);
  // The orphaned half-written temporary is refused by the checksum/size checks if anyone
  // tries it.
  CHECK(fs::file_size(tmp) == next.size() / 2);
  CHECK_THROWS_WITH(nn::load_checkpoint(tmp.string()), Contains("truncated"));
}

TEST_CASE("a training run killed with SIGKILL resumes from an intact checkpoint",
          "[reliability][crash]") {
  TempDir dir;
  // A model of ~0.2M parameters: each checkpoint (parameters + two moments, ~2.5 MB) takes a
  // few milliseconds to write and fsync, long enough for the poll below to see its temporary.
  write_file(dir.file("config.json"), R"({
    "task": {"name": "listops", "train_size": 64, "val_size": 8, "test_size": 8,
             "min_len": 4, "max_len": 24, "max_depth": 3, "seed": 5},
    "model": {"layers": 2, "dim": 96, "heads": 4, "mlp_dim": 384, "dropout": 0.0, "pool": "cls"},
    "attention": {"variant": "diffuser", "pattern": "window=2,global=1", "hops": 2},
    "train": {"steps": 100000, "batch_size": 4, "bucket_granularity": 8, "eval_every": 0,
              "log_every": 1, "checkpoint_every": 1, "seed": 1, "threads": 1}
  })");
  const fs::path run = dir.path() / "run";
  const fs::path last = run / "checkpoint_last.bin";
  const std::string binary = DIFFUSER_CLI_BINARY;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::chdir(dir.path().c_str()) != 0) ::_exit(127);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(binary.c_str(), binary.c_str(), "train", "--config", "config.json", "--out", "run",
            "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait for a first complete checkpoint, then for the temporary of a later one; kill the
  // trainer the moment it is seen. Gives up waiting for the temporary after 60 s and kills
  // anyway (the checks below hold for a kill at any moment).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool saw_temporary = false;
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(child, &status, WNOHANG) == child) {
      exited = true;
      break;
    }
    if (fs::exists(run) && fs::exists(last) && !temporaries(last).empty()) {
      saw_temporary = true;
      break;
    }
    std::this_thread::yield();
  }
  if (!exited) {
    ::kill(child, SIGKILL);
    REQUIRE(::waitpid(child, &status, 0) == child);
  }
  INFO("temporary seen before the kill: " << saw_temporary);
  REQUIRE_FALSE(exited);  // the run must still have been going when it was killed
  REQUIRE(WIFSIGNALED(status));

  // Whatever instant the kill hit, checkpoint_last.bin is complete and loads.
  const auto ck = nn::load_checkpoint(last.string());
  const auto step = ck.meta["trainer"]["step"].get<std::int64_t>();
  CHECK(step >= 1);
  CHECK(step < 100000);
  // The run resumes from it and finishes (a shortened run: train.steps may change on resume).
  const auto resumed = testing::run_cli(DIFFUSER_CLI_BINARY,
                                        {"train", "--out", "run", "--resume", "--set",
                                         "train.steps=" + std::to_string(step + 2), "--quiet"},
                                        dir.path().string());
  INFO("resume stderr: " << resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(fs::exists(run / "metrics.json"));
  CHECK(nn::load_checkpoint(last.string()).meta["trainer"]["step"] == step + 2);
}
