#!/usr/bin/python3
"""Training curves from run folders written by `diffuser train`.

Why: a results table says where runs ended; the curves show how they got there (still
improving? diverging? over-fitting?). This reads each run's log.jsonl (docs/experiments.md) and
draws the training loss and the validation metric against the optimiser step, one line per run.

    /usr/bin/python3 scripts/plot_training.py runs/listops/*/ --out runs/listops/curves.png

Needs matplotlib (Agg backend: no display needed).
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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
STYLES = ["-", "--", ":", "-."]


def plot(run_dirs, out, title=None):
    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4))
    per_variant = {}
    language_model = False
    for run_dir in run_dirs:
        records = read_log(run_dir)
        variant = variant_of(run_dir)
        k = per_variant.get(variant, 0)
        per_variant[variant] = k + 1
        style = dict(color=COLOURS.get(variant), linestyle=STYLES[k % len(STYLES)],
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
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, out)  # atomic: a reader never sees half a PNG


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders (each with log.jsonl)")
    parser.add_argument("--out", required=True, help="output image (.png)")
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)
    missing = [r for r in args.runs if not os.path.isfile(os.path.join(r, "log.jsonl"))]
    if missing:
        sys.exit(f"plot_training.py: no log.jsonl in {', '.join(missing)}")
    plot(args.runs, args.out, args.title)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
