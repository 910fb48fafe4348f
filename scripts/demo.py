#!/usr/bin/python3
"""The demo (README command 1): a tour of the `diffuser` executable and the plot scripts.

Why: the first thing a new user runs. In about a minute on a laptop CPU it builds long
attention patterns, analyses their spectra and diffusion receptive fields, trains a tiny
Diffuser on generated ListOps, looks at its attention, draws every picture with
scripts/plot_*.py and writes a summary page. Each step is an ordinary `diffuser` command run as
a child process, so the summary lists command lines a user can rerun and vary. The workflow
lives here, not in the executable: a driver of commands is a script's job, and the script
knows its source tree (scripts/, experiments/configs/) without a path compiled into a binary.

    /usr/bin/python3 scripts/demo.py --out demo
    /usr/bin/python3 scripts/demo.py --out /tmp/demo-data --no-plots --train-steps 100

Options: --out DIR (new, empty, or an earlier demo's folder: its files are replaced),
--threads N, --train-steps S, --python PATH (the plots' interpreter), --no-plots, and
--diffuser PATH (the executable; default $DIFFUSER, else build/cpu/cli/diffuser of this tree).
Standard library only; docs/viz.md describes the steps and the folder.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROG = "demo.py"

# The names a demo writes inside its folder; a rerun removes exactly these.
DEMO_OUTPUTS = [
    "demo.json", "summary.md", "logs", "img", "pattern_diffuser", "pattern_bigbird",
    "pattern_window", "receptive_diffuser", "receptive_window", "spectrum_diffuser",
    "spectrum_window", "run", "attention",
]

PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:")


class DemoError(Exception):
    """A step or an option that stops the demo; main() prints it as one line."""


def shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def join_command(args):
    """A command line as a user would type it: plain words bare, the rest single-quoted."""
    return " ".join(a if a and set(a) <= PLAIN else shell_quote(a) for a in args)


def tail_of(path, lines):
    """The last `lines` lines of a text file, indented ("" when unreadable)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            content = f.read().split("\n")
    except OSError:
        return ""
    if content and content[-1] == "":
        content.pop()
    return "".join(f"    {line}\n" for line in content[-lines:])


def read_json_file(path):
    """A JSON file's value, or None when it is missing or malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_text_atomic(path, text):
    """Writes through a temporary file in the same folder and renames it over `path`."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise DemoError(f"cannot write '{path}': {e.strerror}") from None


class Step:
    """One step that ran (or failed, or was skipped)."""

    def __init__(self, title, command, log="", seconds=0.0, exit_code=0, skipped=False):
        self.title = title
        self.command = command  # as a user would type it (`diffuser ...` or `python3 scripts/...`)
        self.log = log  # log file, relative to the demo folder
        self.seconds = seconds
        self.exit_code = exit_code
        self.skipped = skipped


class Demo:
    def __init__(self, args):
        self.a = args
        self.python = args.python or (
            "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3")
        self.plots_possible = True
        self.no_plot_reason = ""
        self.steps = []
        self.plot_failures = []
        self.images = []  # (title, relative PNG path)
        self.start = time.monotonic()
        self.env = dict(os.environ)
        # Child steps run OpenMP kernels with many short parallel regions. With the default
        # active wait policy, threads spin between regions; on a machine that is busy with
        # anything else (or has fewer free cores than threads) that spinning costs 10-20x
        # (measured: a 4096-token spectrum took 23 s instead of 1.4 s). Passive waiting costs
        # microseconds per region.
        self.env.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    def path(self, rel):
        return os.path.join(self.a.out, rel)

    def in_source(self, rel):
        """A file of the source tree, relative when the demo runs from the tree's root (so the
        summary's command lines read like the docs), absolute otherwise."""
        try:
            if os.path.samefile(os.getcwd(), ROOT):
                return rel
        except OSError:
            pass
        return os.path.join(ROOT, rel)

    def exec(self, name, title, argv, shown):
        """Runs argv with stdout+stderr into logs/<name>.log; records and returns the step."""
        step = Step(title, shown, log=f"logs/{name}.log")
        print(f"[demo {len(self.steps) + 1}] {title}\n    {shown}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        with open(self.path(step.log), "wb") as log:
            try:
                code = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT, env=self.env).returncode
            except OSError as e:
                log.write(f"{argv[0]}: cannot run: {e.strerror}\n".encode())
                code = 127
        step.seconds = time.monotonic() - t0
        step.exit_code = code if code >= 0 else 128 - code  # killed by a signal: 128 + signal
        print(f"    {'done' if step.exit_code == 0 else 'FAILED'} in {step.seconds:.1f} s",
              file=sys.stderr, flush=True)
        self.steps.append(step)
        return step

    def run_step(self, name, title, args):
        """A `diffuser` subcommand; failure is an error (later steps need its output)."""
        step = self.exec(name, title, [self.a.diffuser] + args, "diffuser " + join_command(args))
        if step.exit_code != 0:
            self.write_summary()
            log = self.path(step.log)
            print(f"last lines of {log}:\n{tail_of(log, 8)}", end="", file=sys.stderr)
            raise DemoError(f"step '{title}' failed (exit {step.exit_code}); its log is {log}")

    def plot(self, name, title, script, args):
        """A plot script; failure is recorded and reported at the end."""
        shown = f"python3 scripts/{script} {join_command(args)}"
        if not self.plots_possible:
            self.steps.append(Step(title, shown, skipped=True))
            return
        argv = [self.python, os.path.join(ROOT, "scripts", script)] + args
        step = self.exec(name, title, argv, shown)
        if step.exit_code != 0:
            self.plot_failures.append(f"{title} (exit {step.exit_code}, see {step.log})")
            log = self.path(step.log)
            print(f"{PROG}: warning: plot step '{title}' failed; last lines of {log}:\n"
                  f"{tail_of(log, 6)}", end="", file=sys.stderr)

    def prepare_folder(self):
        out = self.a.out
        if os.path.exists(out):
            if not os.path.isdir(out):
                raise DemoError(f"--out {out}: exists and is not a folder")
            try:
                empty = not os.listdir(out)
            except OSError:
                empty = False
            if not empty:
                if not os.path.exists(self.path("demo.json")):
                    raise DemoError(f"--out {out}: the folder is not empty and holds no earlier "
                                    "demo (demo.json); choose an empty or new folder")
                for name in DEMO_OUTPUTS:
                    target = self.path(name)
                    try:
                        if os.path.isdir(target) and not os.path.islink(target):
                            shutil.rmtree(target)
                        elif os.path.lexists(target):
                            os.remove(target)
                    except OSError as e:
                        raise DemoError(f"--out {out}: cannot remove the earlier demo's {name} "
                                        f"({e.strerror})") from None
        for sub in ("logs", "img"):
            try:
                os.makedirs(self.path(sub), exist_ok=True)
            except OSError as e:
                raise DemoError(f"--out {out}: cannot create the folder ({e.strerror})") from None
        write_text_atomic(self.path("demo.json"), json.dumps({
            "outputs": DEMO_OUTPUTS,
            "what": "output folder of scripts/demo.py; rerunning the demo replaces the files "
                    "listed in outputs",
        }, indent=2) + "\n")

    def check_options(self):
        a = self.a
        if not (os.path.isfile(a.diffuser) and os.access(a.diffuser, os.X_OK)):
            raise DemoError(
                f"--diffuser {a.diffuser}: no such executable; build it with `cmake --preset cpu "
                "&& cmake --build --preset cpu --target diffuser` (or pass --diffuser PATH or set "
                "$DIFFUSER)")
        if not os.path.isdir(os.path.join(ROOT, "experiments", "configs")):
            raise DemoError(f"{ROOT} is not a diffuser source tree (no experiments/configs/)")
        if a.train_steps < 0:
            raise DemoError(f"--train-steps {a.train_steps} is negative")
        if a.threads < 0:
            raise DemoError(f"--threads {a.threads} is negative")

    def check_plots(self):
        """Plots need matplotlib and numpy for the chosen interpreter: check once, say so."""
        if self.a.no_plots:
            self.plots_possible = False
            self.no_plot_reason = "--no-plots was given"
            return
        with open(self.path("logs/python_check.log"), "wb") as log:
            try:
                ok = subprocess.run([self.python, "-c", "import matplotlib, numpy"],
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT).returncode == 0
            except OSError as e:
                log.write(f"{self.python}: cannot run: {e.strerror}\n".encode())
                ok = False
        if not ok:
            self.plots_possible = False
            self.no_plot_reason = (
                f"{self.python} cannot import matplotlib and numpy (see logs/python_check.log); "
                "install them with `sudo bash scripts/setup.sh` (Debian: python3-matplotlib "
                "python3-numpy)")
            print(f"{PROG}: warning: no pictures: {self.no_plot_reason}", file=sys.stderr)

    def run(self):
        self.check_options()
        self.prepare_folder()
        self.check_plots()
        path = self.path
        # `--threads N` for the analysis steps only when asked for (0: every core).
        threads = ["--threads", str(self.a.threads)] if self.a.threads > 0 else []

        def with_threads(args):
            return args[:-2] + threads + args[-2:]

        # 1. Long patterns, as block-density maps (never an n x n array).
        self.run_step("pattern_diffuser", "Diffuser pattern at n = 16384 (density map + degrees)",
                      ["viz", "pattern", "--n", "16384", "--preset", "diffuser", "--pixels", "512",
                       "--out", path("pattern_diffuser")])
        self.run_step("pattern_bigbird", "BigBird pattern at n = 16384",
                      ["viz", "pattern", "--n", "16384", "--preset", "bigbird", "--pixels", "512",
                       "--out", path("pattern_bigbird")])
        self.run_step("pattern_window", "Window-only pattern (radius 64) at n = 16384",
                      ["viz", "pattern", "--n", "16384", "--spec", "window=64", "--pixels", "512",
                       "--out", path("pattern_window")])
        # 2. Receptive fields of one query under 5 hops of PPR diffusion.
        self.run_step("receptive_diffuser",
                      "Receptive field of token 2048 (Diffuser pattern, n = 4096, random-QK "
                      "softmax, PPR alpha 0.1, K = 5)",
                      with_threads(["viz", "receptive", "--n", "4096", "--preset", "diffuser",
                                    "--query", "2048", "--weights", "random-qk", "--alpha", "0.1",
                                    "--hops", "5", "--out", path("receptive_diffuser")]))
        self.run_step("receptive_window",
                      "Receptive field of token 2048 (window-only, uniform weights)",
                      with_threads(["viz", "receptive", "--n", "4096", "--spec", "window=64",
                                    "--query", "2048", "--weights", "uniform", "--alpha", "0.1",
                                    "--hops", "5", "--out", path("receptive_window")]))
        # 3. Spectra: every eigenvalue at n = 1024, epsilon vs K, the gap vs n up to 16384.
        self.run_step("spectrum_diffuser",
                      "Spectrum of the Diffuser pattern (n = 1024; gap up to 16384)",
                      with_threads(["viz", "spectrum", "--n", "1024", "--preset", "diffuser",
                                    "--lengths", "1024,4096,16384", "--out",
                                    path("spectrum_diffuser")]))
        self.run_step("spectrum_window", "Spectrum of the window-only pattern",
                      with_threads(["viz", "spectrum", "--n", "1024", "--spec", "window=64",
                                    "--lengths", "1024,4096,16384", "--out",
                                    path("spectrum_window")]))
        # 4. A tiny model on generated ListOps, then its attention on one test example.
        train = ["train", "--config", self.in_source("experiments/configs/listops_tiny.json"),
                 "--out", path("run"), "--no-progress", "--set", "train.eval_every=50"]
        # The tiny model (width 64, ~100 tokens) gains little from a second thread; the
        # config's train.threads = 1 stays unless --threads asks otherwise.
        if self.a.threads > 0:
            train += ["--set", f"train.threads={self.a.threads}"]
        if self.a.train_steps > 0:
            train += ["--set", f"train.steps={self.a.train_steps}"]
        self.run_step("train", "Train a 2-layer Diffuser on generated ListOps (listops_tiny)",
                      train)
        self.run_step("attention", "Attention of the trained model on test example 0",
                      ["viz", "attention", "--checkpoint", path("run/checkpoint_best.bin"),
                       "--data", "test", "--example", "0", "--pixels", "128", "--out",
                       path("attention")])

        # 5. Pictures.
        def picture(name, title, script, args):
            png = os.path.join(path("img"), name + ".png")
            self.plot("plot_" + name, title, script, args + ["--out", png])
            if self.plots_possible and os.path.exists(png):
                self.images.append((title, f"img/{name}.png"))

        picture("patterns", "Attention patterns at n = 16384", "plot_pattern.py",
                [path("pattern_diffuser"), path("pattern_bigbird"), path("pattern_window")])
        picture("receptive", "Receptive field spread per hop", "plot_receptive.py",
                [path("receptive_diffuser"), path("receptive_window")])
        picture("spectrum", "Spectra, epsilon vs K, gap vs n", "plot_spectrum.py",
                [path("spectrum_diffuser"), path("spectrum_window")])
        picture("training", "Training curves", "plot_training.py",
                [path("run"), "--title", "listops_tiny: 2 x 64 Diffuser on generated ListOps"])
        picture("attention", "Attention of the trained model", "plot_attention.py",
                [path("attention")])
        if os.path.isdir(os.path.join(ROOT, "bench-out")):
            picture("bench", "Benchmarks (bench-out/)", "plot_bench.py",
                    [self.in_source("bench-out")])
        self.write_summary()
        total = time.monotonic() - self.start
        print(f"demo finished in {total:.0f} s: {path('summary.md')}", file=sys.stderr)
        if self.plot_failures:
            raise DemoError(f"{len(self.plot_failures)} plot step(s) failed: "
                            f"{'; '.join(self.plot_failures)}; the data is in {self.a.out}, "
                            f"see {path('summary.md')}")
        if not self.plots_possible and not self.a.no_plots:
            raise DemoError(f"no pictures were drawn: {self.no_plot_reason}; the data is in "
                            f"{self.a.out}")

    def write_summary(self):
        path = self.path
        md = "# diffuser demo\n\n"
        md += ("Written by `scripts/demo.py`. Every step below is an ordinary command; rerun or "
               "vary it (paths are relative to the folder the demo ran in). The data formats are "
               "described in `docs/viz.md`.\n\n")
        pd = read_json_file(path("pattern_diffuser/pattern.json"))
        sd = read_json_file(path("spectrum_diffuser/spectrum.json"))
        sw = read_json_file(path("spectrum_window/spectrum.json"))
        rd = read_json_file(path("receptive_diffuser/receptive.json"))
        metrics = read_json_file(path("run/metrics.json"))
        att = read_json_file(path("attention/attention.json"))
        md += "## Numbers\n\n| what | value |\n|---|---|\n"

        def row(what, value):
            nonlocal md
            md += f"| {what} | {value} |\n"

        if isinstance(pd, dict):
            nnz = pd.get("nnz", 0)
            row("Diffuser pattern at n = 16384: edges (nnz), keys per query",
                f"{nnz}, {nnz / 16384.0:.1f}")
        if isinstance(sd, dict) and isinstance(sw, dict):
            row("spectral gap lambda2 at n = 1024 (Diffuser / window-only)",
                f"{sd.get('lambda2', 0.0):.4f} / {sw.get('lambda2', 0.0):.6f}")
        if isinstance(rd, dict):
            row("receptive field", f"token 2048, {rd.get('diffusion', '')}, "
                                   f"{rd.get('weights', '')} weights")
        if isinstance(metrics, dict) and isinstance(metrics.get("test"), dict):
            test = metrics["test"]
            row("tiny ListOps model: test accuracy (majority-class rate)",
                f"{test.get('accuracy', 0.0):.3f} ({test.get('majority_rate', 0.0):.3f})")
            row("training time", f"{metrics.get('train_time_s', 0.0):.0f} s")
        if isinstance(att, dict) and att.get("prediction") is not None:
            row("attention example: label / prediction",
                f"{json.dumps(att.get('label'))} / {json.dumps(att['prediction'])}")
        md += "\n## Pictures\n\n"
        if not self.plots_possible:
            md += f"No pictures: {self.no_plot_reason}.\n\n"
        for title, png in self.images:
            md += f"### {title}\n\n![{title}]({png})\n\n"
        if self.plot_failures:
            md += f"Plot steps that failed: {'; '.join(self.plot_failures)}.\n\n"
        md += "## Steps\n\n| # | step | time | status | log |\n|---|---|---|---|---|\n"
        for i, s in enumerate(self.steps):
            status = "skipped" if s.skipped else ("ok" if s.exit_code == 0 else "FAILED")
            log = f"[{s.log}]({s.log})" if s.log else ""
            md += f"| {i + 1} | {s.title} | {s.seconds:.1f} s | {status} | {log} |\n"
        md += "\nCommands:\n\n```bash\n"
        for s in self.steps:
            md += s.command + "\n"
        md += "```\n"
        write_text_atomic(path("summary.md"), md)


def main():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build patterns, analyse spectra and receptive fields, train a tiny model, "
                    "draw the pictures and write DIR/summary.md (about 2 minutes on 2 cores)")
    parser.add_argument("--out", default="demo",
                        help="output folder (an earlier demo's files in it are replaced; "
                             "default: demo)")
    parser.add_argument("--diffuser", metavar="PATH",
                        default=os.environ.get("DIFFUSER") or
                        os.path.join(ROOT, "build", "cpu", "cli", "diffuser"),
                        help="the diffuser executable (default: $DIFFUSER, else "
                             "build/cpu/cli/diffuser of this source tree)")
    parser.add_argument("--python", metavar="PATH", default="",
                        help="Python interpreter for the plots (default /usr/bin/python3, "
                             "else python3)")
    parser.add_argument("--train-steps", type=int, default=0,
                        help="override the tiny config's 600 training steps (0: keep)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads of every step (0: analysis on all cores, training as the "
                             "config says: 1)")
    parser.add_argument("--no-plots", action="store_true",
                        help="write the data only (no matplotlib needed)")
    args = parser.parse_args()
    try:
        Demo(args).run()
    except DemoError as e:
        message = str(e).replace("\n", "\\n")
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
