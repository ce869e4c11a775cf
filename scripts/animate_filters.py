#!/usr/bin/env python
"""Animate a run's conv filters learning: one frame per snapshot in RUN_DIR/snapshots.npz.

    python scripts/animate_filters.py runs/lenet5-20250101-120000
    python scripts/animate_filters.py models/lenet5-run --layer conv2
    python scripts/animate_filters.py models/lenet5-run --layer conv2 --sum-channels
    python scripts/animate_filters.py models/lenet5-run --change

The GIF goes into RUN_DIR (RUN_DIR/filters.gif, conv2_filters.gif, ...); for the run shipped
in models/, into runs/lenet5-run/ instead: shipped files change only with an explicit --out.

Each filter keeps one blue-gray-red colour scale for the whole GIF (± its largest |w| over
all snapshots), so growing weights saturate and shrinking ones fade. Below: the training
loss and the test error with a cursor at the frame's step.
"""
import json
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

from safeio.cli import ArgumentParser, HelpFormatter, run_main  # noqa: E402
from training.rundir import output_dir  # noqa: E402
from training.snapshots import (SNAPSHOTS, load_snapshots, snapshot_connections,  # noqa: E402
                                snapshot_layers)
from viz.encode import frame_durations, write_gif  # noqa: E402
from viz.filters_gif import CHANGE_NOTE, NOTE, render_filters  # noqa: E402



def build_parser():
    p = ArgumentParser(prog="animate_filters.py", description=__doc__,
                       formatter_class=HelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run directory holding snapshots.npz (written during training)")
    p.add_argument("--layer", choices=("conv1", "conv2"), default="conv1",
                   help="conv1: the first conv layer's filters; conv2: the second's, one "
                        "column per filter and one row per input channel")
    p.add_argument("--sum-channels", action="store_true",
                   help="show each filter summed over its input channels (one kernel each)")
    p.add_argument("--change", action="store_true",
                   help="show each filter's change since initialisation (w - w at the first "
                        "snapshot) instead of the weights: small updates become visible")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--frame-ms", type=int, default=150,
                   help="delay of each frame in ms (a multiple of 10, at least 20)")
    t.add_argument("--fps", type=float, default=None,
                   help="frames per second instead of --frame-ms (rounded to 10 ms delays)")
    p.add_argument("--hold", type=int, default=2500, metavar="MS",
                   help="how long the last frame stays, in ms")
    p.add_argument("--scale", type=int, default=None,
                   help="screen pixels per weight (default: a grid about 560 px wide)")
    p.add_argument("--out", type=Path, default=None,
                   help="output GIF (default: RUN_DIR/filters.gif, conv2_filters.gif, "
                        "conv2_summed_filters.gif, ..._change.gif; runs/NAME/ for a run "
                        "shipped in models/)")
    p.add_argument("--no-gifsicle", action="store_true", help="skip the gifsicle -O3 pass")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _net_name(run_dir):
    try:
        with open(run_dir / "run.json", encoding="utf-8") as f:
            return json.load(f)["config"]["net"]
    except (OSError, ValueError, KeyError, TypeError):
        return run_dir.name


def _frame_ms(args, parser):
    frame_ms = args.frame_ms
    if args.fps is not None:
        if not args.fps > 0:
            parser.error(f"argument --fps: {args.fps} is not a positive number")
        frame_ms = int(round(100 / args.fps)) * 10
    try:
        frame_durations(2, frame_ms, args.hold)
    except ValueError as e:
        parser.error(f"argument --frame-ms/--fps/--hold: {e}")
    return frame_ms


def render(data, layer, sum_channels=False, change=False, net="net", run_name="run",
           scale=None, progress=None, connections=None):
    """The animation of one layer of a :func:`load_snapshots` dict (``viz.frames.Animation``);
    ``connections`` (F, C) bool: the kernels the layer has (others are empty slots)."""
    w = data[layer]
    K, F, C, kh, kw = w.shape
    param = json.loads(str(data["meta/layers"])).get(layer, layer) \
        if "meta/layers" in data else layer
    what = f"{param} {F}×{C}×{kh}×{kw}"
    note = CHANGE_NOTE if change else NOTE
    if connections is not None:
        what += f", {int(connections.sum())} of its {F * C} kernels connected"
        note += "; dark: an input map the filter does not read (Table I)"
    if sum_channels:
        w = w.sum(axis=2, keepdims=True)      # display reductions, not ops
        what += ", summed over the input channels it reads" if connections is not None \
            else f", summed over the {C} input channels"
        connections = None
    if change:
        w = w - w[:1]
        what += f", change since step {int(data['step'][0])}"
    return render_filters(w, data["step"], data["epoch"], data["loss"], data["test_error"],
                          f"{net} {layer} filters: how far each weight moved from its start "
                          f"({K} snapshots)" if change else
                          f"{net} {layer} filters while training ({K} snapshots)",
                          f"{what}  ·  run {run_name}", scale, progress=progress,
                          note=note, connections=connections, change=change)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    run_dir = args.run_dir
    if not run_dir.is_dir():
        parser.error(f"argument RUN_DIR: no such directory {str(run_dir)!r}")
    if not (run_dir / SNAPSHOTS).is_file():
        parser.error(f"argument RUN_DIR: no {SNAPSHOTS} in {str(run_dir)!r} (made by "
                     "scripts/train.py for lenet5 and cnn runs)")
    if args.scale is not None and args.scale < 1:
        parser.error(f"argument --scale: {args.scale}, expected an integer >= 1")
    if args.sum_channels and args.layer != "conv2":
        parser.error("argument --sum-channels: only with --layer conv2 (conv1 filters have "
                     "one input channel)")
    frame_ms = _frame_ms(args, parser)
    try:
        data = load_snapshots(run_dir)
    except ValueError as e:     # CheckpointError: damaged, or not a snapshot series
        parser.exit(2, f"{parser.prog}: error: argument RUN_DIR: {e}\n")
    if args.layer not in snapshot_layers(data):
        parser.error(f"argument --layer: {args.layer!r} not in {run_dir / SNAPSHOTS} "
                     f"(it holds {', '.join(snapshot_layers(data)) or 'no layers'})")
    net = _net_name(run_dir)
    suffix = {("conv1", False): "filters", ("conv2", False): "conv2_filters",
              ("conv2", True): "conv2_summed_filters"}[(args.layer, args.sum_channels)]
    suffix += "_change" if args.change else ""
    out = args.out or output_dir(run_dir) / f"{suffix}.gif"
    if args.out is not None and not out.parent.is_dir():
        parser.error(f"argument --out: folder {str(out.parent)!r} does not exist")

    t0 = time.perf_counter()
    bar = None if args.no_progress else (lambda it: tqdm(it, desc="frames", leave=False))
    anim = render(data, args.layer, args.sum_channels, args.change, net, run_dir.name,
                  args.scale, bar, snapshot_connections(run_dir, data).get(args.layer))
    durations = frame_durations(len(anim), frame_ms, args.hold)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)      # runs/NAME/ for a shipped run
        write_gif(out, anim.frames, durations, use_gifsicle=not args.no_gifsicle)
    except OSError as e:        # the writer is atomic: nothing partial is left
        parser.exit(2, f"{parser.prog}: error: argument --out: cannot write {out}: "
                       f"{e.strerror or e}\n")
    print(f"{out}: {len(anim)} frames (steps {int(data['step'][0])}..{int(data['step'][-1])}), "
          f"plays {sum(durations) / 1000:.1f} s, {os.path.getsize(out) / 1024:.0f} KB, "
          f"rendered in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(run_main(main))
    except KeyboardInterrupt:
        print("\nanimate_filters.py: interrupted; no file was written", file=sys.stderr)
        sys.exit(130)
