// Why: configs are the user's interface to experiments; unknown or ill-typed keys must be
// errors naming the key, and docs/configs.md must match the schema.
#include <fstream>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "tests/Testing.hpp"

using diffuser::Error;
using diffuser::experiments::Config;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

TEST_CASE("config defaults, file values and overrides resolve in order", "[cpu][config]") {
  TempDir dir;
  write_file(
      dir.file("c.json"),
      R"({"model": {"dim": 96, "heads": 6}, "attention": {"variant": "sparse", "theta": [0.5, 0.5]}})");
  const Config c =
      Config::load(dir.file("c.json"), {"model.dim=128", "optim.lr=3e-4", "train.seed=7"});
  CHECK(c.get_int("model.dim") == 128);
  CHECK(c.get_int("model.heads") == 6);
  CHECK(c.get_string("attention.variant") == "sparse");
  CHECK(c.get_float("optim.lr") == Approx(3e-4));
  CHECK(c.get_int("train.seed") == 7);
  CHECK(c.get_float_list("attention.theta") == std::vector<double>{0.5, 0.5});
  CHECK(c.get_int("model.layers") == Config().get_int("model.layers"));
  const auto j = c.to_json();
  CHECK(j["model"]["dim"] == 128);
  CHECK(j["attention"]["variant"] == "sparse");
}

TEST_CASE("config errors name the key and the problem", "[cpu][config]") {
  TempDir dir;
  auto expect = [&](const std::string& content, const std::vector<std::string>& sets,
                    const std::string& needle) {
    write_file(dir.file("bad.json"), content);
    try {
      Config::load(dir.file("bad.json"), sets);
      FAIL("no error for " << needle);
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  expect(R"({"model": {"dimm": 3}})", {}, "unknown config key 'model.dimm'");
  expect(R"({"model": {"dim": "big"}})", {}, "'model.dim' must be an integer");
  expect(R"({"model": {"dim": 1.5}})", {}, "'model.dim' must be an integer");
  expect(R"({"model": {"dropout": 2.0}})", {}, "'model.dropout' = 2 outside");
  expect(R"({"attention": {"variant": "dense"}})", {}, "is not one of: diffuser, sparse, full");
  expect(R"({"attention": {"theta": [1, "x"]}})", {},
         "'attention.theta' must be a list of numbers");
  expect(R"({"model": {"dim": 3})", {}, "malformed JSON");
  expect(R"([1, 2])", {}, "must be a JSON object");
  expect("{}", {"model.dim"}, "expected key=value");
  expect("{}", {"model.size=3"}, "unknown config key 'model.size'");
  expect("{}", {"model.dim=abc"}, "'abc' is not a valid integer");
  expect("{}", {"train.on_nonfinite=ignore"}, "is not one of: stop, skip");
  expect(R"({"attention": {"hops": "automatic"}})", {},
         "'attention.hops' must be an integer or \"auto\" (got \"automatic\")");
  expect(R"({"model": {"dim": "auto"}})", {}, "'model.dim' must be an integer (got \"auto\")");
  expect("{}", {"attention.hops=65"}, "'attention.hops' = 65 outside [0, 64]");
  CHECK_THROWS_WITH(Config::load(dir.file("missing.json")), Catch::Contains("missing.json"));
}

TEST_CASE("docs/configs.md is the generated schema reference", "[cpu][config]") {
  const std::string path = std::string(DIFFUSER_SOURCE_DIR) + "/docs/configs.md";
  const std::string expected = diffuser::experiments::config_schema_markdown();
  std::string actual;
  REQUIRE_NOTHROW(actual = diffuser::read_text_file(path));
  INFO("regenerate with: build/release/cli/diffuser config schema > docs/configs.md");
  CHECK(actual == expected);
}

TEST_CASE("attention.hops takes a number or \"auto\", from files and --set", "[cpu][config]") {
  TempDir dir;
  write_file(dir.file("c.json"), R"({"attention": {"hops": "auto", "auto_epsilon": 0.4}})");
  const Config c = Config::load(dir.file("c.json"));
  CHECK(c.get_word("attention.hops") == "auto");
  CHECK(c.get_float("attention.auto_epsilon") == 0.4);
  CHECK(c.to_json()["attention"]["hops"] == "auto");
  CHECK_THROWS_WITH(c.get_int("attention.hops"),
                    Catch::Contains("'attention.hops' is \"auto\" here, where a number is needed"));
  const Config n = Config::load(dir.file("c.json"), {"attention.hops=7"});
  CHECK(n.get_word("attention.hops").empty());
  CHECK(n.get_int("attention.hops") == 7);
  Config o;
  o.apply_override("attention.hops=auto");
  CHECK(o.get_word("attention.hops") == "auto");
  // The resolved config written to a run folder reads back the same.
  Config back;
  back.apply_json(o.to_json(), "run config");
  CHECK(back.get_word("attention.hops") == "auto");
}
