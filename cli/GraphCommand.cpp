// Why: `diffuser graph ...` subcommands (build, stats, export) over the graph module.
#include "cli/Commands.hpp"

namespace diffuser::cli {

void register_graph_commands(CLI::App& app, Action& action) {
  auto* graph = app.add_subcommand("graph", "Build, inspect and export token graphs");
  graph->require_subcommand(1);
}

}  // namespace diffuser::cli
