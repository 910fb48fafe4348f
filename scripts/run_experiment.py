#!/usr/bin/python3
"""Train the diffuser, sparse and full variants of a task with several seeds; tabulate and plot.

Why: one run says little; a comparison of attention variants needs the same data, the same
schedule and several seeds, with the spread reported next to the trivial baseline (always
predicting the majority class). This script drives `diffuser train` for every (variant, seed),
then reads the run folders and writes

    <out>/results.md    Markdown table: mean ± std over seeds per variant, majority-class rate
    <out>/results.csv   one row per run plus one summary row per variant
    <out>/curves.png    training loss and validation accuracy per run (scripts/plot_training.py)

    /usr/bin/python3 scripts/run_experiment.py --task listops --seeds 0 1 --out runs/listops

Runs whose metrics.json exists are not retrained (rerun to only rebuild the table); runs with a
checkpoint but no metrics are resumed. Configs are experiments/configs/<task>_<variant>.json;
`--set key=value` overrides apply to every run (e.g. --set train.steps=200 for a smoke test).
`--jobs 2` trains two runs at a time (the configs use one thread each). Unless set already,
OMP_WAIT_POLICY=passive is exported: on a shared machine spinning OpenMP threads slow every
process down (docs/experiments.md).
"""
import argparse
import csv
import json
import math
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import plot_training  # noqa: E402

VARIANTS = ("diffuser", "sparse", "full")


def default_binary():
    for preset in ("release", "trainer"):
        path = os.path.join(ROOT, "build", preset, "cli", "diffuser")
        if os.access(path, os.X_OK):
            return path
    return "diffuser"


def run_dir(out, variant, seed):
    return os.path.join(out, f"{variant}_seed{seed}")


def train(binary, config, folder, seed, sets):
    """Runs (or resumes) one training, its output in <folder>/train_output.log; returns
    (folder, exit code, seconds)."""
    if os.path.isfile(os.path.join(folder, "metrics.json")):
        return folder, 0, 0.0
    cmd = [binary, "train", "--config", config, "--out", folder, "--no-progress",
           "--set", f"train.seed={seed}"]
    for s in sets:
        cmd += ["--set", s]
    if os.path.isfile(os.path.join(folder, "checkpoint_last.bin")):
        cmd.append("--resume")
    start = time.time()
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "train_output.log"), "a", encoding="utf-8") as log:
        log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        log.flush()
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    return folder, code, time.time() - start


def mean_std(values):
    """Mean and sample standard deviation (n - 1; 0 for a single value)."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(values) / n
    if n == 1:
        return m, 0.0
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))


def load_metrics(folder):
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        return json.load(f)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def tabulate(task, out, variants, seeds, command):
    rows, summary = [], []
    majority = None
    language_model = False
    for v in variants:
        per_seed = []
        for s in seeds:
            folder = run_dir(out, v, s)
            if not os.path.isfile(os.path.join(folder, "metrics.json")):
                continue
            m = load_metrics(folder)
            test = m.get("test", {})
            language_model = language_model or "bits_per_byte" in test
            row = {
                "variant": v,
                "seed": s,
                "test_accuracy": test.get("accuracy"),
                "test_loss": test.get("loss"),
                "test_bits_per_byte": test.get("bits_per_byte"),
                "val_best_accuracy": m.get("val_best", {}).get("accuracy"),
                "val_best_step": m.get("val_best", {}).get("step"),
                "steps": m.get("steps"),
                "tokens_per_s": m.get("tokens_per_s"),
                "wall_time_s": m.get("wall_time_s"),
                "parameters": m.get("parameters"),
                "majority_rate": test.get("majority_rate"),
                "run": os.path.relpath(folder, out),
            }
            if test.get("majority_rate") is not None:
                majority = test["majority_rate"]
            rows.append(row)
            per_seed.append(row)
        if not per_seed:
            continue

        def stat(key):
            vals = [r[key] for r in per_seed if r[key] is not None]
            return mean_std(vals)

        summary.append({"variant": v, "runs": len(per_seed),
                        **{k: stat(k) for k in ("test_accuracy", "test_loss", "test_bits_per_byte",
                                                "val_best_accuracy", "tokens_per_s",
                                                "wall_time_s")}})

    fields = ["variant", "seed", "test_accuracy", "test_loss", "test_bits_per_byte",
              "val_best_accuracy", "val_best_step", "steps", "tokens_per_s", "wall_time_s",
              "parameters", "majority_rate", "run"]
    tmp = os.path.join(out, "results.csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow(r)
        for s in summary:
            for stat_name, idx in (("mean", 0), ("std", 1)):
                w.writerow({"variant": s["variant"], "seed": stat_name,
                            **{k: ("" if math.isnan(s[k][idx]) else s[k][idx]) for k in ("test_accuracy", "test_loss",
                                                      "test_bits_per_byte", "val_best_accuracy",
                                                      "tokens_per_s", "wall_time_s")},
                            "run": f"{s['runs']} runs"})
    os.replace(tmp, os.path.join(out, "results.csv"))

    def pm(pair, scale=1.0, digits=2):
        m, sd = pair
        if m is None or math.isnan(m):
            return "–"
        return f"{m * scale:.{digits}f} ± {sd * scale:.{digits}f}"

    lines = [f"# {task}: attention variants", "",
             f"Seeds: {', '.join(str(s) for s in seeds)} (mean ± sample std over the runs that "
             "finished). Command:", "", f"    {command}", ""]
    if language_model:
        lines += ["| variant | runs | test bits/byte | test loss | tokens/s | wall time (s) |",
                  "|---|---|---|---|---|---|"]
        for s in summary:
            lines.append(f"| {s['variant']} | {s['runs']} | {pm(s['test_bits_per_byte'], 1, 4)} | "
                         f"{pm(s['test_loss'], 1, 4)} | {pm(s['tokens_per_s'], 1, 0)} | "
                         f"{pm(s['wall_time_s'], 1, 0)} |")
    else:
        lines += ["| variant | runs | test accuracy (%) | best val accuracy (%) | test loss | "
                  "tokens/s | wall time (s) |",
                  "|---|---|---|---|---|---|---|"]
        for s in summary:
            lines.append(f"| {s['variant']} | {s['runs']} | {pm(s['test_accuracy'], 100)} | "
                         f"{pm(s['val_best_accuracy'], 100)} | {pm(s['test_loss'], 1, 3)} | "
                         f"{pm(s['tokens_per_s'], 1, 0)} | {pm(s['wall_time_s'], 1, 0)} |")
        if majority is not None:
            lines += ["", f"Majority-class rate of the test set (accuracy of always predicting "
                          f"the most frequent class): {majority * 100:.2f}%."]
    lines += ["", "Per run: results.csv. Curves: curves.png.", ""]
    write_atomic(os.path.join(out, "results.md"), "\n".join(lines))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True,
                   help="config prefix: experiments/configs/<task>_<variant>.json")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS),
                   help="config suffixes: experiments/configs/<task>_<variant>.json (default: "
                        "diffuser sparse full)")
    p.add_argument("--out", default=None, help="results folder (default runs/<task>)")
    p.add_argument("--binary", default=default_binary(), help="the diffuser executable")
    p.add_argument("--set", dest="sets", action="append", default=[],
                   help="config override for every run (repeatable)")
    p.add_argument("--jobs", type=int, default=1, help="runs trained at the same time")
    p.add_argument("--table-only", action="store_true",
                   help="only rebuild results.md/csv and curves.png from existing runs")
    args = p.parse_args(argv)
    if len(args.seeds) < 1 or args.jobs < 1:
        sys.exit("run_experiment.py: need at least one seed and --jobs >= 1")
    out = args.out or os.path.join("runs", args.task)
    os.makedirs(out, exist_ok=True)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    command = " ".join(["/usr/bin/python3 scripts/run_experiment.py"] +
                       [shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])])
    configs = {v: os.path.join(ROOT, "experiments", "configs", f"{args.task}_{v}.json")
               for v in args.variants}
    missing = [c for c in configs.values() if not os.path.isfile(c)]
    if missing:
        sys.exit(f"run_experiment.py: no config {', '.join(missing)}")

    failed = []
    if not args.table_only:
        jobs = [(v, s) for s in args.seeds for v in args.variants]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(train, args.binary, configs[v], run_dir(out, v, s), s,
                                   args.sets) for v, s in jobs]
            for fut in futures:
                folder, code, secs = fut.result()
                status = "ok" if code == 0 else \
                    f"FAILED (exit {code}; see {folder}/train_output.log)"
                print(f"{folder}: {status} {secs:.0f}s", flush=True)
                if code != 0:
                    failed.append(folder)

    rows = tabulate(args.task, out, args.variants, args.seeds, command)
    finished = [run_dir(out, r["variant"], r["seed"]) for r in rows]
    if finished:
        plot_training.plot(finished, os.path.join(out, "curves.png"), title=args.task)
    print(open(os.path.join(out, "results.md"), encoding="utf-8").read())
    if failed:
        sys.exit(f"run_experiment.py: {len(failed)} run(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
