// Why: each subcommand group lives in its own file and registers itself on the top-level app;
// main.cpp only wires them together and turns errors into one line on stderr.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace diffuser::cli {

/// A subcommand's action, run after parsing. Throws diffuser::Error on bad input.
using Action = std::function<void()>;

/// Registers `diffuser graph build|stats|export`.
void register_graph_commands(CLI::App& app, Action& action);

}  // namespace diffuser::cli
