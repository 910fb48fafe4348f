#!/usr/bin/python3
"""Training curves from run folders written by `diffuser train`.

Why: a results table says where runs ended; the curves show how they got there (still
improving? diverging? over-fitting?). This reads each run's log.jsonl (docs/experiments.md) and
draws the training loss and the validation metric against the optimiser step, one line per run.

    /usr/bin/python3 scripts/plot_training.py runs/listops/*/ --out runs/listops/curves.png

Needs matplotlib (Agg backend: no display needed); --palette writes a small 8-bit PNG.
"""
import argparse
import json
import os
import re
import sys

from plot_common import add_output_options, require_matplotlib, save


def read_log(run_dir):
    """Records of <run_dir>/log.jsonl; a cut-off last line (interrupted run) is ignored."""
    path = os.path.join(run_dir, "log.jsonl")
    records = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise SystemExit(f"{path}:{number}: not a JSON object")
    return records


def run_label(run_dir):
    return os.path.basename(os.path.normpath(run_dir))


def variant_of(run_dir):
    """The run's attention variant from its config.json (None if unreadable)."""
    try:
        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
            return json.load(f)["attention"]["variant"]
    except (OSError, KeyError, json.JSONDecodeError):
        return None


COLOURS = {"diffuser": "tab:blue", "sparse": "tab:orange", "full": "tab:green"}
EXTRA_COLOURS = ["tab:purple", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
STYLES = ["-", "--", ":", "-."]


def group_of(run_dir):
    """What a run's colour stands for: the config suffix of a run_experiment.py folder
    (`<variant>_seed<S>`, e.g. diffuser_auto), else the config's attention.variant."""
    match = re.fullmatch(r"(.+)_seed\d+", run_label(run_dir))
    return match.group(1) if match else variant_of(run_dir)


def colour_of(group, colours):
    """A fixed colour per known variant, the next free one of EXTRA_COLOURS for any other."""
    if group not in colours:
        colours[group] = COLOURS.get(group) or EXTRA_COLOURS[
            sum(g not in COLOURS for g in colours) % len(EXTRA_COLOURS)]
    return colours[group]


def plot(run_dirs, out, title=None, dpi=120, palette=False):
    """Draws the runs' curves into `out` (scripts/run_experiment.py calls this too)."""
    plt, _ = require_matplotlib()
    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4))
    per_variant = {}
    colours = {}
    language_model = False
    for run_dir in run_dirs:
        records = read_log(run_dir)
        variant = group_of(run_dir)
        k = per_variant.get(variant, 0)
        per_variant[variant] = k + 1
        style = dict(color=colour_of(variant, colours), linestyle=STYLES[k % len(STYLES)],
                     label=run_label(run_dir))
        train = [r for r in records if r.get("type") == "train"]
        val = [r for r in records if r.get("type") == "eval" and r.get("split") == "val"]
        if train:
            ax_loss.plot([r["step"] for r in train], [r["loss_avg"] for r in train], **style)
        if val:
            if "bits_per_byte" in val[0]:
                language_model = True
                ax_val.plot([r["step"] for r in val], [r["bits_per_byte"] for r in val],
                            marker="o", markersize=3, **style)
            else:
                ax_val.plot([r["step"] for r in val], [r["accuracy"] for r in val],
                            marker="o", markersize=3, **style)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("training loss (mean over log interval, nats)")
    ax_loss.grid(alpha=0.3)
    ax_val.set_xlabel("step")
    ax_val.set_ylabel("validation bits per byte" if language_model else "validation accuracy")
    ax_val.grid(alpha=0.3)
    ax_val.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    # Atomic: a reader never sees half a PNG.
    save(fig, plt, argparse.Namespace(out=out, dpi=dpi, palette=palette))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders (each with log.jsonl)")
    add_output_options(parser, dpi=120)
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)
    missing = [r for r in args.runs if not os.path.isfile(os.path.join(r, "log.jsonl"))]
    if missing:
        sys.exit(f"plot_training.py: no log.jsonl in {', '.join(missing)}")
    plot(args.runs, args.out, args.title, args.dpi, args.palette)


if __name__ == "__main__":
    main()
