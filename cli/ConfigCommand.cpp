// Why: `diffuser config` shows the experiment-config schema and resolves a config file, so a user
// can see every key with its default and check a config before a long run.
#include <cstdio>
#include <memory>

#include "cli/Commands.hpp"
#include "experiments/config/Config.hpp"

namespace diffuser::cli {

void register_config_commands(CLI::App& app, Action& action) {
  auto* config = app.add_subcommand("config", "Experiment configuration: schema and validation");
  config->require_subcommand(1);

  auto* schema = config->add_subcommand("schema",
                                        "Print every config key with type, default and "
                                        "description (Markdown: docs/configs.md)");
  schema->callback([&action] {
    action = [] { std::fputs(experiments::config_schema_markdown().c_str(), stdout); };
  });

  struct CheckArgs {
    std::string file;
    std::vector<std::string> sets;
  };
  auto args = std::make_shared<CheckArgs>();
  auto* check = config->add_subcommand(
      "check", "Validate a config file (plus --set overrides) and print the resolved config");
  check->add_option("FILE", args->file, "Config JSON file")->required();
  check->add_option("--set", args->sets, "Override one key: section.key=value (repeatable)");
  check->callback([&action, args] {
    action = [args] {
      const auto c = experiments::Config::load(args->file, args->sets);
      std::printf("%s\n", c.to_json().dump(2).c_str());
    };
  });
}

}  // namespace diffuser::cli
