// Why: the trainer depends on the task registry, the Task interface and the typed config
// instead of on task names and string keys; these tests pin each of them on its own: the
// registry and the schema list the same tasks, unknown names are named, each typed field holds
// its own key's value, and tasks refuse data they cannot train on.
#include <filesystem>
#include <set>
#include <string>

#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/data/PathfinderGenerator.hpp"
#include "experiments/tasks/TaskData.hpp"
#include "experiments/tasks/TaskRegistry.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

const ConfigKey& schema_key(const std::string& key) {
  for (const auto& k : config_schema()) {
    if (k.key == key) return k;
  }
  FAIL("no schema key " << key);
  throw;
}

Config config_with(const std::vector<std::string>& overrides) {
  Config c;
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

}  // namespace

TEST_CASE("task registry: the same tasks as the schema's task.name, unknown names named",
          "[cpu][tasks]") {
  const auto& choices = schema_key("task.name").choices;
  REQUIRE(task_registry().size() == choices.size());
  for (std::size_t i = 0; i < choices.size(); ++i) {
    CHECK(task_registry()[i].name == choices[i]);
    // Every factory makes a task from the defaults (nothing is loaded yet).
    CHECK(make_task(config_with({"task.name=" + choices[i]})) != nullptr);
  }
  ExperimentConfig e = ExperimentConfig::read(Config());
  e.task.name = "pathfinder_x";
  try {
    make_task(e, Config());
    FAIL("no error");
  } catch (const Error& err) {
    CHECK(std::string(err.what()) ==
          "unknown task 'pathfinder_x' (known: listops, fashion_mnist, cifar10, text, bytelm, "
          "pathfinder)");
  }
}

TEST_CASE("typed config: every field holds its own key's value", "[cpu][tasks][config]") {
  // Distinct non-default values, so a field read from the wrong key shows.
  const Config c = config_with({"task.name=text",
                                "task.data_dir=/d",
                                "task.max_len=77",
                                "task.train_size=11",
                                "task.val_size=12",
                                "task.test_size=13",
                                "task.seed=14",
                                "model.layers=3",
                                "model.dim=48",
                                "model.heads=6",
                                "model.mlp_dim=96",
                                "model.norm=post",
                                "model.ln_eps=0.001",
                                "model.dropout=0.25",
                                "model.pool=mean",
                                "attention.variant=sparse",
                                "attention.pattern=window=3",
                                "attention.diffusion=heat",
                                "attention.alpha=0.3",
                                "attention.hops=7",
                                "attention.heat_t=2.5",
                                "attention.auto_epsilon=0.35",
                                "attention.auto_rel_tol=0.15",
                                "attention.theta=[0.5,0.25]",
                                "attention.learn_theta=true",
                                "attention.dropout=0.05",
                                "attention.recompute=true",
                                "optim.lr=0.02",
                                "optim.weight_decay=0.03",
                                "optim.beta1=0.8",
                                "optim.beta2=0.95",
                                "optim.eps=1e-7",
                                "optim.schedule=linear",
                                "optim.warmup_steps=9",
                                "optim.min_lr_ratio=0.15",
                                "optim.clip_norm=0.5",
                                "optim.label_smoothing=0.1",
                                "train.steps=21",
                                "train.batch_size=22",
                                "train.bucket_granularity=23",
                                "train.eval_every=24",
                                "train.log_every=25",
                                "train.checkpoint_every=26",
                                "train.seed=27",
                                "train.threads=2",
                                "train.on_nonfinite=skip"});
  const ExperimentConfig e = ExperimentConfig::read(c);
  CHECK(e.task.name == "text");
  CHECK(e.task.data_dir == "/d");
  CHECK(e.task.max_len == 77);
  CHECK(e.task.size_of("train") == 11);
  CHECK(e.task.size_of("val") == 12);
  CHECK(e.task.size_of("test") == 13);
  CHECK(e.task.seed == 14);
  CHECK_THROWS_WITH(e.task.size_of("dev"), Catch::Contains("unknown split 'dev'"));
  CHECK(e.model.layers == 3);
  CHECK(e.model.dim == 48);
  CHECK(e.model.heads == 6);
  CHECK(e.model.mlp_dim == 96);
  CHECK(e.model.norm == "post");
  CHECK(e.model.ln_eps == 0.001);
  CHECK(e.model.dropout == 0.25);
  CHECK(e.model.pool == "mean");
  CHECK(e.attention.variant == "sparse");
  CHECK(e.attention.pattern == "window=3");
  CHECK(e.attention.diffusion == "heat");
  CHECK(e.attention.alpha == 0.3);
  CHECK(e.attention.hops == 7);
  CHECK_FALSE(e.attention.hops_auto);
  CHECK(e.attention.auto_epsilon == 0.35);
  CHECK(e.attention.auto_rel_tol == 0.15);
  CHECK(ExperimentConfig::read(config_with({"attention.hops=auto"})).attention.hops_auto);
  CHECK(ExperimentConfig::read(config_with({"attention.hops=auto"})).attention.hops == -1);
  CHECK(e.attention.heat_t == 2.5);
  CHECK(e.attention.theta == std::vector<double>{0.5, 0.25});
  CHECK(e.attention.learn_theta);
  CHECK(e.attention.dropout == 0.05);
  CHECK(e.attention.recompute);
  CHECK(e.optim.lr == 0.02);
  CHECK(e.optim.weight_decay == 0.03);
  CHECK(e.optim.beta1 == 0.8);
  CHECK(e.optim.beta2 == 0.95);
  CHECK(e.optim.eps == 1e-7);
  CHECK(e.optim.schedule == "linear");
  CHECK(e.optim.warmup_steps == 9);
  CHECK(e.optim.min_lr_ratio == 0.15);
  CHECK(e.optim.clip_norm == 0.5);
  CHECK(e.optim.label_smoothing == 0.1);
  CHECK(e.train.steps == 21);
  CHECK(e.train.batch_size == 22);
  CHECK(e.train.bucket_granularity == 23);
  CHECK(e.train.eval_every == 24);
  CHECK(e.train.log_every == 25);
  CHECK(e.train.checkpoint_every == 26);
  CHECK(e.train.seed == 27);
  CHECK(e.train.threads == 2);
  CHECK(e.train.on_nonfinite == "skip");
}

TEST_CASE("typed config: keys are checked before any typed read", "[cpu][tasks][config]") {
  // A misspelt key is refused when the config is built, naming the key ...
  CHECK_THROWS_WITH(config_with({"model.dimm=3"}),
                    Catch::Contains("unknown config key 'model.dimm'"));
  // ... and a reader asking for a key or type the schema lacks is a named internal error.
  const Config c;
  CHECK_THROWS_WITH(c.get_int("model.dimm"), Catch::Contains("unknown config key 'model.dimm'"));
  CHECK_THROWS_WITH(c.get_int("model.norm"), Catch::Contains("read as integer but is a string"));
}

TEST_CASE("tasks: a classifier without training data and a too-short text are refused",
          "[cpu][tasks]") {
  TempDir tmp;
  const Config listops = config_with({"task.train_size=8", "task.val_size=4", "task.test_size=4",
                                      "task.min_len=4", "task.max_len=16", "task.max_depth=3"});
  auto task = make_task(listops);
  task->load(tmp.path().string(), {"test"});
  CHECK(task->has_split("test"));
  CHECK_FALSE(task->has_split("train"));
  REQUIRE(task->sequences("test") != nullptr);
  CHECK(task->sequences("test")->size() == 4);
  CHECK(task->split_facts("test").contains("majority_rate"));
  CHECK_THROWS_WITH(task->training_batches(0),
                    Catch::Contains("task listops: the training set is empty"));
  CHECK_THROWS_WITH(task->load(tmp.path().string(), {"dev"}), Catch::Contains("unknown split"));
  // The compatibility view loads the same data.
  const TaskData data = load_task_data(listops, tmp.path().string(), {"test"});
  CHECK(data.shape == task->shape());
  CHECK(data.test.size() == 4);
  CHECK(data.train.empty());

  write_file(tmp.file("short.txt"), std::string(400, 'a'));
  auto lm = make_task(config_with(
      {"task.name=bytelm", "task.text_file=" + tmp.file("short.txt"), "task.max_len=512"}));
  lm->load("");
  CHECK(lm->shape().kind == nn::ModelKind::kCausalLm);
  CHECK(lm->sequences("train") == nullptr);
  CHECK(lm->has_split("val"));
  CHECK_THROWS_WITH(lm->training_batches(0),
                    Catch::Contains("is shorter than one window of task.max_len = 512 bytes"));
}

TEST_CASE("pathfinder task: generated balanced splits, carved LRA sets, crops refused",
          "[cpu][tasks][pathfinder]") {
  TempDir tmp;
  const std::vector<std::string> sizes = {"task.name=pathfinder", "task.train_size=8",
                                          "task.val_size=4", "task.test_size=6"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), sizes.begin(), sizes.end());
    return config_with(extra);
  };
  // task.max_len 512 (the default) would crop 1,024-pixel images: refused at load, named.
  CHECK_THROWS_WITH(make_task(with({}))->load(tmp.path().string(), {"test"}),
                    Catch::Contains("task.max_len = 512 would crop the 32x32 images"));
  CHECK_THROWS_WITH(make_task(with({"task.image_size=48", "task.max_len=4096"})),
                    Catch::Contains("task.image_size must be 32 or 64 (got 48)"));

  // Generated into the run folder: every split exactly balanced, 1,024 pixels each.
  const Config gen = with({"task.max_len=1024"});
  auto task = make_task(gen);
  task->load(tmp.path().string(), {"train", "val", "test"});
  CHECK(task->shape().vocab == 256 + 1);  // grey levels + the CLS token
  CHECK(task->shape().num_classes == 2);
  for (const auto& [split, n] :
       std::vector<std::pair<std::string, std::size_t>>{{"train", 8}, {"val", 4}, {"test", 6}}) {
    const SequenceDataset* d = task->sequences(split);
    REQUIRE(d != nullptr);
    REQUIRE(d->size() == n);
    std::size_t ones = 0;
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(d->tokens(i).size() == 1024 + 1);  // + the CLS token
      ones += d->label(i) == 1 ? 1 : 0;
    }
    CHECK(ones == n / 2);
    CHECK(std::filesystem::exists(tmp.path() / "data" / "pathfinder32" / split / "metadata"));
  }
  // A resumed run reads the same files; the splits are different images.
  auto again = make_task(gen);
  again->load(tmp.path().string(), {"train", "test"});
  auto first = [](const Task& t, const char* split) {
    const auto s = t.sequences(split)->tokens(0);
    return std::vector<std::int32_t>(s.begin(), s.end());
  };
  CHECK(first(*again, "train") == first(*task, "train"));
  CHECK(first(*task, "train") != first(*task, "test"));

  // One LRA-style set in task.data_dir: test, val and train carved from it, disjoint.
  const auto options = pathfinder_options(32, 5);
  write_pathfinder_files(tmp.file("lra"), PathfinderGenerator(options).generate(20), options);
  auto carved = make_task(
      with({"task.max_len=1024", "task.data_dir=" + tmp.file("lra"), "task.train_size=0"}));
  carved->load("", {"train", "val", "test"});
  CHECK(carved->sequences("test")->size() == 6);
  CHECK(carved->sequences("val")->size() == 4);
  CHECK(carved->sequences("train")->size() == 10);
  std::set<std::vector<std::int32_t>> seen;
  for (const char* split : {"train", "val", "test"}) {
    const SequenceDataset* d = carved->sequences(split);
    for (std::size_t i = 0; i < d->size(); ++i) {
      const auto t = d->tokens(i);
      seen.emplace(t.begin(), t.end());
    }
  }
  CHECK(seen.size() == 20);
  // eval --data: the whole folder as the split, not carved.
  auto whole = make_task(gen);
  whole->read_data_from(tmp.file("lra"), "test");
  whole->load("", {"test"});
  CHECK(whole->sequences("test")->size() == 20);
  // Too small a set for the carve is named.
  auto tiny = make_task(
      with({"task.max_len=1024", "task.data_dir=" + tmp.file("lra"), "task.test_size=16"}));
  CHECK_THROWS_WITH(tiny->load("", {"train"}),
                    Catch::Contains("has 20 images, none left for the train split"));
}
