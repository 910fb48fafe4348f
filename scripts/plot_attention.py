#!/usr/bin/python3
"""Attention and diffused-attention heatmaps from a `diffuser viz attention` folder.

Why: a trained model's softmax weights A show which keys each query reads in every layer and
head; the diffused operator sum_k theta_k A^k is what the layer actually applies to V. One
column per head; per layer one row of A and one row of the diffused operator (log colour scale,
block means when n exceeds the pixel budget; token names on the axes for short inputs).

    diffuser viz attention --checkpoint runs/tiny/checkpoint_best.bin --out runs/viz/att
    /usr/bin/python3 scripts/plot_attention.py runs/viz/att --out runs/viz/attention.png
"""
import argparse
import os

from plot_common import (
    add_output_options, load_npy, need_folder, read_json, require_matplotlib, save,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder written by `diffuser viz attention`")
    parser.add_argument("--max-labels", type=int, default=40,
                        help="label the axes with tokens when n is at most this")
    add_output_options(parser)
    args = parser.parse_args(argv)
    need_folder(args.folder, "attention.json")
    plt, np = require_matplotlib()
    from matplotlib.colors import LogNorm

    meta = read_json(os.path.join(args.folder, "attention.json"))
    files = meta["files"]
    layers = sorted({f["layer"] for f in files})
    heads = sorted({f["head"] for f in files})
    by_key = {(f["layer"], f["head"]): f for f in files}
    has_diffused = all("diffused" in f for f in files)
    kinds = ["density", "diffused"] if has_diffused else ["density"]
    rows = len(layers) * len(kinds)
    cols = len(heads)
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols + 1.2, 2.9 * rows + 0.6),
                             squeeze=False, layout="constrained")
    starts = np.asarray(meta["block_starts"], dtype=np.float64)
    sizes = np.diff(starts)
    n = meta["n"]
    names = meta.get("token_names", [])
    label_axes = n <= args.max_labels and len(names) == n
    norm = LogNorm(vmin=1e-3, vmax=1.0)
    image = None
    for li, layer in enumerate(layers):
        theta = meta["theta"][layer]
        for ki, kind in enumerate(kinds):
            r = li * len(kinds) + ki
            for c, head in enumerate(heads):
                ax = axes[r][c]
                f = by_key.get((layer, head))
                if f is None:
                    ax.axis("off")
                    continue
                values = load_npy(np, os.path.join(args.folder, f[kind]))
                mean = values / sizes[:, None]  # mass one query of the row block puts there
                shown = np.where(mean > 0, np.clip(mean, 1e-3, 1.0), np.nan)
                image = ax.imshow(shown, cmap="magma_r", norm=norm, interpolation="nearest")
                what = "A" if kind == "density" else f"$\\sum_k \\theta_k A^k$ (K={len(theta) - 1})"
                ax.set_title(f"layer {layer} head {head}: {what}", fontsize=8)
                if label_axes:
                    ax.set_xticks(range(n))
                    ax.set_xticklabels(names, rotation=90, fontsize=4)
                    ax.set_yticks(range(n))
                    ax.set_yticklabels(names, fontsize=4)
                else:
                    ax.tick_params(labelsize=6)
                if c == 0:
                    ax.set_ylabel("query", fontsize=8)
                if r == rows - 1:
                    ax.set_xlabel("key", fontsize=8)
    title = (f"{meta['task']} {meta['variant']} model, step {meta['step']}: n = {n} tokens, "
             f"nnz = {meta['nnz']}")
    if meta.get("label") is not None and meta.get("prediction") is not None:
        title += f"; label {meta['label']}, predicted {meta['prediction']}"
    fig.suptitle(title, fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes, fraction=0.02, pad=0.01,
                     label="attention weight (block maps: mass per query on the key block)")
    save(fig, plt, args)


if __name__ == "__main__":
    main()
