// Why: the trainer's promises, checked on a tiny generated ListOps task: configs map to the
// documented model, a run stopped halfway and resumed reproduces the uninterrupted run bit for
// bit (log losses and final parameters), a non-finite gradient stops the run naming step, layer
// and tensor (or is skipped on request) with the last checkpoint still loadable, a checkpoint
// evaluates to the metrics the run reported, and the CLI writes the documented run folder and
// rejects unknown config keys with one line.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include "analysis/HopEpsilon.hpp"
#include "core/AtomicFile.hpp"
#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/tasks/TaskData.hpp"
#include "experiments/training/ExperimentModel.hpp"
#include "experiments/training/RunLog.hpp"
#include "experiments/training/Trainer.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "nn/Checkpoint.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;
using nlohmann::json;

namespace {

/// A ListOps task small enough for a few steps per second: 48 training trees of length 5..23,
/// a 1-layer model of width 16. Dropout on, so the resume test covers the dropout streams. One
/// thread: OpenMP teams crawl on an oversubscribed machine; the CLI test checks 2 threads.
json tiny_config() {
  return json::parse(R"({
    "task": {"name": "listops", "train_size": 48, "val_size": 12, "test_size": 12,
             "min_len": 4, "max_len": 24, "max_depth": 4, "seed": 5},
    "model": {"layers": 1, "dim": 16, "heads": 2, "mlp_dim": 32, "dropout": 0.1, "pool": "cls"},
    "attention": {"variant": "diffuser", "pattern": "window=2,global=1,random=2",
                  "diffusion": "ppr", "alpha": 0.1, "hops": 3, "dropout": 0.1},
    "optim": {"lr": 0.003, "warmup_steps": 2, "schedule": "cosine"},
    "train": {"steps": 8, "batch_size": 8, "bucket_granularity": 8, "eval_every": 4,
              "log_every": 1, "checkpoint_every": 4, "seed": 11, "threads": 1}
  })");
}

Config make_config(const json& j, const std::vector<std::string>& overrides = {}) {
  Config c;
  c.apply_json(j, "test");
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

TrainOptions quiet_options(const std::string& dir) {
  TrainOptions o;
  o.run_dir = dir;
  o.messages = nullptr;
  o.progress = false;
  return o;
}

std::vector<json> train_records(const std::string& dir) {
  std::vector<json> out;
  for (const auto& r : RunLog::read(dir + "/" + kRunLogFile)) {
    if (r.at("type") == "train") out.push_back(r);
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

RunResult run_cli(const TempDir& dir, const std::string& args) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  // Passive OpenMP waiting: on a loaded machine, spinning threads make a 2-thread run crawl.
  const std::string cmd = std::string("OMP_WAIT_POLICY=passive '") + DIFFUSER_CLI_BINARY + "' " +
                          args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  RunResult r;
  REQUIRE(status != -1);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("config -> ModelConfig: every model and attention key lands in its field", "[trainer]") {
  TaskShape shape{nn::ModelKind::kClassifier, 17, 10, 65, true, 0};
  json j = tiny_config();
  j["model"] = {{"layers", 3},    {"dim", 24},      {"heads", 3},     {"mlp_dim", 40},
                {"norm", "post"}, {"ln_eps", 1e-6}, {"dropout", 0.2}, {"pool", "mean"}};
  j["attention"] = {{"variant", "diffuser"},
                    {"pattern", "window=3,global=2,random=1,seed=9"},
                    {"diffusion", "ppr"},
                    {"alpha", 0.2},
                    {"hops", 4},
                    {"learn_theta", true},
                    {"dropout", 0.05},
                    {"recompute", true}};
  auto m = experiment_model_config(make_config(j), shape);
  CHECK(m.kind == nn::ModelKind::kClassifier);
  CHECK(m.vocab == 17);
  CHECK(m.num_classes == 10);
  CHECK(m.max_len == 65);
  CHECK(m.layers == 3);
  CHECK(m.dim == 24);
  CHECK(m.heads == 3);
  CHECK(m.mlp_dim == 40);
  CHECK(m.norm == nn::NormPlacement::kPost);
  CHECK(m.ln_eps == 1e-6);
  CHECK(m.dropout == 0.2);
  CHECK(m.pool == nn::Pooling::kMean);
  CHECK(m.variant == nn::AttentionVariant::kDiffuser);
  CHECK(m.pattern == graph::parse_pattern_spec("window=3,global=2,random=1,seed=9"));
  CHECK(m.diffusion == Diffusion::ppr(0.2, 4));
  CHECK(m.learn_theta);
  CHECK(m.attention_dropout == 0.05);
  CHECK(m.memory == attention::MemoryMode::kRecompute);

  SECTION("heat kernel and explicit coefficients") {
    m = experiment_model_config(
        make_config(j, {"attention.diffusion=heat", "attention.heat_t=2.5", "attention.hops=6"}),
        shape);
    CHECK(m.diffusion == Diffusion::heat(2.5, 6));
    m = experiment_model_config(
        make_config(j, {"attention.diffusion=theta", "attention.theta=[0.5, 0.3, 0.2]"}), shape);
    CHECK(m.diffusion == Diffusion::from_coefficients({0.5, 0.3, 0.2}));
    CHECK(m.memory == attention::MemoryMode::kRecompute);
  }
  SECTION("sparse and full use plain attention whatever the diffusion keys say") {
    for (const char* v : {"sparse", "full"}) {
      m = experiment_model_config(
          make_config(j, {std::string("attention.variant=") + v, "attention.learn_theta=false",
                          "attention.recompute=false"}),
          shape);
      CHECK(m.diffusion == Diffusion::plain());
      CHECK(m.memory == attention::MemoryMode::kStoreHops);
    }
    CHECK(m.variant == nn::AttentionVariant::kFull);
  }
  SECTION("inconsistent settings are errors naming the key") {
    CHECK_THROWS_WITH(experiment_model_config(make_config(j, {"attention.variant=sparse"}), shape),
                      Catch::Contains("attention.learn_theta"));
    CHECK_THROWS_WITH(experiment_model_config(make_config(j, {"attention.diffusion=theta"}), shape),
                      Catch::Contains("attention.theta"));
    CHECK_THROWS_WITH(
        experiment_model_config(make_config(j, {"attention.pattern=window=-1"}), shape),
        Catch::Contains("attention.pattern"));
    CHECK_THROWS_AS(experiment_model_config(make_config(j, {"model.heads=5"}), shape), Error);
  }
  SECTION("attention.hops = auto: the K of suggest-hops on the pattern at the longest sequence") {
    const TaskShape image{nn::ModelKind::kClassifier, 257, 10, 1025, true, 0};
    const std::vector<std::string> sets{"attention.pattern=window=32", "attention.hops=auto",
                                        "attention.learn_theta=false", "attention.alpha=0.1"};
    m = experiment_model_config(make_config(j, sets), image);
    // Brute force of the rule: the library's epsilon curve of this pattern at n = 1025 (the
    // bound path, n > 512), first K within 5% of the reduction untruncated PPR can give.
    const graph::CsrGraph g = graph::build_pattern(1025, graph::parse_pattern_spec("window=32"));
    const spectral::GraphSpectrum s = spectral::graph_spectrum(g);
    std::vector<int> hops(65);
    std::iota(hops.begin(), hops.end(), 0);
    const auto curve = analysis::epsilon_vs_hops(s, {}, 0.1, hops);
    const double limit = Diffusion::ppr(0.1).map(s.mu2.value);
    const double threshold = limit + 0.05 * (curve[0].epsilon - limit);
    int expected = -1;
    for (int k = 0; k <= 64 && expected < 0; ++k) {
      if (curve[static_cast<std::size_t>(k)].epsilon <= threshold) expected = k;
    }
    REQUIRE(expected > 5);  // a local window needs many hops (docs/spectral.md section 11)
    CHECK(m.diffusion == Diffusion::ppr(0.1, expected));
    const auto h = experiment_auto_hops(ExperimentConfig::read(make_config(j, sets)), image);
    CHECK(h.hops == expected);
    CHECK(h.rule == analysis::HopRule::kConverged);
    // A target that a few hops reach on a pattern with global tokens.
    std::vector<std::string> target = sets;
    target.push_back("attention.pattern=window=8,global=2,random=4");
    target.push_back("attention.auto_epsilon=0.5");
    CHECK(experiment_auto_hops(ExperimentConfig::read(make_config(j, target)), image).rule ==
          analysis::HopRule::kTarget);
    // Only PPR; sparse and full ignore it.
    std::vector<std::string> heat = sets;
    heat.push_back("attention.diffusion=heat");
    CHECK_THROWS_WITH(
        experiment_model_config(make_config(j, heat), image),
        Catch::Contains("'attention.hops' = \"auto\" needs attention.diffusion = ppr"));
    std::vector<std::string> sparse = sets;
    sparse.push_back("attention.variant=sparse");
    CHECK(experiment_model_config(make_config(j, sparse), image).diffusion == Diffusion::plain());
  }
  SECTION("the language model takes its kind and vocabulary from the task") {
    const TaskShape lm{nn::ModelKind::kCausalLm, 256, 256, 64, false, 0};
    m = experiment_model_config(make_config(j), lm);
    CHECK(m.kind == nn::ModelKind::kCausalLm);
    CHECK(m.num_classes == 256);
  }
}

TEST_CASE("task data: generated ListOps is cropped, gets a CLS token, and shapes the model",
          "[trainer]") {
  TempDir dir;
  const auto data = load_task_data(make_config(tiny_config()), dir.path().string());
  CHECK(data.train.size() == 48);
  CHECK(data.val.size() == 12);
  CHECK(data.test.size() == 12);
  CHECK(data.shape.has_cls);
  CHECK(data.shape.vocab == 17);  // 16 ListOps ids + CLS
  CHECK(data.shape.num_classes == 10);
  CHECK(data.shape.max_len == 25);
  for (std::size_t i = 0; i < data.train.size(); ++i) {
    CHECK(data.train.tokens(i)[0] == 16);
    CHECK(data.train.length(i) <= 24);  // generated lengths < 24, plus the CLS token
  }
  CHECK(std::filesystem::exists(dir.file("data/basic_train.tsv")));
  CHECK(TaskShape::from_json(data.shape.to_json()) == data.shape);
}

TEST_CASE("resume: N/2 steps + resume N/2 equals N straight, bit for bit", "[trainer]") {
  TempDir dir;
  const std::string straight = dir.file("straight"), split = dir.file("split");
  const Config c = make_config(tiny_config(), {"train.checkpoint_every=3"});
  const auto full = Trainer(c, quiet_options(straight)).run();
  REQUIRE(full.finished);

  auto first = quiet_options(split);
  first.stop_after = 4;  // between the checkpoints at 3 and 6: the stop itself checkpoints
  const auto half = Trainer(c, first).run();
  CHECK_FALSE(half.finished);
  CHECK(half.step == 4);
  CHECK_FALSE(std::filesystem::exists(split + "/" + kRunMetricsFile));
  // A fresh run must not overwrite the folder.
  CHECK_THROWS_WITH(Trainer(c, quiet_options(split)).run(), Catch::Contains("--resume"));
  auto second = quiet_options(split);
  second.resume = true;
  const auto rest = Trainer(c, second).run();
  REQUIRE(rest.finished);
  CHECK(rest.step == 8);

  const auto a = train_records(straight), b = train_records(split);
  REQUIRE(a.size() == 8);
  REQUIRE(b.size() == 8);
  for (std::size_t k = 0; k < a.size(); ++k) {
    INFO("log line " << k);
    CHECK(a[k]["step"] == b[k]["step"]);
    // Bitwise: the JSON numbers round-trip doubles exactly.
    CHECK(a[k]["loss"].get<double>() == b[k]["loss"].get<double>());
    CHECK(a[k]["loss_avg"].get<double>() == b[k]["loss_avg"].get<double>());
    CHECK(a[k]["grad_norm"].get<double>() == b[k]["grad_norm"].get<double>());
    CHECK(a[k]["lr"].get<double>() == b[k]["lr"].get<double>());
  }
  const auto pa = nn::load_checkpoint(straight + "/" + kCheckpointLast);
  const auto pb = nn::load_checkpoint(split + "/" + kCheckpointLast);
  REQUIRE(pa.tensors().size() == pb.tensors().size());
  for (std::size_t t = 0; t < pa.tensors().size(); ++t) {
    INFO("tensor " << pa.tensors()[t].name);
    CHECK(pa.tensors()[t].name == pb.tensors()[t].name);
    CHECK(pa.tensors()[t].data == pb.tensors()[t].data);
  }
  CHECK(full.metrics["test"]["loss"].get<double>() == rest.metrics["test"]["loss"].get<double>());

  // A resumed run may not change the experiment.
  auto again = quiet_options(split);
  again.resume = true;
  CHECK_THROWS_WITH(
      Trainer(make_config(tiny_config(), {"train.checkpoint_every=3", "optim.lr=0.01"}), again)
          .run(),
      Catch::Contains("optim.lr"));
}

TEST_CASE("non-finite gradients stop the run naming step, layer and tensor", "[trainer]") {
  TempDir dir;
  const Config c = make_config(tiny_config(), {"train.checkpoint_every=2"});
  auto poison = [](std::int64_t step, nn::ParameterStore<float>& p) {
    if (step == 3)
      p.grad(p.ref("layers.0.attn.q.weight"))[5] = std::numeric_limits<float>::quiet_NaN();
  };
  auto o = quiet_options(dir.file("stop"));
  o.after_backward = poison;
  CHECK_THROWS_WITH(Trainer(c, o).run(), Catch::Contains("step 3") &&
                                             Catch::Contains("layers.0.attn.q.weight") &&
                                             Catch::Contains("layer 0") && Catch::Contains("NaN"));
  // The checkpoint of step 2 is intact and loads.
  const auto ck = nn::load_checkpoint(dir.file("stop/checkpoint_last.bin"));
  CHECK(ck.meta["trainer"]["step"] == 2);
  const auto last = RunLog::read(dir.file("stop/log.jsonl")).back();
  CHECK(last["type"] == "nonfinite");
  CHECK(last["step"] == 3);

  SECTION("a non-finite parameter stops the run at its step, before it is checkpointed") {
    // (Non-finite logits from finite parameters: tests/reliability/test_nonfinite.cpp.)
    auto v = quiet_options(dir.file("logits"));
    v.after_backward = [](std::int64_t step, nn::ParameterStore<float>& p) {
      if (step == 2) p.value(p.ref("head.out.weight"))[0] = std::numeric_limits<float>::infinity();
    };
    CHECK_THROWS_WITH(Trainer(c, v).run(), Catch::Contains("step 2") &&
                                               Catch::Contains("after the AdamW update") &&
                                               Catch::Contains("'head.out.weight' (head)"));
    CHECK_FALSE(std::filesystem::exists(dir.file("logits/checkpoint_last.bin")));
  }
  SECTION("train.on_nonfinite = skip leaves the step out and finishes") {
    auto s = quiet_options(dir.file("skip"));
    s.after_backward = poison;
    const auto r = Trainer(make_config(tiny_config(), {"train.on_nonfinite=skip"}), s).run();
    CHECK(r.finished);
    CHECK(r.metrics["skipped_steps"] == 1);
    const auto records = RunLog::read(dir.file("skip/log.jsonl"));
    int skipped = 0;
    for (const auto& rec : records) {
      if (rec["type"] == "nonfinite") {
        ++skipped;
        CHECK(rec["step"] == 3);
        CHECK(rec["action"] == "skip");
      }
      if (rec["type"] == "train") CHECK(rec["step"] != 3);
    }
    CHECK(skipped == 1);
    CHECK(std::isfinite(r.metrics["test"]["loss"].get<double>()));
  }
}

TEST_CASE("eval of a checkpoint reproduces the run's test metrics", "[trainer]") {
  TempDir dir;
  const std::string run = dir.file("run");
  const auto r = Trainer(make_config(tiny_config()), quiet_options(run)).run();
  REQUIRE(r.finished);
  const auto e = evaluate_checkpoint(run + "/" + kCheckpointLast, "test");
  CHECK(e["step"] == 8);
  CHECK(e["split"] == "test");
  CHECK(e["loss"].get<double>() == r.metrics["test"]["loss"].get<double>());
  CHECK(e["accuracy"].get<double>() == r.metrics["test"]["accuracy"].get<double>());
  CHECK(e["count"] == 12);
  CHECK(e["majority_rate"].get<double>() == r.metrics["test"]["majority_rate"].get<double>());
  // The same files named as a folder give the same numbers.
  const auto f = evaluate_checkpoint(run + "/" + kCheckpointLast, run + "/data", "test");
  CHECK(f["loss"].get<double>() == e["loss"].get<double>());
  // The best checkpoint is the step of the best validation accuracy.
  const auto best = nn::load_checkpoint(run + "/" + kCheckpointBest);
  CHECK(best.meta["trainer"]["step"] == r.metrics["val_best"]["step"]);
  CHECK_THROWS_WITH(evaluate_checkpoint(run + "/" + kCheckpointLast, "nowhere/at/all"),
                    Catch::Contains("nowhere/at/all"));
  CHECK_THROWS_WITH(evaluate_checkpoint(run + "/missing.bin", "test"),
                    Catch::Contains("missing.bin"));
}

TEST_CASE("diffuser train / eval CLI: run folder contents, one-line errors", "[trainer][cli]") {
  TempDir dir;
  const std::string config = dir.file("tiny.json");
  write_file(config, tiny_config().dump(2));
  const std::string run = dir.file("run");
  // Two threads here; the library run below uses one: the losses must agree bit for bit.
  auto r = run_cli(dir, "train --config '" + config +
                            "' --set train.steps=6 --set train.threads=2 --out '" + run + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* f : {kRunConfigFile, kRunInfoFile, kRunLogFile, kRunMetricsFile, kCheckpointLast,
                        kCheckpointBest}) {
    INFO(f);
    CHECK(std::filesystem::exists(run + "/" + f));
  }
  const auto resolved = json::parse(read_text_file(run + "/" + kRunConfigFile));
  CHECK(resolved["train"]["steps"] == 6);
  CHECK(resolved["model"]["dim"] == 16);
  CHECK(resolved["optim"]["beta2"] == 0.999);  // defaults are written out too
  const auto info = json::parse(read_text_file(run + "/" + kRunInfoFile));
  CHECK(info["seed"] == 11);
  CHECK(info.contains("git_revision"));
  CHECK(info.contains("start_time"));
  CHECK(info["sessions"].size() == 1);
  CHECK(info["sessions"][0]["command_line"].get<std::string>().find("--set train.steps=6") !=
        std::string::npos);
  CHECK(info["sessions"][0]["threads"].get<int>() >= 1);
  const auto log = RunLog::read(run + "/" + kRunLogFile);
  int train_lines = 0, eval_lines = 0;
  for (const auto& rec : log) {
    if (rec["type"] == "train") {
      ++train_lines;
      for (const char* k : {"step", "loss", "lr", "grad_norm", "tokens_per_s"})
        CHECK(rec.contains(k));
    }
    if (rec["type"] == "eval") ++eval_lines;
  }
  CHECK(train_lines == 6);
  const std::string one = dir.file("one_thread");
  REQUIRE(
      Trainer(make_config(tiny_config(), {"train.steps=6"}), quiet_options(one)).run().finished);
  const auto a = train_records(run), b = train_records(one);
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k)
    CHECK(a[k]["loss"].get<double>() == b[k]["loss"].get<double>());
  CHECK(eval_lines == 3);  // val at 4 and 6, test at the end
  const auto metrics = json::parse(read_text_file(run + "/" + kRunMetricsFile));
  const double acc = metrics["test"]["accuracy"].get<double>();
  CHECK(acc >= 0.0);
  CHECK(acc <= 1.0);
  CHECK(metrics["wall_time_s"].get<double>() > 0);
  CHECK(metrics["tokens_per_s"].get<double>() > 0);

  r = run_cli(dir, "eval --checkpoint '" + run + "/checkpoint_last.bin' --data test");
  REQUIRE(r.exit_code == 0);
  const auto e = json::parse(r.out);
  CHECK(e["accuracy"].get<double>() == acc);

  // Resuming a finished run with more steps continues it (config from the run folder).
  r = run_cli(dir, "train --out '" + run + "' --resume --set train.steps=7 --quiet");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(json::parse(read_text_file(run + "/" + kRunMetricsFile))["steps"] == 7);
  CHECK(json::parse(read_text_file(run + "/" + kRunInfoFile))["sessions"].size() == 2);

  // An unknown config key exits non-zero with one line naming it, before touching --out.
  auto bad = tiny_config();
  bad["model"]["dimm"] = 8;
  write_file(dir.file("bad.json"), bad.dump());
  r = run_cli(dir, "train --config '" + dir.file("bad.json") + "' --out '" + dir.file("bad") + "'");
  CHECK(r.exit_code == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("model.dimm") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("bad")));
  r = run_cli(
      dir, "train --config '" + config + "' --set optim.lr=fast --out '" + dir.file("bad2") + "'");
  CHECK(r.exit_code == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("optim.lr") != std::string::npos);

  // A damaged checkpoint: non-zero exit, one line naming the file.
  write_file(dir.file("junk.bin"), "not a checkpoint");
  r = run_cli(dir, "eval --checkpoint '" + dir.file("junk.bin") + "'");
  CHECK(r.exit_code == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("junk.bin") != std::string::npos);
}
