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

/// Registers `diffuser attention` (sparse attention with diffusion on .npy tensors).
void register_attention_commands(CLI::App& app, Action& action);

/// Registers `diffuser config schema|check`.
void register_config_commands(CLI::App& app, Action& action);

/// Registers `diffuser data listops|fortunes|stats`.
void register_data_commands(CLI::App& app, Action& action);

/// Registers `diffuser train` and `diffuser eval`.
void register_train_commands(CLI::App& app, Action& action);

/// Registers `diffuser spectral FILE`, `diffuser spectral sweep` and `diffuser spectral approx`.
void register_spectral_commands(CLI::App& app, Action& action);

/// Registers `diffuser viz pattern|attention|receptive|spectrum` (docs/viz.md).
void register_viz_commands(CLI::App& app, Action& action);

}  // namespace diffuser::cli
