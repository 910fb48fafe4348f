// Why: the `diffuser` executable. Parses the command line, runs the chosen subcommand, and
// turns every diffuser::Error (or other exception) into one line on stderr and exit code 1.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli/Commands.hpp"
#include "core/Error.hpp"

namespace {

/// The message with control characters escaped (newline as \n, others as \xHH; tabs kept), so
/// an error that quotes a hostile file (a key holding a newline, terminal escape codes) is still
/// exactly one harmless line on stderr.
std::string one_line(const char* message) {
  std::string out;
  for (const char* p = message; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "diffuser: sparse token-graph attention with multi-hop diffusion (Feng et al., AAAI 2023)"};
  app.set_version_flag("--version", "diffuser 0.1.0");
  app.require_subcommand(1);
  diffuser::cli::Action action;
  diffuser::cli::register_graph_commands(app, action);
  diffuser::cli::register_spectral_commands(app, action);
  diffuser::cli::register_attention_commands(app, action);
  diffuser::cli::register_config_commands(app, action);
  diffuser::cli::register_data_commands(app, action);
  diffuser::cli::register_train_commands(app, action);
  diffuser::cli::register_viz_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "diffuser: %s (see --help)\n", one_line(e.what()).c_str());
    return 2;
  }
  try {
    if (action) action();
  } catch (const diffuser::Error& e) {
    std::fprintf(stderr, "diffuser: error: %s\n", one_line(e.what()).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "diffuser: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diffuser: error: %s\n", one_line(e.what()).c_str());
    return 1;
  }
  return 0;
}
