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
"""
import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

import ops  # noqa: E402
from viz.elementwise_gif import render_elementwise  # noqa: E402
from mnist.cli import ArgumentParser, HelpFormatter  # noqa: E402
from training.checkpoint import CheckpointError  # noqa: E402
from training.rundir import output_dir  # noqa: E402
from viz.dense import parse_indices  # noqa: E402
from viz.encode import write_gif  # noqa: E402
from viz.flatten_gif import render_flatten  # noqa: E402
from viz.inputs import MAX_SIDE, load_image, stack_channels  # noqa: E402
from viz.kernels import NAMES as KERNELS, make_weight  # noqa: E402
from viz.linear_gif import render_linear  # noqa: E402
from viz.softmax_gif import render_softmax  # noqa: E402
from viz.tour import parse_tour, steps_of  # noqa: E402
from viz.window_gif import render_window  # noqa: E402

GIF_DIR = ROOT / "gifs"
LEARNED_LAYERS = ("conv1", "conv2")
# options that --weights replaces by the trained layer's own
HAND_MADE = ("kernel", "channels", "filters", "bias", "seed", "kernel_size", "stride", "padding",
             "dilation")
DEFAULT_LOGITS = "-1.2,0.3,1.1,0.4,-0.8,-0.2,-1.5,3.1,0.2,0.9"
MAX_LOGITS = 20
MAX_PANEL_PX = 512      # longest side of the drawn input map: --scale 100 once took 3.7 GB
MAX_DELAY_MS = 655350   # a GIF stores each delay as a 16-bit count of centiseconds
# What a damaged .npz raises today (zip, npy and key errors); training.checkpoint is to
# raise one error type for all of them, and then this tuple can shrink to it.
NPZ_ERRORS = (CheckpointError, OSError)   # a damaged or foreign .npz; an unreadable file

# name -> arguments; `make_gif.py all` renders these into gifs/NAME.gif
GALLERY = {
    "maxpool": ["maxpool"],
    "maxpool_dilated": ["maxpool", "--kernel-size", "3", "--stride", "2", "--padding", "1",
                        "--dilation", "2"],
    "avgpool": ["avgpool", "--kernel-size", "3", "--stride", "3", "--padding", "1"],
    "conv2d": ["conv2d"],
    "conv2d_toy": ["conv2d", "--input", "toy"],
    "conv2d_channels": ["conv2d", "--channels", "2", "--kernel", "sobel-x,sobel-y", "--stride",
                        "2", "--max-frames", "100"],
    "relu": ["relu"],
    "sigmoid": ["sigmoid"],
    "tanh": ["tanh"],
    "linear": ["linear"],
    "flatten": ["flatten", "--channels", "2"],
    "softmax": ["softmax"],
}


# -- argument types ------------------------------------------------------------------------
def _pair(text, minimum=0):
    """``3`` -> 3, ``3,2`` -> (3, 2); every value at least ``minimum``."""
    try:
        v = tuple(int(t) for t in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer or a pair 'H,W'") from None
    if len(v) not in (1, 2):
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer or a pair 'H,W'")
    if min(v) < minimum:
        what = "positive values" if minimum == 1 else f"values >= {minimum}"
        raise argparse.ArgumentTypeError(f"{text!r}: expected {what}")
    return v[0] if len(v) == 1 else v


def _positive_pair(text):
    return _pair(text, minimum=1)


def _positive(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} is not a positive integer")
    return v


def _floats(text):
    try:
        return [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers") from None


def _logits(text):
    """2 to MAX_LOGITS finite numbers that float32 holds, differences included."""
    z = _floats(text)
    for t, v in zip(text.split(","), z):
        if not math.isfinite(v) or abs(v) > 1e38:
            raise argparse.ArgumentTypeError(f"{t.strip()!r} is not a finite number with "
                                             "|z| <= 1e38 (logits are float32)")
    if not 2 <= len(z) <= MAX_LOGITS:
        raise argparse.ArgumentTypeError(f"{len(z)} logit{'s' * (len(z) != 1)} given, expected "
                                         f"2 to {MAX_LOGITS}")
    return z


# -- the parser ----------------------------------------------------------------------------
def _common(p, op, frame_ms, hold_ms=2000, image=True):
    if image:
        p.add_argument("--input", default="default", metavar="SPEC",
                       help="'default' (MNIST test image #0, a 7, bundled in mnist/assets), "
                            "'mnist:INDEX' (MNIST test set, fetched on first use), "
                            "'fashion:INDEX' (Fashion-MNIST test set, likewise), 'toy' or "
                            "'toy:SEED' (6×6 whole numbers 0-3, every sum exact) or a PNG/JPEG "
                            f"path (converted to grayscale [0, 1], shrunk to at most {MAX_SIDE} "
                            "px on the long side)")
        p.add_argument("--invert", action="store_true",
                       help="a picture's ink is dark on light paper: invert it to MNIST's light "
                            "ink on dark")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--frame-ms", type=int, default=frame_ms,
                   help="delay of each frame in ms (a multiple of 10, at least 20)")
    t.add_argument("--fps", type=float, default=None,
                   help="frames per second instead of --frame-ms (rounded to 10 ms delays; at "
                        "most 50)")
    p.add_argument("--hold", type=int, default=hold_ms, metavar="MS",
                   help="how long the last frame stays, in ms (multiple of 10, at least 20)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"output GIF (default: gifs/{op}.gif in the repository; with --weights, "
                        "NET_LAYER_filterF.gif beside the weights)")
    p.add_argument("--no-gifsicle", action="store_true",
                   help="skip the gifsicle -O3 pass (it only runs when gifsicle is installed)")


def _frames_opts(p, scale=True):
    if scale:
        p.add_argument("--scale", type=_positive, default=None,
                       help="screen pixels per input pixel, up to an input map of "
                            f"{MAX_PANEL_PX} px (default: about 240 px per input map)")
    p.add_argument("--max-frames", type=int, default=200,
                   help="most frames in all: the tour, then an even sweep over the steps "
                        "(every step when they fit), then the complete output")


def _tour_opt(p):
    p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                   help="output cells to show slowly first, 'R,C' or 'F,R,C' separated by "
                        "spaces (e.g. '4,9 7,7'), or 'none'; default: 3 or 4 informative "
                        "windows chosen from the values (largest output, a stroke edge, a tie, "
                        "the padding)")


def _geometry(p, dilation=True, stride_default=None, padding_default=0, kernel_default=2):
    p.add_argument("--kernel-size", type=_positive_pair, default=kernel_default, metavar="K",
                   help="window size, K or 'KH,KW'")
    p.add_argument("--stride", type=_positive_pair, default=stride_default, metavar="S",
                   help="step between windows, S or 'SH,SW'" +
                        (" (default: the kernel size)" if stride_default is None else ""))
    p.add_argument("--padding", type=_pair, default=padding_default, metavar="P",
                   help="padding on each side, P or 'PH,PW'")
    if dilation:
        p.add_argument("--dilation", type=_positive_pair, default=1, metavar="D",
                       help="spacing between the sampled cells, D or 'DH,DW'")


def build_parser():
    """The command line: one subcommand per op, plus ``all``."""
    parser = ArgumentParser(prog="make_gif.py", description=__doc__, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="op", required=True, metavar="OP",
                                help="maxpool, avgpool, conv2d, relu, sigmoid, tanh, linear, "
                                     "flatten, softmax or all (OP --help for its options)")
    subs = {}

    def add(name, help_):
        p = sub.add_parser(name, help=help_, description=help_, formatter_class=HelpFormatter)
        subs[name] = p
        return p

    p = add("maxpool", "max_pool2d: the max of each window (pads with -inf)")
    _geometry(p)
    _frames_opts(p)
    _tour_opt(p)
    _common(p, "maxpool", 60)

    p = add("avgpool", "avg_pool2d: the mean of each window (zero padding counted)")
    _geometry(p, dilation=False)
    _frames_opts(p)
    _tour_opt(p)
    _common(p, "avgpool", 60)

    p = add("conv2d", "conv2d: sum of window × kernel over all input channels, plus bias")
    _geometry(p, stride_default=1, padding_default=1, kernel_default=3)
    p.add_argument("--kernel", default="sobel-x",
                   help=f"kernel name, or one per filter separated by commas; names: "
                        f"{', '.join(KERNELS)} (3×3 ones need --kernel-size 3)")
    p.add_argument("--channels", type=_positive, default=1,
                   help="input channels (1-4): the image, then its mirror image, the image "
                        "upside down and rotated by 180°")
    p.add_argument("--filters", type=_positive, default=None,
                   help="output channels (default: the number of --kernel names; with one name "
                        "every filter uses it, 'random' drawing new weights for each)")
    p.add_argument("--bias", type=float, default=0.0, help="bias of every filter")
    p.add_argument("--seed", type=int, default=0, help="seed of the 'random' kernel")
    p.add_argument("--weights", type=Path, default=None, metavar="PATH",
                   help="run a learned filter instead: a weights.npz or checkpoint.npz written "
                        "by train.py; the layer's own geometry, kernel and bias are used, the "
                        "input is normalised like training (and for conv2 is the conv1 → "
                        "activation → pool feature maps of the digit)")
    p.add_argument("--layer", choices=LEARNED_LAYERS, default="conv1",
                   help="with --weights: the network's first or second conv layer")
    p.add_argument("--filter", type=int, default=0, metavar="INDEX",
                   help="with --weights: which filter (output channel) of the layer")
    _frames_opts(p)
    _tour_opt(p)
    _common(p, "conv2d", 60)

    for name, what in (("relu", "max(0, x)"), ("sigmoid", "1 / (1 + exp(-x))"),
                       ("tanh", "the hyperbolic tangent")):
        p = add(name, f"{name}: {what}, element by element, on a conv2d feature map of the image")
        p.add_argument("--kernel", default="sobel-x",
                       help=f"3×3 kernel giving the signed input map conv2d(image, kernel, "
                            f"padding=1); one of {', '.join(KERNELS)}, or 'none' for the image "
                            f"itself")
        p.add_argument("--seed", type=int, default=0, help="seed of the 'random' kernel")
        _frames_opts(p)
        p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                       help="elements to show slowly first, 'R,C' separated by spaces (e.g. "
                            "'4,9 7,7'), or 'none'; default: 3 or 4 telling ones (relu: a "
                            "negative clipped, a positive passing; sigmoid/tanh: both ends, "
                            "the bend, the middle)")
        _common(p, name, 50)

    p = add("linear", "linear: one output neuron per step, inputs × weights summed plus bias")
    p.add_argument("--pool", type=_positive, default=7,
                   help="x = flatten(avg_pool2d(image, POOL)): 28×28 with 7 gives 16 features "
                        "(at most 64 allowed)")
    p.add_argument("--out-features", type=_positive, default=10, help="output neurons (at most 32)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random weights N(0, 1/in) and biases N(0, 0.1²)")
    _frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="NEURON",
                   help="output neurons to show slowly first (e.g. '3 7'), or 'none'; default: "
                        "3 or 4 chosen from the values (largest |y|, the other sign, the "
                        "largest product)")
    _common(p, "linear", 300, 3000)

    p = add("flatten", "flatten: where each cell of a (C, H, W) input goes in the vector")
    p.add_argument("--pool", type=_positive, default=7,
                   help="x = avg_pool2d(image, POOL): 28×28 with 7 gives 4×4 (at most 256 cells)")
    p.add_argument("--channels", type=_positive, default=1,
                   help="input channels (1-4), made as for conv2d")
    _frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="K",
                   help="output indices to show slowly first (e.g. '5 17'), or 'none'; "
                        "default: 3 or 4 chosen from the values (the largest, one per later "
                        "channel, one deep inside a channel)")
    _common(p, "flatten", 150)

    p = add("softmax", "softmax of logits (exp, sum, normalise) and the cross-entropy loss")
    p.add_argument("--logits", type=_logits, default=_logits(DEFAULT_LOGITS),
                   help=f"comma-separated logits (2 to {MAX_LOGITS}) (default: illustrative "
                        f"scores of a classifier that favours 7: {DEFAULT_LOGITS})")
    p.add_argument("--label", type=int, default=7,
                   help="true class for the loss (-1: no loss)")
    _common(p, "softmax", 300, 3000, image=False)

    p = add("all", "render the whole gallery into gifs/")
    p.add_argument("--out-dir", type=Path, default=GIF_DIR, help="folder of the gallery")
    p.add_argument("--no-gifsicle", action="store_true", help="skip the gifsicle -O3 pass")
    return parser, subs


# -- running the ops -----------------------------------------------------------------------
def _learned(args, image, desc):
    """A trained filter over its real input: conv1 on the normalised digit, conv2 on the
    pooled conv1 feature maps, both computed by the model's own layers."""
    from training import load_model
    from training.features import conv_filter_input, prepare_unit_image

    try:
        model, config = load_model(str(args.weights))
    except NPZ_ERRORS as e:
        raise ValueError(f"argument --weights: {_npz_error(args.weights, e)}") from None
    if image.shape != (28, 28):
        raise ValueError(f"--input {args.input!r}: the image is {image.shape[0]}×"
                         f"{image.shape[1]}, expected 28×28 for a trained network")
    x = prepare_unit_image(image, config.normalize)
    f = conv_filter_input(model, x, args.layer, args.filter)
    _, cache = ops.conv2d(f["x"], f["weight"], f["bias"], f["stride"], f["padding"])
    what = ", normalised" if not f["before"] else " → " + " → ".join(f["before"])
    sub = (f"input: {desc}{what}  ·  learned filter {args.filter} of {args.layer} "
           f"({f['name']}), {args.weights.name}")
    tr = cache.trace(sample=0)
    _check_scale(args.scale, tr.padded.shape[2:])
    shape = (f["filters"],) + tr.weight.shape[1:]
    label = f"w[{args.filter}] of {args.layer} ({'×'.join(map(str, shape))})"
    return render_window(tr, args.scale, args.max_frames, subtitle=sub, tour=_tour(args, tr),
                         weight_label=lambda _: label)


def _tour(args, trace):
    """The --tour steps of ``trace`` (None: the renderer picks)."""
    return None if args.tour is None else steps_of(trace, parse_tour(args.tour))


def _window(args, image, desc):
    if getattr(args, "weights", None) is not None:
        return _learned(args, image, desc)
    x = image[None, None]
    extra = ""
    if args.op == "maxpool":
        out, cache = ops.max_pool2d(x, args.kernel_size, args.stride, args.padding, args.dilation)
    elif args.op == "avgpool":
        out, cache = ops.avg_pool2d(x, args.kernel_size, args.stride, args.padding)
    else:
        names = [t.strip() for t in args.kernel.split(",")]
        filters = args.filters or len(names)
        if len(names) == 1:
            names = names * filters
        elif len(names) != filters:
            raise ValueError(f"--filters {filters} but {len(names)} kernels in --kernel "
                             f"{args.kernel!r}, expected one name or one per filter")
        if filters > 4:
            raise ValueError(f"--filters {filters}: expected 1 to 4")
        ks = args.kernel_size if isinstance(args.kernel_size, tuple) else (args.kernel_size,) * 2
        x = stack_channels(image, args.channels)[None]
        w = make_weight(names, args.channels, ks, args.seed)
        b = np.full(filters, args.bias, dtype=np.float32)
        out, cache = ops.conv2d(x, w, b, args.stride, args.padding, args.dilation)
        extra = "  ·  kernel " + ", ".join(dict.fromkeys(names)) + \
                (f" (seed {args.seed})" if "random" in names else "")
        if args.channels > 1:
            extra += "  ·  channels: image, mirrored" + (", flipped" if args.channels > 2 else "") \
                     + (", rotated" if args.channels > 3 else "")
    tr = cache.trace(sample=0)
    _check_scale(args.scale, tr.padded.shape[2:])
    return render_window(tr, args.scale, args.max_frames, subtitle=f"input: {desc}{extra}",
                         tour=_tour(args, tr))


def _elementwise(args, image, desc):
    if args.kernel == "none":
        x, name = image[None, None], "the image"
    else:
        w = make_weight([args.kernel], 1, (3, 3), args.seed)
        x, _ = ops.conv2d(image[None, None], w, None, 1, 1)
        name = f"conv2d(image, {args.kernel}, padding=1)"
    fn = getattr(ops, args.op)
    _check_scale(args.scale, x.shape[2:])
    _, cache = fn(x)
    lo, hi = float(x.min()), float(x.max())
    xs = np.linspace(lo, hi, 256, dtype=x.dtype)
    ys, _ = fn(xs)                              # the curve, drawn by the op itself
    tour = None if args.tour is None else parse_tour(args.tour)
    return render_elementwise(cache.trace(sample=0), curve=(xs, ys), scale=args.scale,
                              max_frames=args.max_frames, subtitle=f"input: {desc}",
                              input_name=name, tour=tour)


def _pooled(image, pool, channels=1):
    x = stack_channels(image, channels)[None]
    if pool > 1:
        x, _ = ops.avg_pool2d(x, pool)
    return x


def _linear(args, image, desc):
    x = _pooled(image, args.pool)
    flat, _ = ops.flatten(x)
    n_in = flat.shape[1]
    if n_in > 64:
        raise ValueError(f"--pool {args.pool} gives {n_in} features, expected at most 64 "
                         f"(use a larger --pool)")
    if args.out_features > 32:
        raise ValueError(f"--out-features {args.out_features}: expected at most 32")
    rng = np.random.default_rng(args.seed)
    w = rng.normal(0, 1 / np.sqrt(n_in), (args.out_features, n_in)).astype(np.float32)
    b = rng.normal(0, 0.1, args.out_features).astype(np.float32)
    _, cache = ops.linear(flat, w, b)
    tour = None if args.tour is None else parse_indices(args.tour, "a neuron")
    return render_linear(cache.trace(sample=0), args.max_frames,
                         subtitle=f"input: {desc}  ·  random weights (seed {args.seed})",
                         input_name=f"flatten(avg_pool2d(image, {args.pool}))", tour=tour)


def _flatten(args, image, desc):
    x = _pooled(image, args.pool, args.channels)
    _, cache = ops.flatten(x)
    tour = None if args.tour is None else parse_indices(args.tour, "an output")
    return render_flatten(cache.trace(sample=0), args.max_frames, subtitle=f"input: {desc}",
                          input_name=f"avg_pool2d(image, {args.pool})", tour=tour)


def _check_scale(scale, hw):
    """Refuse a --scale that would draw the (padded) input map beyond MAX_PANEL_PX."""
    if scale is not None and max(hw) * scale > MAX_PANEL_PX:
        raise ValueError(f"argument --scale: {scale} draws this {hw[0]}×{hw[1]} input map "
                         f"{max(hw) * scale} px wide, expected at most {MAX_PANEL_PX} px "
                         f"(--scale {max(1, MAX_PANEL_PX // max(hw))} or less)")


def _softmax(args):
    k = len(args.logits)
    if not -1 <= args.label < k:
        raise ValueError(f"argument --label: {args.label} is not a class of the {k} logits, "
                         f"expected 0 to {k - 1} (or -1: no loss)")
    label = None if args.label == -1 else args.label
    tr = ops.trace_softmax(np.array(args.logits, dtype=np.float32), label)
    return render_softmax(tr, subtitle="logits: " + ", ".join(f"{v:g}" for v in args.logits))


def render(args):
    """Build the input, run the op, render its trace. Returns a ``viz.frames.Animation``."""
    if args.op == "softmax":
        return _softmax(args)
    image, desc = load_image(args.input, invert=getattr(args, "invert", False))
    if args.op in ("maxpool", "avgpool", "conv2d"):
        return _window(args, image, desc)
    if args.op in ("relu", "sigmoid", "tanh"):
        return _elementwise(args, image, desc)
    return _linear(args, image, desc) if args.op == "linear" else _flatten(args, image, desc)


def _timing(args):
    """The frame delay in ms from --frame-ms or --fps; checks --hold too."""
    frame_ms = args.frame_ms
    if args.fps is not None:
        lo = 1000 / MAX_DELAY_MS
        if not lo <= args.fps <= 50:
            raise ValueError(f"argument --fps: {args.fps:g}, expected {lo:.4f} to 50 frames per "
                             "second (a GIF frame lasts 20 ms to 655 s)")
        frame_ms = int(round(100 / args.fps)) * 10
    for opt, v in (("--frame-ms", frame_ms), ("--hold", args.hold)):
        if not (20 <= v <= MAX_DELAY_MS and v % 10 == 0):
            raise ValueError(f"argument {opt}: {v}, expected a multiple of 10 ms from 20 to "
                             f"{MAX_DELAY_MS} (GIF delays are whole centiseconds)")
    return frame_ms


def _npz_error(path, e):
    """One line for an unreadable weights file, whatever the loader raised."""
    text = str(e).strip() or type(e).__name__
    if str(path) not in text:
        text = f"{path}: {text}"
    if "expected" not in text:
        text += " (expected a weights.npz or checkpoint.npz written by train.py)"
    return f"cannot read {text}"


def _check_out(out, parser):
    """Refuse an output path that cannot be written, before rendering anything."""
    if out.is_dir():
        parser.error(f"argument --out: {str(out)!r} is a folder, expected a file path such as "
                     f"{str(out / 'name.gif')!r}")
    if not out.parent.is_dir():
        parser.error(f"argument --out: folder {str(out.parent)!r} does not exist")
    if not os.access(out.parent, os.W_OK):
        parser.error(f"argument --out: cannot write into folder {str(out.parent)!r} "
                     "(permission denied)")


def _learned_checks(args, parser):
    """Validate the --weights options; returns the default output path: NET_LAYER_filterINDEX.gif
    beside the weights (a run's outputs go into the run; for shipped weights, runs/NAME/)."""
    if not args.weights.is_file():
        parser.error(f"argument --weights: no such file {str(args.weights)!r}")
    defaults = parser.parse_args([])
    changed = [n for n in HAND_MADE if getattr(args, n) != getattr(defaults, n)]
    if changed:
        opts = ", ".join("--" + n.replace("_", "-") for n in changed)
        parser.error(f"argument --weights: cannot be combined with {opts} (the trained layer "
                     "brings its own kernel, bias and geometry)")
    if args.filter < 0:
        parser.error(f"argument --filter: {args.filter}, expected an index >= 0")
    from training import read_npz
    try:
        net = read_npz(str(args.weights))["config"].net
    except NPZ_ERRORS as e:
        parser.error(f"argument --weights: {_npz_error(args.weights, e)}")
    return (output_dir(args.weights.parent, args.weights.stem)
            / f"{net}_{args.layer}_filter{args.filter}.gif")


def make(args, parser):
    """Render one GIF from parsed arguments; bad usage ends in ``parser.error`` (exit 2).

    Returns a dict: ``path``, ``frames``, ``play_s``, ``bytes``, ``render_s`` (drawing and
    encoding time)."""
    out = args.out or (GIF_DIR / f"{args.op}.gif")
    if getattr(args, "weights", None) is not None:
        learned_out = _learned_checks(args, parser)
        out = args.out or learned_out
        if args.out is None:
            out.parent.mkdir(parents=True, exist_ok=True)
    elif args.op == "conv2d" and (args.layer != "conv1" or args.filter != 0):
        parser.error("argument --layer/--filter: only with --weights PATH")
    _check_out(out, parser)
    if getattr(args, "max_frames", 2) < 2:
        parser.error(f"--max-frames {args.max_frames}: expected at least 2")
    try:
        frame_ms = _timing(args)
        t0 = time.perf_counter()
        anim = render(args)
    except (ValueError, TypeError) as e:       # the ops' and viz's own messages
        parser.error(str(e))
    durations = anim.durations(frame_ms, args.hold)
    try:
        write_gif(out, anim.frames, durations, use_gifsicle=not args.no_gifsicle)
    except OSError as e:                       # the atomic writer left nothing behind
        parser.error(f"argument --out: cannot write {str(out)!r} ({e.strerror or e})")
    seconds = time.perf_counter() - t0
    tour = anim.tour_frames()
    return {"path": out, "frames": len(anim), "play_s": sum(durations) / 1000,
            "bytes": out.stat().st_size, "render_s": seconds, "tour_frames": len(tour),
            "tour_s": sum(durations[i] for i in tour) / 1000}


def _report(name, r):
    tour = f" (tour {r['tour_frames']} frames, {r['tour_s']:.1f} s)" if r["tour_frames"] else ""
    print(f"{name}: {r['path']}  {r['frames']} frames{tour}, plays {r['play_s']:.1f} s, "
          f"{r['bytes'] / 1024:.0f} KB, rendered in {r['render_s']:.2f} s")


def main(argv=None):
    parser, subs = build_parser()
    args = parser.parse_args(argv)
    current = args.op
    try:
        if args.op != "all":
            _report(args.op, make(args, subs[args.op]))
            return 0
        if not args.out_dir.is_dir():
            subs["all"].error(f"--out-dir {str(args.out_dir)!r} does not exist")
        for current, argv_ in GALLERY.items():
            a = parser.parse_args(argv_ + ["--out", str(args.out_dir / f"{current}.gif")] +
                                  (["--no-gifsicle"] if args.no_gifsicle else []))
            _report(current, make(a, subs[a.op]))
        return 0
    except KeyboardInterrupt:                  # the atomic writer has removed its temporary file
        done = "" if args.op != "all" else " (the GIFs reported above are complete)"
        print(f"{parser.prog}: interrupted; {current} not written{done}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
