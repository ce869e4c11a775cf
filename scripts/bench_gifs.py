#!/usr/bin/env python
"""Render every GIF of the gallery and report render time, frames, play time and size.

Render time is drawing plus encoding (imports excluded). The GIFs go to a temporary
folder unless --out-dir is given, so the gallery in gifs/ is left alone.

    python scripts/bench_gifs.py
    python scripts/bench_gifs.py --json
"""
import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

_spec = importlib.util.spec_from_file_location("make_gif", Path(__file__).with_name("make_gif.py"))
make_gif = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_gif)

from mnist.cli import ArgumentParser  # noqa: E402  (make_gif put the root on sys.path)

BUDGET = {"play_s": 15.0, "bytes": 500 * 1024}   # every GIF
RENDER_BUDGET_S = 1.0                             # the default maxpool GIF


def bench(out_dir, use_gifsicle=True):
    """Render the gallery into ``out_dir``; one dict per GIF."""
    parser, subs = make_gif.build_parser()
    rows = []
    for name, argv in make_gif.GALLERY.items():
        args = parser.parse_args(argv + ["--out", str(Path(out_dir) / f"{name}.gif")] +
                                 ([] if use_gifsicle else ["--no-gifsicle"]))
        r = make_gif.make(args, subs[args.op])
        rows.append({"name": name, "command": "python scripts/make_gif.py " + " ".join(argv),
                     "render_s": round(r["render_s"], 3), "frames": r["frames"],
                     "play_s": r["play_s"], "bytes": r["bytes"]})
    return rows


def main(argv=None):
    p = ArgumentParser(description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="keep the GIFs here (default: a temporary folder)")
    p.add_argument("--no-gifsicle", action="store_true", help="skip the gifsicle -O3 pass")
    args = p.parse_args(argv)
    if args.out_dir is not None and not args.out_dir.is_dir():
        p.error(f"--out-dir {str(args.out_dir)!r} does not exist")
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench(args.out_dir or tmp, not args.no_gifsicle)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'gif':<18}{'render s':>9}{'frames':>8}{'play s':>8}{'size KB':>9}")
    for r in rows:
        flags = [k for k, v in BUDGET.items() if r[k] > v]
        if r["name"] == "maxpool" and r["render_s"] > RENDER_BUDGET_S:
            flags.append("render_s")
        print(f"{r['name']:<18}{r['render_s']:>9.2f}{r['frames']:>8}{r['play_s']:>8.1f}"
              f"{r['bytes'] / 1024:>9.0f}" + (f"   over: {', '.join(flags)}" if flags else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
