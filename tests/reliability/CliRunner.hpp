// Why: the reliability tests judge the `diffuser` executable from outside, as a user or a
// script sees it: exit status, whether a signal killed it, and what it printed. Running it
// through fork/exec (not a shell) tells a signal from an exit code exactly, and a deadline turns
// a hang into a test failure instead of a stuck test run.
#pragma once

#include <string>
#include <vector>

namespace diffuser::testing {

/// How one run of the executable ended.
struct CliResult {
  int exit_code = -1;      ///< exit status; -1 when the process did not exit normally
  int signal = 0;          ///< the signal that killed it, 0 when it exited
  bool timed_out = false;  ///< killed by run_cli after `timeout_s`
  std::string out, err;    ///< captured stdout and stderr
};

/// Runs `binary args...` with `work_dir` as the working directory, stdout and stderr captured
/// in files there, OMP_NUM_THREADS=2. Kills it (SIGKILL) after `timeout_s` seconds.
CliResult run_cli(const std::string& binary, const std::vector<std::string>& args,
                  const std::string& work_dir, double timeout_s = 120);

/// Number of lines in `text` (a last line without '\n' counts).
int count_lines(const std::string& text);

}  // namespace diffuser::testing
