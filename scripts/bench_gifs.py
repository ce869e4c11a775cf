#!/usr/bin/env python
"""Render every GIF of the gallery and report render time, frames, the tour, play time and size.

Render time is drawing plus encoding (imports excluded); the default maxpool GIF is also
timed as a user runs it (a fresh ``python scripts/make_gif.py maxpool``, imports included).
The GIFs go to a temporary folder unless --out-dir is given, so gifs/ is left alone.

    python scripts/bench_gifs.py
    python scripts/bench_gifs.py --json
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

from recipes import GALLERY, Paths, build_parser, gallery_jobs, make  # noqa: E402
from safeio.cli import ArgumentParser, run_main  # noqa: E402

PATHS = Paths(gifs=ROOT / "gifs", lenet=ROOT / "models" / "lenet5.npz")

BUDGET = {"play_s": 20.0, "bytes": 500 * 1024}   # every GIF
COMMAND_BUDGET_S = 3.0                            # `make_gif.py maxpool`, start to finish


def bench(out_dir, use_gifsicle=True):
    """Render the gallery into ``out_dir``; one dict per GIF."""
    parser, subs = build_parser(None, PATHS)
    rows = []
    for _, _, args in gallery_jobs(parser, out_dir, not use_gifsicle):
        r = make(args, subs[args.op], PATHS.gifs)
        name = str(Path(args.out).relative_to(out_dir).with_suffix(""))
        rows.append({"name": name, "command": "python scripts/make_gif.py "
                     + " ".join(GALLERY[name].argv),
                     "render_s": round(r["render_s"], 3), "frames": r["frames"],
                     "tour_frames": r.get("tour_frames", 0), "tour_s": r.get("tour_s", 0.0),
                     "play_s": r["play_s"], "bytes": r["bytes"]})
    return rows


def command_seconds(out_dir, use_gifsicle=True):
    """Wall time of ``python scripts/make_gif.py maxpool`` in a fresh interpreter."""
    cmd = [sys.executable, str(Path(__file__).with_name("make_gif.py")), "maxpool", "--out",
           str(Path(out_dir) / "maxpool_cmd.gif")] + ([] if use_gifsicle else ["--no-gifsicle"])
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


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
        cmd_s = command_seconds(tmp, not args.no_gifsicle)
    if args.json:
        print(json.dumps({"gifs": rows, "maxpool_command_s": round(cmd_s, 3)}, indent=2))
        return 0
    w = max(18, max(len(r["name"]) for r in rows) + 2)
    print(f"{'gif':<{w}}{'render s':>9}{'frames':>8}{'tour':>6}{'tour s':>8}{'play s':>8}"
          f"{'size KB':>9}")
    for r in rows:
        flags = [k for k, v in BUDGET.items() if r[k] > v]
        print(f"{r['name']:<{w}}{r['render_s']:>9.2f}{r['frames']:>8}{r['tour_frames']:>6}"
              f"{r['tour_s']:>8.1f}{r['play_s']:>8.1f}{r['bytes'] / 1024:>9.0f}"
              + (f"   over: {', '.join(flags)}" if flags else ""))
    over = "   over budget" if cmd_s > COMMAND_BUDGET_S else ""
    print(f"python scripts/make_gif.py maxpool: {cmd_s:.2f} s in all "
          f"(budget {COMMAND_BUDGET_S:.0f} s){over}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
