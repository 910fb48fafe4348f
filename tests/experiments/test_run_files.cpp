// Why: the small pieces around the trainer that users see directly: the JSONL log (append,
// read back, cut back on resume, survive a cut-off last line), the progress bar's text (rate
// and ETA) and its silence off a terminal, metric sums, and every shipped experiment config
// (each must load against the schema and describe a valid model).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/tasks/Metrics.hpp"
#include "experiments/training/ExperimentModel.hpp"
#include "experiments/training/ProgressBar.hpp"
#include "experiments/training/RunLog.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;
using nlohmann::json;

TEST_CASE("run log: append, read back, cut back to a step, drop a cut-off line", "[runlog]") {
  TempDir dir;
  const std::string path = dir.file("log.jsonl");
  {
    RunLog log(path);
    for (int s = 1; s <= 5; ++s) log.write({{"type", "train"}, {"step", s}, {"loss", 1.0 / s}});
    log.write({{"type", "note"}});  // no step: kept by truncation
  }
  auto records = RunLog::read(path);
  REQUIRE(records.size() == 6);
  CHECK(records[2]["step"] == 3);
  CHECK(records[2]["loss"].get<double>() == 1.0 / 3);  // doubles round-trip exactly

  // An interrupted writer leaves half a line: reading for resume ignores it, strict reading
  // names the line.
  write_file(path, read_text_file(path) + "{\"type\": \"train\", \"st");
  CHECK_THROWS_WITH(RunLog::read(path), Catch::Contains("log.jsonl:7"));
  CHECK(RunLog::read(path, true).size() == 6);

  RunLog::truncate_after_step(path, 2);
  records = RunLog::read(path);
  REQUIRE(records.size() == 3);
  CHECK(records[0]["step"] == 1);
  CHECK(records[1]["step"] == 2);
  CHECK(records[2]["type"] == "note");
  {
    RunLog log(path);  // appends after what is kept
    log.write({{"type", "train"}, {"step", 3}});
  }
  CHECK(RunLog::read(path).back()["step"] == 3);

  write_file(dir.file("bad.jsonl"), "{\"a\": 1}\n[1, 2]\n{\"b\": 2}\n");
  CHECK_THROWS_WITH(RunLog::read(dir.file("bad.jsonl")), Catch::Contains("bad.jsonl:2"));
  CHECK_NOTHROW(RunLog::truncate_after_step(dir.file("missing.jsonl"), 3));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.jsonl")));
}

TEST_CASE("progress bar: rate and ETA text; silent when not a terminal", "[progress]") {
  CHECK(ProgressBar::format_duration(42.4) == "42s");
  CHECK(ProgressBar::format_duration(185) == "3m05s");
  CHECK(ProgressBar::format_duration(7260) == "2h01m");
  CHECK(ProgressBar::format_duration(std::nan("")) == "?");

  TempDir dir;
  std::FILE* f = std::fopen(dir.file("err.txt").c_str(), "w");
  REQUIRE(f != nullptr);
  {
    ProgressBar bar(100, "train", 20, f);  // a resumed run at step 20
    CHECK_FALSE(bar.enabled());            // a file is not a terminal
    // 30 steps of this session in 10 s: 3 steps/s, 50 left -> ETA 17s.
    const std::string text = bar.render(50, 10.0, "loss 1.5");
    CHECK(text.find("train [############............] 50/100") == 0);
    CHECK(text.find("3.00/s") != std::string::npos);
    CHECK(text.find("ETA 17s") != std::string::npos);
    CHECK(text.find("loss 1.5") != std::string::npos);
    CHECK(bar.render(20, 0.0, "").find("ETA ?") != std::string::npos);
    bar.update(60, "loss 1.0");
    bar.message("step 60: val accuracy 0.5");  // status lines still print, without bar codes
    bar.finish();
  }
  std::fclose(f);
  CHECK(read_text_file(dir.file("err.txt")) == "step 60: val accuracy 0.5\n");
}

TEST_CASE("metric sums are exact means over examples across batch sizes", "[metrics]") {
  MetricSums m;
  CHECK(m.loss() == 0);
  CHECK(m.accuracy() == 0);
  m.add(nn::StepResult{2.0, 3, 4});  // 4 examples, mean 2
  m.add(nn::StepResult{0.5, 1, 1});  // 1 example
  CHECK(m.count == 5);
  CHECK(m.loss() == Approx((2.0 * 4 + 0.5) / 5).epsilon(1e-15));
  CHECK(m.accuracy() == 0.8);
  CHECK(m.bits_per_byte() == Approx(m.loss() / std::numbers::ln2).epsilon(1e-15));
  const auto j = m.to_json(true);
  CHECK(j.contains("bits_per_byte"));
  CHECK_FALSE(m.to_json(false).contains("bits_per_byte"));
}

TEST_CASE("every shipped experiment config loads and describes a valid model", "[configs]") {
  const std::filesystem::path dir =
      std::filesystem::path(DIFFUSER_SOURCE_DIR) / "experiments" / "configs";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    const Config c = Config::load(entry.path().string());
    // A shape like the task's (ListOps / text / pixels), enough for the model checks.
    const bool cls = c.get_string("model.pool") == "cls";
    const TaskShape shape{
        nn::ModelKind::kClassifier, 257, 10, c.get_int("task.max_len") + (cls ? 1 : 0), cls, 0};
    const auto m = experiment_model_config(c, shape);
    const std::string name = entry.path().stem().string();
    const std::string variant = c.get_string("attention.variant");
    // The file name says the variant: <task>_<variant>.json (listops_tiny is a diffuser model).
    const std::string expected = name.ends_with("_full")     ? "full"
                                 : name.ends_with("_sparse") ? "sparse"
                                                             : "diffuser";
    CHECK(variant == expected);
    if (variant == "diffuser") CHECK(m.diffusion.degree() >= 2);
    ++count;
  }
  CHECK(count >= 10);  // 3 tasks x 3 variants + listops_tiny
}
