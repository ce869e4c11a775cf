#!/usr/bin/env python
"""Draw what a trained network computes on a test digit: every layer's feature maps, the
hidden vectors and the softmax probabilities, in one PNG (or a GIF over several digits).
For lenet5-1998: C3's connection table (Table I), the RBF distances y_i instead of the
probabilities, and F6's 84 outputs beside the winning class's 7×12 bitmap.

    python scripts/feature_maps.py --weights models/lenet5-run/weights.npz --input mnist:0
    python scripts/feature_maps.py --input mnist:0 --gif --count 8
    python scripts/feature_maps.py --weights models/lenet5-fashion.npz   # Fashion-MNIST test #0

The output goes beside the weights (RUN_DIR/feature_maps.png); for the shipped models/
files, into runs/NAME/ instead: shipped files change only with an explicit --out. With
--gif and no --input, the GIF shows test images 0 to COUNT-1.

Every number drawn is the output of the model's own layers (which call the ops).
"""
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, existing_dir, HelpFormatter, run_main  # noqa: E402
from tqdm import tqdm  # noqa: E402
from mnist import DATASETS, get_dataset  # noqa: E402
from safeio.paths import input_problem, output_problem  # noqa: E402
from mnist.images import TEST_SETS  # noqa: E402
from training import load_model, prepare_images  # noqa: E402
from training.features import load_digits, readout  # noqa: E402
from training.rundir import output_dir  # noqa: E402
from viz.encode import frame_durations, write_gif  # noqa: E402
from viz.feature_maps import default_scales, render_feature_maps  # noqa: E402
from viz.png import write_png  # noqa: E402

DEFAULT_WEIGHTS = ROOT / "models" / "lenet5.npz"


def build_parser():
    p = ArgumentParser(prog="feature_maps.py", description=__doc__,
                       formatter_class=HelpFormatter)
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS,
                   help="weights.npz or checkpoint.npz written by train.py")
    p.add_argument("--input", default="default", metavar="SPEC",
                   help="'default' (test image #0 of --dataset; MNIST's, a 7, is bundled: no "
                        "download), 'mnist:INDEX' or 'fashion:INDEX' (the MNIST or "
                        "Fashion-MNIST test set; with --gif the first of --count images, from #0 "
                        "for 'default') or a "
                        "PNG/JPEG path (grayscale, resized to 28×28)")
    p.add_argument("--dataset", choices=tuple(DATASETS),
                   help="whose class names to show, and whose test image 'default' is "
                        "(default: the data set the weights were trained on)")
    p.add_argument("--invert", action="store_true",
                   help="a picture's ink is dark on light paper: invert it to MNIST's light "
                        "ink on dark")
    p.add_argument("--gif", action="store_true",
                   help="a GIF with one frame per digit instead of one PNG")
    p.add_argument("--count", type=int, default=8, help="digits in the GIF (--gif)")
    p.add_argument("--frame-ms", type=int, default=1500, help="delay of each GIF frame in ms")
    p.add_argument("--hold", type=int, default=3000, metavar="MS",
                   help="how long the GIF's last frame stays, in ms")
    p.add_argument("--out", type=Path, default=None,
                   help="output file (default: feature_maps.png, or feature_maps.gif with "
                        "--gif, beside the weights; runs/NAME/ for the shipped models/)")
    p.add_argument("--data-dir", type=existing_dir, default=None,
                   help="directory of the input's data set (default: the user cache, fetched "
                        "if absent)")
    p.add_argument("--no-gifsicle", action="store_true", help="skip the gifsicle -O3 pass")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = input_problem(args.weights)
    if problem:
        parser.error(f"argument --weights: {str(args.weights)!r} {problem}")
    count = args.count if args.gif else 1
    if count < 1:
        parser.error(f"argument --count: {args.count}, expected an integer >= 1")
    if args.gif:
        try:
            frame_durations(2, args.frame_ms, args.hold)
        except ValueError as e:
            parser.error(f"argument --frame-ms/--hold: {e}")
        if count > 1 and args.input != "default" and not (
                ":" in args.input and args.input.split(":", 1)[0] in TEST_SETS):
            parser.error(f"argument --count: {count} digits need --input mnist:INDEX or "
                         f"fashion:INDEX, got {args.input!r}")
    out = args.out or (output_dir(args.weights.parent, args.weights.stem)
                       / ("feature_maps.gif" if args.gif else "feature_maps.png"))
    if args.out is not None:
        problem = output_problem(out, (".gif",) if args.gif else (".png",),
                                 "a GIF" if args.gif else "a PNG")
        if problem:
            parser.error(f"argument --out: {problem}")
    try:
        model, config = load_model(str(args.weights))
    except ValueError as e:     # CheckpointError: damaged, or not a weights file
        parser.exit(2, f"{parser.prog}: error: argument --weights: {e}\n")
    data = get_dataset(args.dataset or config.dataset)
    spec = args.input
    if spec == "default" and (data.name != "mnist" or count > 1):    # test images 0..count-1
        spec = {d: p for p, (d, _) in TEST_SETS.items()}[data.name] + ":0"
    try:
        images, labels, names = load_digits(spec, count, args.data_dir, invert=args.invert)
    except ValueError as e:
        parser.error(str(e))

    t0 = time.perf_counter()
    got = readout(model, prepare_images(images, config.normalize))
    if got.logits.ndim != 2 or not got.maps:
        parser.error(f"argument --weights: {config.net} has no conv layers to draw")
    scales = default_scales(got.maps, got.vectors, got.rbf)     # shared by every digit of a GIF
    shown = os.path.relpath(args.weights)
    shown = str(args.weights) if shown.startswith("..") else shown
    squash = "  ·  squash: 1.7159 tanh(2a/3)" if config.activation == "scaled_tanh" else ""
    footer = (f"{shown}: {config.net} ({config.activation})  ·  each layer on its own "
              f"colour scale{squash}")
    frames = []
    for i in tqdm(range(count), desc="digits", disable=args.no_progress or count == 1):
        frame, _ = render_feature_maps(
            images[i] / 255.0, label=labels[i], title=f"{config.net} on {names[i]}:",
            footer=footer, scales=scales, **got.digit(i),
            classes=None if data.name == "mnist" else data.classes)
        frames.append(frame)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)      # runs/NAME/ for a shipped model
        if args.gif:
            durations = frame_durations(len(frames), args.frame_ms, args.hold)
            write_gif(out, frames, durations, use_gifsicle=not args.no_gifsicle)
        else:
            write_png(out, frames[0])
    except OSError as e:        # the writers are atomic: nothing partial is left
        parser.fail(f"argument --out: cannot write {out}: {e.strerror or e}")
    preds = got.predicted
    named = str if data.name == "mnist" else (lambda k: data.classes[k])
    verdict = ", ".join(f"{n}: {named(p)}" + ("" if y is None else f" (true {named(y)})")
                        for n, p, y in zip(names, preds, labels))
    print(f"{out}: {len(frames)} {'frames' if args.gif else 'image'} "
          f"{frames[0].shape[1]}×{frames[0].shape[0]}, {os.path.getsize(out) / 1024:.0f} KB, "
          f"{time.perf_counter() - t0:.2f} s; predicted {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, interrupted="no file was written"))
