// Why: scripts/demo.py is README command 1's workflow (docs/viz.md). It is judged as a user runs
// it, with the built `diffuser` passed as --diffuser: bad options and folders end in one error
// line and leave the user's files alone; a short run writes the data, a summary with commands to
// rerun and the numbers, and a folder that a second run replaces cleanly.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/Testing.hpp"
#include "tests/cli/CliShell.hpp"

using diffuser::testing::RunResult;
using diffuser::testing::slurp;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

/// Runs `/usr/bin/python3 scripts/demo.py --diffuser <binary> <args>` through the shell (the
/// interpreter the README names is this target's DIFFUSER_CLI_BINARY; tests/cli/CMakeLists.txt).
RunResult run_demo(const TempDir& dir, const std::string& args,
                   const std::string& binary = DIFFUSER_BUILT_BINARY) {
  return diffuser::testing::run_cli(dir, std::string("'") + DIFFUSER_SOURCE_DIR +
                                             "/scripts/demo.py' --diffuser '" + binary + "' " +
                                             args);
}

/// A refused demo: exit 1, exactly one stderr line holding `needle`.
void expect_error(const TempDir& dir, const std::string& args, const std::string& needle,
                  const std::string& binary = DIFFUSER_BUILT_BINARY) {
  INFO("scripts/demo.py " << args);
  const RunResult r = run_demo(dir, args, binary);
  CHECK(r.exit_code == 1);
  INFO("stderr: " << r.err);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("scripts/demo.py refuses bad options and folders with one clear line", "[cli][demo]") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("busy"));
  write_file(dir.file("busy/notes.txt"), "mine\n");
  expect_error(dir, "--no-plots --out " + dir.file("busy"), "holds no earlier demo");
  CHECK(slurp(dir.file("busy/notes.txt")) == "mine\n");  // untouched
  write_file(dir.file("file"), "x");
  expect_error(dir, "--no-plots --out " + dir.file("file"), "exists and is not a folder");
  expect_error(dir, "--no-plots --out /proc/x", "--out /proc/x: cannot create the folder");
  expect_error(dir, "--no-plots --train-steps -1 --out " + dir.file("o"),
               "--train-steps -1 is negative");
  expect_error(dir, "--no-plots --threads -2 --out " + dir.file("o"), "--threads -2 is negative");
  expect_error(dir, "--no-plots --out " + dir.file("o"), "no such executable",
               dir.file("missing/diffuser"));
  CHECK_FALSE(std::filesystem::exists(dir.file("o")));  // refused before writing anything
}

TEST_CASE("scripts/demo.py stops at a failing step with its log named", "[cli][demo]") {
  TempDir dir;
  const RunResult r = run_demo(dir, "--no-plots --out " + dir.file("d"), "/bin/false");
  CHECK(r.exit_code == 1);
  INFO(r.err);
  CHECK(r.err.find("demo.py: error: step 'Diffuser pattern at n = 16384") != std::string::npos);
  CHECK(r.err.find("its log is " + dir.file("d/logs/pattern_diffuser.log")) != std::string::npos);
  const std::string summary = slurp(dir.file("d/summary.md"));
  CHECK(summary.find("| 1 | Diffuser pattern at n = 16384 (density map + degrees) |") !=
        std::string::npos);
  CHECK(summary.find("| FAILED |") != std::string::npos);
}

TEST_CASE("scripts/demo.py writes data, summary and a rerunnable folder", "[cli][demo][slow]") {
  TempDir dir;
  for (int run = 0; run < 2; ++run) {
    INFO("run " << run);
    const RunResult r =
        run_demo(dir, "--no-plots --train-steps 20 --threads 2 --out " + dir.file("demo"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string summary = slurp(dir.file("demo/summary.md"));
    CHECK(summary.find("diffuser viz pattern --n 16384 --preset diffuser --pixels 512 --out " +
                       dir.file("demo/pattern_diffuser")) != std::string::npos);
    CHECK(summary.find("--set train.threads=2 --set train.steps=20") != std::string::npos);
    CHECK(summary.find("No pictures: --no-plots was given") != std::string::npos);
    CHECK(summary.find("| tiny ListOps model: test accuracy (majority-class rate) | 0.") !=
          std::string::npos);
    CHECK(summary.find("| 14 | Attention of the trained model | 0.0 s | skipped |") !=
          std::string::npos);
    CHECK(std::filesystem::exists(dir.file("demo/run/metrics.json")));
    CHECK(std::filesystem::exists(dir.file("demo/attention/attention.json")));
    CHECK(std::filesystem::exists(dir.file("demo/spectrum_diffuser/gap_vs_n.csv")));
    CHECK(std::filesystem::exists(dir.file("demo/logs/train.log")));
    CHECK_FALSE(std::filesystem::exists(dir.file("demo/img/stale.png")));  // replaced
    const auto meta = nlohmann::json::parse(slurp(dir.file("demo/demo.json")));
    CHECK(meta["outputs"].size() == 13u);
    write_file(dir.file("demo/img/stale.png"), "old picture");
  }
}
