// Why: `diffuser train` and `diffuser eval` put the trainer behind a command line: a config file
// plus `--set` overrides in, a run folder out; Ctrl-C checkpoints instead of losing the run, and
// `--resume` picks it up again. The run records the command line and the source revision.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/training/RunFolder.hpp"
#include "experiments/training/Trainer.hpp"

#ifndef DIFFUSER_SOURCE_DIR
#define DIFFUSER_SOURCE_DIR ""
#endif

namespace diffuser::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

// First SIGINT/SIGTERM: ask the trainer to checkpoint and stop after the current step. A second
// one falls through to the default action (the user insists).
extern "C" void on_interrupt(int sig) {
  g_interrupted = 1;
  std::signal(sig, SIG_DFL);
}

/// The process's command line, from /proc/self/cmdline (arguments joined by spaces; arguments
/// with spaces or quotes are single-quoted). Empty when unavailable.
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    std::string arg = raw.substr(start, end - start);
    if (arg.find_first_of(" \t'\"") != std::string::npos) {
      std::string q = "'";
      for (char ch : arg) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      arg = q + "'";
    }
    out += (out.empty() ? "" : " ") + arg;
    start = end + 1;
  }
  return out;
}

/// First line printed by `cmd`, or "" on failure.
std::string first_line_of(const std::string& cmd) {
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[256] = {0};
  std::string line;
  if (std::fgets(buf, sizeof buf, p) != nullptr) line = buf;
  const int status = pclose(p);
  if (status != 0) return "";
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

/// Source revision at run time: `git rev-parse HEAD` in the source tree this binary was built
/// from, with "-dirty" when tracked files have uncommitted changes; "unknown" without git.
std::string git_revision() {
  const std::string dir = DIFFUSER_SOURCE_DIR;
  if (dir.empty()) return "unknown";
  const std::string git = "git -C '" + dir + "' ";
  const std::string head = first_line_of(git + "rev-parse HEAD 2>/dev/null");
  if (head.empty()) return "unknown";
  const std::string dirty =
      first_line_of(git + "status --porcelain --untracked-files=no 2>/dev/null | head -n 1");
  return dirty.empty() ? head : head + "-dirty";
}

void register_train(CLI::App& app, Action& action) {
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    std::string out;
    bool resume = false;
    std::int64_t stop_after = 0;
    bool no_progress = false;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "train",
      "Train a model from an experiment config; writes config.json, run.json, log.jsonl, "
      "checkpoints and metrics.json into --out (docs/experiments.md)");
  cmd->add_option("--config", a->config,
                  "Experiment config JSON (docs/configs.md); with --resume it defaults to the run "
                  "folder's config.json");
  cmd->add_option("--set", a->sets, "Override one key: section.key=value (repeatable)");
  cmd->add_option("--out", a->out, "Run folder (created if missing)")->required();
  cmd->add_flag("--resume", a->resume,
                "Continue the run in --out from its checkpoint_last.bin (same config; only "
                "train.steps and train.threads may change)");
  cmd->add_option("--stop-after", a->stop_after,
                  "Checkpoint and stop after this step, as if interrupted (continue with "
                  "--resume)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar, even on a terminal");
  cmd->add_flag("--quiet", a->quiet, "No status lines on stderr (errors still print)");
  cmd->callback([&action, a] {
    action = [a] {
      std::string config_path = a->config;
      if (config_path.empty()) {
        DIFFUSER_CHECK(a->resume, "train: --config is required (except with --resume)");
        config_path = (std::filesystem::path(a->out) / experiments::kRunConfigFile).string();
      }
      const auto config = experiments::Config::load(config_path, a->sets);
      experiments::TrainOptions o;
      o.run_dir = a->out;
      o.resume = a->resume;
      o.stop_after = a->stop_after;
      o.command_line = command_line();
      o.git_revision = git_revision();
      o.git_revision_source = "runtime: git rev-parse HEAD in the source tree of this binary";
      o.progress = !a->no_progress;
      o.messages = a->quiet ? nullptr : stderr;
      o.interrupted = &g_interrupted;
      std::signal(SIGINT, on_interrupt);
      std::signal(SIGTERM, on_interrupt);
      const auto result = experiments::Trainer(config, o).run();
      std::signal(SIGINT, SIG_DFL);
      std::signal(SIGTERM, SIG_DFL);
      if (result.interrupted) std::exit(130);
    };
  });
}

void register_eval(CLI::App& app, Action& action) {
  struct Args {
    std::string checkpoint;
    std::string data = "test";
    std::string split = "test";
    int threads = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "eval", "Evaluate a checkpoint written by `diffuser train`; prints metrics JSON");
  cmd->add_option("--checkpoint", a->checkpoint,
                  "Checkpoint file (e.g. runs/NAME/checkpoint_last.bin)")
      ->required();
  cmd->add_option("--data", a->data,
                  "A split of the run's own data (train, val, test) or a folder with the task's "
                  "files (bytelm: a text file)")
      ->capture_default_str();
  cmd->add_option("--split", a->split, "Split to evaluate when --data is a folder")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "CPU threads (0: the run's train.threads)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&action, a] {
    action = [a] {
      const auto metrics =
          experiments::evaluate_checkpoint(a->checkpoint, a->data, a->split, a->threads);
      std::printf("%s\n", metrics.dump(2).c_str());
    };
  });
}

}  // namespace

void register_train_commands(CLI::App& app, Action& action) {
  register_train(app, action);
  register_eval(app, action);
}

}  // namespace diffuser::cli
