// Why: the `diffuser` executable. Parses the command line, runs the chosen subcommand, and
// turns every diffuser::Error (or other exception) into one line on stderr and exit code 1.
#include <cstdio>
#include <exception>
#include <new>

#include "cli/Commands.hpp"
#include "core/Error.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "diffuser: sparse token-graph attention with multi-hop diffusion (Feng et al., AAAI 2023)"};
  app.set_version_flag("--version", "diffuser 0.1.0");
  app.require_subcommand(1);
  diffuser::cli::Action action;
  diffuser::cli::register_graph_commands(app, action);
  diffuser::cli::register_spectral_commands(app, action);
  diffuser::cli::register_config_commands(app, action);
  diffuser::cli::register_data_commands(app, action);
  diffuser::cli::register_train_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "diffuser: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    if (action) action();
  } catch (const diffuser::Error& e) {
    std::fprintf(stderr, "diffuser: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "diffuser: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diffuser: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
