// Why: `diffuser demo` is the first thing a new user runs (README command 1): in about two
// minutes on a laptop CPU it builds long attention patterns, analyses their spectra and
// diffusion receptive fields, trains a tiny Diffuser on generated ListOps, looks at its
// attention, draws every picture with scripts/plot_*.py and writes a summary page. Each step is
// an ordinary `diffuser` command run as a child process, so the summary lists command lines a
// user can rerun and vary; the spectral step calls the same `viz spectrum` a user would.
#include <fmt/format.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/Commands.hpp"
#include "core/AtomicFile.hpp"
#include "core/Error.hpp"

#ifndef DIFFUSER_SOURCE_DIR
#define DIFFUSER_SOURCE_DIR ""
#endif

namespace diffuser::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

/// The names a demo writes inside its folder; a rerun removes exactly these.
const std::vector<std::string> kDemoOutputs{"demo.json",
                                            "summary.md",
                                            "logs",
                                            "img",
                                            "pattern_diffuser",
                                            "pattern_bigbird",
                                            "pattern_window",
                                            "receptive_diffuser",
                                            "receptive_window",
                                            "spectrum_diffuser",
                                            "spectrum_window",
                                            "run",
                                            "attention"};

struct DemoArgs {
  std::string out = "demo";
  std::string source = DIFFUSER_SOURCE_DIR;
  std::string python;
  std::int64_t train_steps = 0;
  int threads = 0;
  bool no_plots = false;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string join_command(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    const bool plain = a.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789_-+=.,/:") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain && !a.empty() ? a : shell_quote(a));
  }
  return out;
}

/// The last `lines` lines of a text file ("" when unreadable).
std::string tail_of(const std::string& path, int lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  const std::size_t from = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0;
  for (std::size_t i = from; i < all.size(); ++i) out += "    " + all[i] + "\n";
  return out;
}

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Json();
  try {
    return Json::parse(in);
  } catch (const Json::parse_error&) {
    return Json();
  }
}

/// One step that ran (or failed, or was skipped).
struct StepRecord {
  std::string title;
  std::string command;  ///< as a user would type it (`diffuser ...` or `python3 scripts/...`)
  std::string log;      ///< log file, relative to the demo folder
  double seconds = 0.0;
  int exit_code = 0;
  bool skipped = false;
};

class Demo {
 public:
  explicit Demo(const DemoArgs& a) : a_(a) {}

  void run();

 private:
  /// Runs argv (argv[0] = the program) with stdout+stderr into logs/<name>.log.
  StepRecord exec(const std::string& name, const std::string& title,
                  const std::vector<std::string>& argv, const std::string& shown);
  /// A `diffuser` subcommand; failure is an error (later steps need its output).
  void run_step(const std::string& name, const std::string& title,
                const std::vector<std::string>& args);
  /// A plot script; failure is recorded and reported at the end.
  void plot(const std::string& name, const std::string& title, const std::string& script,
            const std::vector<std::string>& args);
  void prepare_folder();
  void write_summary() const;
  std::string path(const std::string& rel) const { return (fs::path(a_.out) / rel).string(); }
  /// A file of the source tree, relative when the demo runs from the tree's root (so the
  /// summary's command lines read like the docs), absolute otherwise.
  std::string in_source(const std::string& rel) const {
    std::error_code ec;
    if (fs::equivalent(fs::current_path(), a_.source, ec)) return rel;
    return (fs::path(a_.source) / rel).string();
  }

  DemoArgs a_;
  std::string self_;
  std::string python_;
  bool plots_possible_ = true;
  std::string no_plot_reason_;
  std::vector<StepRecord> steps_;
  std::vector<std::string> plot_failures_;
  std::vector<std::pair<std::string, std::string>> images_;  // (title, relative PNG path)
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

StepRecord Demo::exec(const std::string& name, const std::string& title,
                      const std::vector<std::string>& argv, const std::string& shown) {
  StepRecord r;
  r.title = title;
  r.command = shown;
  r.log = "logs/" + name + ".log";
  std::fprintf(stderr, "[demo %zu] %s\n    %s\n", steps_.size() + 1, title.c_str(), shown.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> quoted;
  for (const std::string& s : argv) quoted.push_back(shell_quote(s));
  std::string cmd;
  for (const std::string& q : quoted) cmd += (cmd.empty() ? "" : " ") + q;
  cmd += " >" + shell_quote(path(r.log)) + " 2>&1 </dev/null";
  const int status = std::system(cmd.c_str());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (status == -1) {
    r.exit_code = 127;
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else {
    r.exit_code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  std::fprintf(stderr, "    %s in %.1f s\n", r.exit_code == 0 ? "done" : "FAILED", r.seconds);
  steps_.push_back(r);
  return r;
}

void Demo::run_step(const std::string& name, const std::string& title,
                    const std::vector<std::string>& args) {
  std::vector<std::string> argv{self_};
  argv.insert(argv.end(), args.begin(), args.end());
  const StepRecord r = exec(name, title, argv, "diffuser " + join_command(args));
  if (r.exit_code != 0) {
    write_summary();
    std::fprintf(stderr, "last lines of %s:\n%s", path(r.log).c_str(),
                 tail_of(path(r.log), 8).c_str());
    fail("demo: step '{}' failed (exit {}); its log is {}", title, r.exit_code, path(r.log));
  }
}

void Demo::plot(const std::string& name, const std::string& title, const std::string& script,
                const std::vector<std::string>& args) {
  const std::string script_path = (fs::path(a_.source) / "scripts" / script).string();
  const std::string shown = "python3 scripts/" + script + " " + join_command(args);
  if (!plots_possible_) {
    StepRecord r;
    r.title = title;
    r.command = shown;
    r.skipped = true;
    steps_.push_back(r);
    return;
  }
  std::vector<std::string> argv{python_, script_path};
  argv.insert(argv.end(), args.begin(), args.end());
  const StepRecord r = exec(name, title, argv, shown);
  if (r.exit_code != 0) {
    plot_failures_.push_back(fmt::format("{} (exit {}, see {})", title, r.exit_code, r.log));
    std::fprintf(stderr, "diffuser: warning: plot step '%s' failed; last lines of %s:\n%s",
                 title.c_str(), path(r.log).c_str(), tail_of(path(r.log), 6).c_str());
  }
}

void Demo::prepare_folder() {
  std::error_code ec;
  if (fs::exists(a_.out)) {
    DIFFUSER_CHECK(fs::is_directory(a_.out), "--out {}: exists and is not a folder", a_.out);
    const bool empty = fs::is_empty(a_.out, ec);
    if (!empty) {
      DIFFUSER_CHECK(fs::exists(path("demo.json")),
                     "--out {}: the folder is not empty and holds no earlier demo (demo.json); "
                     "choose an empty or new folder",
                     a_.out);
      for (const std::string& name : kDemoOutputs) {
        fs::remove_all(path(name), ec);
        DIFFUSER_CHECK(!ec, "--out {}: cannot remove the earlier demo's {} ({})", a_.out, name,
                       ec.message());
      }
    }
  }
  fs::create_directories(path("logs"), ec);
  DIFFUSER_CHECK(!ec, "--out {}: cannot create the folder ({})", a_.out, ec.message());
  fs::create_directories(path("img"), ec);
  DIFFUSER_CHECK(!ec, "--out {}: cannot create the folder ({})", a_.out, ec.message());
  write_text_atomic(path("demo.json"), Json{{"what",
                                             "output folder of `diffuser demo`; rerunning the demo "
                                             "replaces the files listed in outputs"},
                                            {"outputs", kDemoOutputs}}
                                               .dump(2) +
                                           "\n");
}

void Demo::run() {
  std::error_code ec;
  self_ = fs::read_symlink("/proc/self/exe", ec).string();
  DIFFUSER_CHECK(!ec && !self_.empty(), "demo: cannot find the diffuser executable ({})",
                 ec.message());
  DIFFUSER_CHECK(!a_.source.empty() && fs::is_directory(fs::path(a_.source) / "scripts") &&
                     fs::is_directory(fs::path(a_.source) / "experiments" / "configs"),
                 "demo: --source '{}' is not a diffuser source tree (it needs scripts/ and "
                 "experiments/configs/)",
                 a_.source);
  DIFFUSER_CHECK(a_.train_steps >= 0, "--train-steps {} is negative", a_.train_steps);
  DIFFUSER_CHECK(a_.threads >= 0, "--threads {} is negative", a_.threads);
  python_ = !a_.python.empty()               ? a_.python
            : fs::exists("/usr/bin/python3") ? "/usr/bin/python3"
                                             : "python3";
  prepare_folder();
  // Child steps run OpenMP kernels with many short parallel regions. With the default active
  // wait policy, threads spin between regions; on a machine that is busy with anything else
  // (or has fewer free cores than threads) that spinning costs 10-20x (measured: a 4096-token
  // spectrum took 23 s instead of 1.4 s). Passive waiting costs microseconds per region.
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  // `--threads N` for the analysis steps only when asked for (0: every core).
  std::vector<std::string> threads;
  if (a_.threads > 0) threads = {"--threads", std::to_string(a_.threads)};
  auto with_threads = [&threads](std::vector<std::string> args) {
    args.insert(args.end() - 2, threads.begin(), threads.end());
    return args;
  };

  // Plots need matplotlib and numpy for the chosen interpreter: check once, say so clearly.
  if (a_.no_plots) {
    plots_possible_ = false;
    no_plot_reason_ = "--no-plots was given";
  } else {
    const std::string probe = shell_quote(python_) + " -c 'import matplotlib, numpy' >" +
                              shell_quote(path("logs/python_check.log")) + " 2>&1 </dev/null";
    if (std::system(probe.c_str()) != 0) {
      plots_possible_ = false;
      no_plot_reason_ = fmt::format(
          "{} cannot import matplotlib and numpy (see logs/python_check.log); install them with "
          "`sudo bash scripts/setup.sh` (Debian: python3-matplotlib python3-numpy)",
          python_);
      std::fprintf(stderr, "diffuser: warning: no pictures: %s\n", no_plot_reason_.c_str());
    }
  }

  // 1. Long patterns, as block-density maps (never an n x n array).
  run_step("pattern_diffuser", "Diffuser pattern at n = 16384 (density map + degrees)",
           {"viz", "pattern", "--n", "16384", "--preset", "diffuser", "--pixels", "512", "--out",
            path("pattern_diffuser")});
  run_step("pattern_bigbird", "BigBird pattern at n = 16384",
           {"viz", "pattern", "--n", "16384", "--preset", "bigbird", "--pixels", "512", "--out",
            path("pattern_bigbird")});
  run_step("pattern_window", "Window-only pattern (radius 64) at n = 16384",
           {"viz", "pattern", "--n", "16384", "--spec", "window=64", "--pixels", "512", "--out",
            path("pattern_window")});
  // 2. Receptive fields of one query under 5 hops of PPR diffusion.
  run_step("receptive_diffuser",
           "Receptive field of token 2048 (Diffuser pattern, n = 4096, random-QK softmax, PPR "
           "alpha 0.1, K = 5)",
           with_threads({"viz", "receptive", "--n", "4096", "--preset", "diffuser", "--query",
                         "2048", "--weights", "random-qk", "--alpha", "0.1", "--hops", "5", "--out",
                         path("receptive_diffuser")}));
  run_step("receptive_window", "Receptive field of token 2048 (window-only, uniform weights)",
           with_threads({"viz", "receptive", "--n", "4096", "--spec", "window=64", "--query",
                         "2048", "--weights", "uniform", "--alpha", "0.1", "--hops", "5", "--out",
                         path("receptive_window")}));
  // 3. Spectra: every eigenvalue at n = 1024, epsilon vs K, the gap vs n up to 16384.
  run_step("spectrum_diffuser", "Spectrum of the Diffuser pattern (n = 1024; gap up to 16384)",
           with_threads({"viz", "spectrum", "--n", "1024", "--preset", "diffuser", "--lengths",
                         "1024,4096,16384", "--out", path("spectrum_diffuser")}));
  run_step("spectrum_window", "Spectrum of the window-only pattern",
           with_threads({"viz", "spectrum", "--n", "1024", "--spec", "window=64", "--lengths",
                         "1024,4096,16384", "--out", path("spectrum_window")}));
  // 4. A tiny model on generated ListOps, then its attention on one test example.
  std::vector<std::string> train{
      "train", "--config",           in_source("experiments/configs/listops_tiny.json"),
      "--out", path("run"),          "--no-progress",
      "--set", "train.eval_every=50"};
  // The tiny model (width 64, ~100 tokens) gains little from a second thread; the config's
  // train.threads = 1 stays unless --threads asks otherwise.
  if (a_.threads > 0) {
    train.insert(train.end(), {"--set", fmt::format("train.threads={}", a_.threads)});
  }
  if (a_.train_steps > 0) {
    train.insert(train.end(), {"--set", fmt::format("train.steps={}", a_.train_steps)});
  }
  run_step("train", "Train a 2-layer Diffuser on generated ListOps (listops_tiny)", train);
  run_step("attention", "Attention of the trained model on test example 0",
           {"viz", "attention", "--checkpoint", path("run/checkpoint_best.bin"), "--data", "test",
            "--example", "0", "--pixels", "128", "--out", path("attention")});

  // 5. Pictures.
  const std::string img = path("img");
  auto picture = [&](const std::string& name, const std::string& title, const std::string& script,
                     std::vector<std::string> args) {
    args.insert(args.end(), {"--out", (fs::path(img) / (name + ".png")).string()});
    plot("plot_" + name, title, script, args);
    if (plots_possible_ && fs::exists(fs::path(img) / (name + ".png"))) {
      images_.emplace_back(title, "img/" + name + ".png");
    }
  };
  picture("patterns", "Attention patterns at n = 16384", "plot_pattern.py",
          {path("pattern_diffuser"), path("pattern_bigbird"), path("pattern_window")});
  picture("receptive", "Receptive field spread per hop", "plot_receptive.py",
          {path("receptive_diffuser"), path("receptive_window")});
  picture("spectrum", "Spectra, epsilon vs K, gap vs n", "plot_spectrum.py",
          {path("spectrum_diffuser"), path("spectrum_window")});
  picture("training", "Training curves", "plot_training.py",
          {path("run"), "--title", "listops_tiny: 2 x 64 Diffuser on generated ListOps"});
  picture("attention", "Attention of the trained model", "plot_attention.py", {path("attention")});
  if (fs::is_directory(fs::path(a_.source) / "bench-out")) {
    picture("bench", "Benchmarks (bench-out/)", "plot_bench.py", {in_source("bench-out")});
  }
  write_summary();
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "demo finished in %.0f s: %s\n", total, path("summary.md").c_str());
  if (!plot_failures_.empty()) {
    fail("demo: {} plot step(s) failed: {}; the data is in {}, see {}", plot_failures_.size(),
         fmt::format("{}", fmt::join(plot_failures_, "; ")), a_.out, path("summary.md"));
  }
  if (!plots_possible_ && !a_.no_plots) {
    fail("demo: no pictures were drawn: {}; the data is in {}", no_plot_reason_, a_.out);
  }
}

void Demo::write_summary() const {
  std::string md = "# diffuser demo\n\n";
  md +=
      "Written by `diffuser demo`. Every step below is an ordinary command; rerun or vary it "
      "(paths are relative to the folder the demo ran in). The data formats are described in "
      "`docs/viz.md`.\n\n";
  const Json pd = read_json_file(path("pattern_diffuser/pattern.json"));
  const Json sd = read_json_file(path("spectrum_diffuser/spectrum.json"));
  const Json sw = read_json_file(path("spectrum_window/spectrum.json"));
  const Json rd = read_json_file(path("receptive_diffuser/receptive.json"));
  const Json metrics = read_json_file(path("run/metrics.json"));
  const Json att = read_json_file(path("attention/attention.json"));
  md += "## Numbers\n\n| what | value |\n|---|---|\n";
  auto row = [&md](const std::string& what, const std::string& value) {
    md += "| " + what + " | " + value + " |\n";
  };
  if (pd.is_object()) {
    row("Diffuser pattern at n = 16384: edges (nnz), keys per query",
        fmt::format("{}, {:.1f}", pd.value("nnz", std::int64_t{0}),
                    static_cast<double>(pd.value("nnz", std::int64_t{0})) / 16384.0));
  }
  if (sd.is_object() && sw.is_object()) {
    row("spectral gap lambda2 at n = 1024 (Diffuser / window-only)",
        fmt::format("{:.4f} / {:.6f}", sd.value("lambda2", 0.0), sw.value("lambda2", 0.0)));
  }
  if (rd.is_object()) {
    row("receptive field", "token 2048, " + rd.value("diffusion", std::string()) + ", " +
                               rd.value("weights", std::string()) + " weights");
  }
  if (metrics.is_object() && metrics.contains("test")) {
    row("tiny ListOps model: test accuracy (majority-class rate)",
        fmt::format("{:.3f} ({:.3f})", metrics["test"].value("accuracy", 0.0),
                    metrics["test"].value("majority_rate", 0.0)));
    row("training time", fmt::format("{:.0f} s", metrics.value("train_time_s", 0.0)));
  }
  if (att.is_object() && !att["prediction"].is_null()) {
    row("attention example: label / prediction",
        fmt::format("{} / {}", att["label"].dump(), att["prediction"].dump()));
  }
  md += "\n## Pictures\n\n";
  if (!plots_possible_) md += "No pictures: " + no_plot_reason_ + ".\n\n";
  for (const auto& [title, png] : images_)
    md += "### " + title + "\n\n![" + title + "](" + png + ")\n\n";
  if (!plot_failures_.empty()) {
    md += "Plot steps that failed: " + fmt::format("{}", fmt::join(plot_failures_, "; ")) + ".\n\n";
  }
  md += "## Steps\n\n| # | step | time | status | log |\n|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const StepRecord& s = steps_[i];
    md += fmt::format("| {} | {} | {:.1f} s | {} | {} |\n", i + 1, s.title, s.seconds,
                      s.skipped ? "skipped" : (s.exit_code == 0 ? "ok" : "FAILED"),
                      s.log.empty() ? "" : "[" + s.log + "](" + s.log + ")");
  }
  md += "\nCommands:\n\n```bash\n";
  for (const StepRecord& s : steps_) md += s.command + "\n";
  md += "```\n";
  write_text_atomic(path("summary.md"), md);
}

}  // namespace

void register_demo_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand(
      "demo",
      "Build patterns, analyse spectra and receptive fields, train a tiny model, draw the "
      "pictures and write DIR/summary.md (about 2 minutes on 2 cores)");
  cmd->add_option("--out", a->out, "Output folder (an earlier demo's files in it are replaced)")
      ->capture_default_str();
  cmd->add_option("--source", a->source,
                  "Source tree holding scripts/ and experiments/configs/ (default: the one this "
                  "binary was built from)")
      ->capture_default_str();
  cmd->add_option("--python", a->python,
                  "Python interpreter for the plots (default /usr/bin/python3, else python3)");
  cmd->add_option("--train-steps", a->train_steps,
                  "Override the tiny config's 600 training steps (0: keep)")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads,
                  "Threads of every step (0: analysis on all cores, training as the config "
                  "says: 1)")
      ->capture_default_str();
  cmd->add_flag("--no-plots", a->no_plots, "Write the data only (no Python needed)");
  cmd->callback([&action, a] { action = [a] { Demo(*a).run(); }; });
}

}  // namespace diffuser::cli
