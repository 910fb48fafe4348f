// Why: the CLI tests judge the built `diffuser` executable (path in DIFFUSER_CLI_BINARY, defined
// per test target in tests/cli/CMakeLists.txt) by its exit status and output; this is the one
// way they run it (through the shell, so a test writes its arguments as a user would).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/Testing.hpp"

namespace diffuser::testing {

/// How one shell run of `diffuser` ended.
struct RunResult {
  int exit_code = -1;  ///< exit status, -1 when killed by a signal
  std::string out, err;
};

/// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs `diffuser <args>` through the shell, capturing stdout and stderr in files under dir.
inline RunResult run_cli(const TempDir& dir, const std::string& args) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd =
      std::string("'") + DIFFUSER_CLI_BINARY + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  REQUIRE(status != -1);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace diffuser::testing
