#!/usr/bin/python3
"""Spectra, approximation error vs hops and spectral gap vs n from `diffuser viz spectrum`.

Why: the pattern's spectral gap says how well it approximates full attention (an expander's
non-trivial eigenvalues are small); diffusion maps every eigenvalue mu to p_K(mu). Three panels,
one colour per folder: the eigenvalues of M = D^-1/2 S D^-1/2 before (filled) and after
(outlined) diffusion; epsilon = the largest non-trivial |p_K(mu)| against K; and the gap
lambda2 = 1 - mu2 against n (dashed: the diffused gap).

    diffuser viz spectrum --n 1024 --preset diffuser --lengths 1024,4096 --out runs/viz/spec
    /usr/bin/python3 scripts/plot_spectrum.py runs/viz/spec --out runs/viz/spectrum.png
"""
import os

from plot_common import (
    label_of, parse_viz_folders, read_csv, read_json, require_matplotlib, save,
)


def floats(rows, key):
    return [float(r[key]) if r[key] != "" else float("nan") for r in rows]


def main(argv=None):
    args = parse_viz_folders(__doc__, "spectrum", "spectrum.json", argv)
    plt, np = require_matplotlib()

    fig, (ax_ev, ax_k, ax_n) = plt.subplots(1, 3, figsize=(15, 5.2), layout="constrained")
    colours = plt.cm.tab10.colors
    any_gap = False
    for c, folder in enumerate(args.folders):
        meta = read_json(os.path.join(folder, "spectrum.json"))
        colour = colours[c % len(colours)]
        name = label_of(folder, meta)
        rows = read_csv(os.path.join(folder, "eigenvalues.csv"))
        mu = np.array(floats(rows, "mu"))
        diffused = np.array(floats(rows, "diffused"))
        if meta["complete"]:
            bins = np.linspace(-1, 1, 81)
            ax_ev.hist(mu, bins=bins, color=colour, alpha=0.35,
                       label=f"{name}: all {len(mu)} eigenvalues mu (n = {meta['n']})")
            ax_ev.hist(diffused, bins=bins, color=colour, histtype="step", linewidth=1.3,
                       label=f"{name}: p_K(mu), {meta['diffusion_shown']}")
        else:
            ax_ev.plot(mu, np.zeros_like(mu), "|", color=colour, markersize=18,
                       label=f"{name}: mu (top/bottom {len(mu)}, n = {meta['n']})")
            ax_ev.plot(diffused, np.full_like(diffused, 1.0), "|", color=colour, markersize=18,
                       alpha=0.6, label=f"{name}: {meta['diffusion_shown']}")
        err = read_csv(os.path.join(folder, "error_vs_k.csv"))
        ax_k.plot([int(r["hops"]) for r in err], floats(err, "epsilon"), "o-", color=colour,
                  markersize=4, label=f"{name} (n = {meta['n']})")
        gap_path = os.path.join(folder, "gap_vs_n.csv")
        if os.path.isfile(gap_path):
            any_gap = True
            gap = read_csv(gap_path)
            ns = [int(r["n"]) for r in gap]
            ax_n.plot(ns, floats(gap, "lambda2"), "o-", color=colour, markersize=4,
                      label=f"{name}: lambda2 of the pattern")
            ax_n.plot(ns, [1.0 - v for v in floats(gap, "diffused_second_largest")], "s--",
                      color=colour, markersize=4, label=f"{name}: gap after {gap[0]['diffusion']}")
    ax_ev.set_xlabel("eigenvalue mu of M (1 = trivial)")
    ax_ev.set_ylabel("count")
    ax_ev.set_yscale("log")
    ax_ev.set_title("eigenvalues of the normalised adjacency", fontsize=10)
    ax_ev.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax_ev.grid(alpha=0.3)
    ax_k.set_xlabel("diffusion hops K (PPR; K = 0: plain attention)")
    ax_k.set_ylabel("epsilon = max non-trivial |p_K(mu)|")
    ax_k.set_yscale("log")
    ax_k.set_title("distance from full attention (rank-one projection)", fontsize=10)
    ax_k.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax_k.grid(alpha=0.3, which="both")
    if any_gap:
        ax_n.set_xscale("log", base=2)
        ax_n.set_yscale("log")
        ax_n.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    else:
        ax_n.text(0.5, 0.5, "no gap_vs_n.csv\n(run viz spectrum with --lengths)",
                  ha="center", va="center", transform=ax_n.transAxes)
    ax_n.set_xlabel("sequence length n")
    ax_n.set_ylabel("spectral gap")
    ax_n.set_title("spectral gap vs n", fontsize=10)
    ax_n.grid(alpha=0.3, which="both")
    save(fig, plt, args)


if __name__ == "__main__":
    main()
