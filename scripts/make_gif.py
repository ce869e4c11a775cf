#!/usr/bin/env python
"""Render an op's trace to a three-panel animated GIF (input | receptive field | output).

Every GIF is drawn from the trace of the very op in ``ops`` that trains the networks:
this script builds an input, runs the op, asks its cache for the trace and hands the
trace to ``viz``.

Examples::

    python scripts/make_gif.py maxpool
    python scripts/make_gif.py conv2d --kernel sobel-y --stride 2
    python scripts/make_gif.py conv2d --channels 2 --kernel sobel-x,sobel-y
    python scripts/make_gif.py avgpool --kernel-size 3 --padding 1 --input mnist:42
    python scripts/make_gif.py all          # the whole gallery into gifs/
    python scripts/make_gif.py conv2d --weights models/lenet5.npz --layer conv1 --filter 3
    python scripts/make_gif.py conv2d --input toy --tour 1,1 3,2
    python scripts/make_gif.py conv2d --channels 4 --filters 4 --groups 2 --kernel ints
    python scripts/make_gif.py conv_transpose2d --view direct --stride 2 --padding 1
    python scripts/make_gif.py conv1d --padding causal
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

from recipes import Paths, build_parser, gallery_jobs, make  # noqa: E402
from safeio.cli import run_main  # noqa: E402

# the checkout's files the options default to
PATHS = Paths(gifs=ROOT / "gifs", lenet=ROOT / "models" / "lenet5.npz")


def _report(name, r):
    tour = f" (tour {r['tour_frames']} frames, {r['tour_s']:.1f} s)" if r["tour_frames"] else ""
    print(f"{name}: {r['path']}  {r['frames']} frames{tour}, plays {r['play_s']:.1f} s, "
          f"{r['bytes'] / 1024:.0f} KB, rendered in {r['render_s']:.2f} s")


def main(argv=None):
    parser, subs = build_parser(__doc__, PATHS)
    args = parser.parse_args(argv)
    current = args.op
    try:
        if args.op != "all":
            _report(args.op, make(args, subs[args.op], PATHS.gifs))
            return 0
        if not args.out_dir.is_dir():
            subs["all"].error(f"--out-dir {str(args.out_dir)!r} does not exist")
        for heading, current, a in gallery_jobs(parser, args.out_dir, args.no_gifsicle):
            if heading:
                print(heading)
            _report(current, make(a, subs[a.op], PATHS.gifs))
        return 0
    except KeyboardInterrupt:                  # the atomic writer has removed its temporary file
        done = "" if args.op != "all" else " (the GIFs reported above are complete)"
        print(f"{parser.prog}: interrupted; {current} not written{done}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run_main(main))
