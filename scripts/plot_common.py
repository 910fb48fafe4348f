#!/usr/bin/python3
"""Shared helpers of the plot_*.py scripts.

Why: every plot script reads what `diffuser viz` writes (JSON, CSV, .npy), needs matplotlib
without a display, and must never leave half a PNG behind. Those three things live here once.
They never recompute what the C++ side computes; they only read and draw.
"""
import csv
import json
import os
import sys


def require_matplotlib():
    """Imports matplotlib (Agg backend) and numpy, or exits with one clear line saying how to
    install them."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: cannot import {e.name} with {sys.executable}; "
                 "install python3-matplotlib and python3-numpy (sudo bash scripts/setup.sh)")
    return plt, np


def read_json(path):
    """A JSON file, or exit naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        sys.exit(f"{path}: cannot read ({e.strerror})")
    except json.JSONDecodeError as e:
        sys.exit(f"{path}:{e.lineno}: not valid JSON ({e.msg})")


def read_csv(path):
    """Rows of a CSV file as dicts, or exit naming the file."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"{path}: cannot read ({e.strerror})")


def load_npy(np, path):
    """An .npy array, or exit naming the file."""
    try:
        return np.load(path)
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: cannot read as .npy ({e})")


def need_folder(path, marker):
    """Exits unless `path` is a folder holding `marker` (the file `diffuser viz` writes)."""
    if not os.path.isfile(os.path.join(path, marker)):
        sys.exit(f"{path}: no {marker} (is this a folder written by `diffuser viz`?)")


def parse_viz_folders(doc, command, marker, argv, add_options=None):
    """Parses `FOLDER... --out PNG [--dpi] [--palette]` for a plot of the folders that
    `diffuser viz COMMAND` wrote (each must hold `marker`); `add_options(parser)` adds a
    script's own options. Returns the parsed arguments."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help=f"folders written by `diffuser viz {command}`")
    if add_options is not None:
        add_options(parser)
    add_output_options(parser)
    args = parser.parse_args(argv)
    for folder in args.folders:
        need_folder(folder, marker)
    return args


def add_output_options(parser, dpi=100):
    """The options every plot script shares: --out, --dpi, --palette."""
    parser.add_argument("--out", required=True, help="output image (.png)")
    parser.add_argument("--dpi", type=int, default=dpi, help="resolution (dots per inch)")
    parser.add_argument("--palette", action="store_true",
                        help="write an 8-bit palette PNG (about 3x smaller; for docs/img)")


def save(fig, plt, args):
    """Writes the figure to args.out atomically (temporary file + rename) and closes it; with
    args.palette the PNG is quantised to 256 colours (needs Pillow, which matplotlib uses)."""
    out = args.out
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=args.dpi)
    plt.close(fig)
    if args.palette:
        from PIL import Image

        with Image.open(tmp) as im:
            im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                       dither=Image.Dither.NONE).save(tmp, optimize=True)
    os.replace(tmp, out)
    print(f"wrote {out}")


def label_of(folder, meta):
    """A short panel title: the pattern's name (preset or spec as given), spec or file."""
    if meta.get("name"):
        return meta["name"]
    if "spec" in meta:
        return meta["spec"]
    if "file" in meta:
        return os.path.basename(meta["file"])
    return os.path.basename(os.path.normpath(folder))
