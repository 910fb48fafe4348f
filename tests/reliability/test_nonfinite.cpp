// Why: numerical guards of the training loop (issue 8, item 5). A NaN/Inf in the loss, the
// gradients, the logits or the parameters must stop the run with a message naming the step, the
// tensor and its layer (or skip the step with train.on_nonfinite = skip), and the last
// checkpoint must stay loadable and finite: nothing non-finite may ever be checkpointed.
// Values are injected through TrainOptions::after_backward, the trainer's test hook.
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/training/RunLog.hpp"
#include "experiments/training/Trainer.hpp"
#include "nn/Checkpoint.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using Catch::Contains;
using diffuser::testing::TempDir;

namespace {

Config tiny_config(const std::vector<std::string>& overrides = {}) {
  Config c;
  c.apply_json(nlohmann::json::parse(R"({
    "task": {"name": "listops", "train_size": 32, "val_size": 8, "test_size": 8,
             "min_len": 4, "max_len": 20, "max_depth": 3, "seed": 5},
    "model": {"layers": 1, "dim": 16, "heads": 2, "mlp_dim": 32, "dropout": 0.0, "pool": "cls"},
    "attention": {"variant": "diffuser", "pattern": "window=2,global=1,random=2", "hops": 2},
    "train": {"steps": 6, "batch_size": 8, "bucket_granularity": 8, "eval_every": 0,
              "log_every": 1, "checkpoint_every": 1, "seed": 11, "threads": 1}
  })"),
               "test");
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

TrainOptions quiet(const std::string& dir) {
  TrainOptions o;
  o.run_dir = dir;
  o.messages = nullptr;
  o.progress = false;
  return o;
}

/// Loads `path`, checks it is a checkpoint of `step`, that every float tensor in it is finite,
/// and that it evaluates (the whole model restores from it).
void check_good_checkpoint(const std::string& path, std::int64_t step) {
  INFO("checkpoint " << path);
  const auto ck = nn::load_checkpoint(path);
  CHECK(ck.meta["trainer"]["step"] == step);
  for (const auto& t : ck.tensors()) {
    if (t.dtype != nn::DType::kF32) continue;
    std::vector<float> v(t.numel());
    ck.read<float>(t.name, t.shape, v);
    for (const float x : v) REQUIRE(std::isfinite(x));
  }
  const auto metrics = evaluate_checkpoint(path, "test");
  CHECK(metrics["step"] == step);
  CHECK(std::isfinite(metrics["loss"].get<double>()));
}

}  // namespace

TEST_CASE("a NaN gradient stops the run naming step, tensor and layer", "[reliability][trainer]") {
  TempDir dir;
  auto o = quiet(dir.file("run"));
  o.after_backward = [](std::int64_t step, nn::ParameterStore<float>& p) {
    if (step == 3) p.grad(p.ref("layers.0.mlp.fc1.weight"))[7] = std::nanf("");
  };
  CHECK_THROWS_WITH(Trainer(tiny_config(), o).run(),
                    Contains("step 3: non-finite gradient (NaN) in tensor "
                             "'layers.0.mlp.fc1.weight' (layer 0), element 7") &&
                        Contains("checkpoint_last.bin (step 2)"));
  check_good_checkpoint(dir.file("run/checkpoint_last.bin"), 2);
  const auto last = RunLog::read(dir.file("run/log.jsonl")).back();
  CHECK(last["type"] == "nonfinite");
  CHECK(last["action"] == "stop");
}

TEST_CASE("an Inf gradient is skipped with train.on_nonfinite = skip", "[reliability][trainer]") {
  TempDir dir;
  auto o = quiet(dir.file("run"));
  o.after_backward = [](std::int64_t step, nn::ParameterStore<float>& p) {
    if (step == 2 || step == 5) {
      p.grad(p.ref("embed.token"))[0] = std::numeric_limits<float>::infinity();
    }
  };
  const auto r = Trainer(tiny_config({"train.on_nonfinite=skip"}), o).run();
  CHECK(r.finished);
  CHECK(r.metrics["skipped_steps"] == 2);
  check_good_checkpoint(dir.file("run/checkpoint_last.bin"), 6);
}

TEST_CASE("a parameter made non-finite stops the run before any checkpoint holds it",
          "[reliability][trainer]") {
  TempDir dir;
  auto o = quiet(dir.file("run"));
  // The gradients stay finite; the value itself is corrupted before the update.
  o.after_backward = [](std::int64_t step, nn::ParameterStore<float>& p) {
    if (step == 4) p.value(p.ref("head.out.weight"))[3] = std::numeric_limits<float>::infinity();
  };
  for (const char* mode : {"stop", "skip"}) {
    INFO("train.on_nonfinite = " << mode);
    auto run = o;
    run.run_dir = dir.file(std::string("run_") + mode);
    CHECK_THROWS_WITH(Trainer(tiny_config({std::string("train.on_nonfinite=") + mode}), run).run(),
                      Contains("step 4: after the AdamW update, parameter tensor "
                               "'head.out.weight' (head) holds") &&
                          Contains("before any checkpoint holds it") && Contains("(step 3)"));
    check_good_checkpoint(run.run_dir + "/checkpoint_last.bin", 3);
  }
}

TEST_CASE("non-finite logits from finite parameters are found by scanning the logits",
          "[reliability][trainer]") {
  TempDir dir;
  auto o = quiet(dir.file("run"));
  // A final LayerNorm gain of FLT_MAX is finite, but the normalised activations it scales
  // (|x| > 1 for some features of every row) overflow to Inf in the next forward pass.
  o.after_backward = [](std::int64_t step, nn::ParameterStore<float>& p) {
    if (step == 2) {
      for (float& g : p.value(p.ref("final_ln.weight"))) g = std::numeric_limits<float>::max();
    }
  };
  CHECK_THROWS_WITH(Trainer(tiny_config(), o).run(),
                    Contains("step 3: non-finite forward pass: logit [") &&
                        Contains("every parameter is finite: activations overflowed"));
  // Step 2's checkpoint holds the huge (finite) gain: loadable, finite, as promised.
  const auto ck = nn::load_checkpoint(dir.file("run/checkpoint_last.bin"));
  CHECK(ck.meta["trainer"]["step"] == 2);
}
