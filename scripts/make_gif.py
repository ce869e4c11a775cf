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
import argparse
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, HelpFormatter, run_main  # noqa: E402
from safeio.paths import output_problem  # noqa: E402
import numpy as np  # noqa: E402
import ops  # noqa: E402
from viz.elementwise_gif import render_elementwise  # noqa: E402
from training.checkpoint import CheckpointError  # noqa: E402
from training.rundir import output_dir  # noqa: E402
from viz.dense import parse_indices  # noqa: E402
from viz.encode import write_gif  # noqa: E402
from viz.flatten_gif import render_flatten  # noqa: E402
from viz.frames import sweep_pace  # noqa: E402
from viz.inputs import MAX_SIDE, load_image, stack_channels  # noqa: E402
from viz.kernels import NAMES as KERNELS, make_weight  # noqa: E402
from viz.linear_gif import render_linear  # noqa: E402
from viz.signal_gif import render_signal, steps_of1d  # noqa: E402
from viz.softmax_gif import render_softmax  # noqa: E402
from viz.transpose_gif import render_transpose, transpose_steps  # noqa: E402
from viz.tour import parse_tour, steps_of  # noqa: E402
from viz.window_gif import render_window  # noqa: E402
from viz.backward_gif import (render_dweight, render_elementwise_backward,  # noqa: E402
                              render_gather, render_linear_backward, render_scatter)
from mnist.images import load_input  # noqa: E402

GIF_DIR = ROOT / "gifs"
LEARNED_LAYERS = ("conv1", "conv2")
# options that --weights replaces by the trained layer's own
HAND_MADE = ("kernel", "channels", "filters", "bias", "seed", "kernel_size", "stride", "padding",
             "dilation", "groups", "no_bias")
KERNELS_1D = ("ints", "ones", "blur", "random")   # the named 3×3 kernels have no 1-D form
MAX_CHANNELS = 4
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
    "conv2d_groups": ["conv2d", "--input", "toy:0:5", "--channels", "4", "--filters", "4",
                      "--groups", "2", "--kernel", "ints", "--no-bias", "--max-frames", "60"],
    "conv2d_same": ["conv2d", "--input", "toy:0:5", "--kernel", "ints", "--kernel-size", "4",
                    "--padding", "same", "--no-bias"],
    "conv_transpose2d": ["conv_transpose2d"],
    "conv_transpose2d_direct": ["conv_transpose2d", "--view", "direct"],
    "conv1d": ["conv1d"],
    "maxpool1d": ["maxpool1d", "--kernel-size", "3", "--stride", "2", "--padding", "1"],
    "avgpool1d": ["avgpool1d", "--kernel-size", "3", "--stride", "2"],
}

# The "convolution arithmetic" section (gifs/arithmetic/): every animation of Dumoulin &
# Visin's guide with its input and kernel sizes, on whole numbers, titled by the guide's
# relationship with the numbers filled in; then what the guide does not show.
# name -> (arguments, relationship)
_T = ["conv_transpose2d", "--view", "direct", "--kernel", "guide"]
_C = ["conv2d", "--kernel", "guide", "--no-bias", "--padding", "0"]
ARITHMETIC = {
    "no_padding_no_strides": (_C + ["--input", "toy:0:4"],
                              "Relationship 1: o = (i − k) + 1 = (4 − 3) + 1 = 2"),
    "arbitrary_padding_no_strides": (
        ["conv2d", "--kernel", "ints", "--kernel-size", "4", "--no-bias", "--input", "toy:0:5",
         "--padding", "2"], "Relationship 2: o = (i − k) + 2p + 1 = (5 − 4) + 2·2 + 1 = 6"),
    "same_padding_no_strides": (_C[:-1] + ["1", "--input", "toy:0:5"],
                                "Relationship 3 (half padding, p = ⌊k/2⌋ = 1): o = i = 5"),
    "full_padding_no_strides": (_C[:-1] + ["2", "--input", "toy:0:5"],
                                "Relationship 4 (full padding, p = k − 1 = 2): "
                                "o = i + (k − 1) = 5 + 2 = 7"),
    "no_padding_strides": (_C + ["--input", "toy:0:5", "--stride", "2"],
                           "Relationship 5: o = ⌊(i − k)/s⌋ + 1 = ⌊(5 − 3)/2⌋ + 1 = 2"),
    "padding_strides": (_C[:-1] + ["1", "--input", "toy:0:5", "--stride", "2"],
                        "Relationship 6: o = ⌊(i + 2p − k)/s⌋ + 1 = ⌊(5 + 2·1 − 3)/2⌋ + 1 = 3"),
    "padding_strides_odd": (_C[:-1] + ["1", "--input", "toy:0:6", "--stride", "2"],
                            "Relationship 6 (odd): o = ⌊(i + 2p − k)/s⌋ + 1 = "
                            "⌊(6 + 2·1 − 3)/2⌋ + 1 = ⌊2.5⌋ + 1 = 3"),
    "no_padding_no_strides_transposed": (
        _T + ["--input", "toy:0:2", "--stride", "1"],
        "Relationship 8: o′ = i′ + (k − 1) = 2 + (3 − 1) = 4  (transpose of 4 → 2)"),
    "arbitrary_padding_no_strides_transposed": (
        _T[:-1] + ["ints", "--kernel-size", "4", "--input", "toy:0:6", "--stride", "1",
                   "--padding", "2"],
        "Relationship 9: o′ = i′ + (k − 1) − 2p = 6 + 3 − 2·2 = 5  (transpose of 5 → 6)"),
    "same_padding_no_strides_transposed": (
        _T + ["--input", "toy:0:5", "--stride", "1", "--padding", "1"],
        "Relationship 10 (half padding): o′ = i′ = 5  (transpose of 5 → 5)"),
    "full_padding_no_strides_transposed": (
        _T + ["--input", "toy:0:7", "--stride", "1", "--padding", "2"],
        "Relationship 11 (full padding): o′ = i′ − (k − 1) = 7 − 2 = 5  (transpose of 5 → 7)"),
    "no_padding_strides_transposed": (
        _T + ["--input", "toy:0:2", "--stride", "2"],
        "Relationship 12: o′ = s(i′ − 1) + k = 2·(2 − 1) + 3 = 5  (transpose of 5 → 2)"),
    "padding_strides_transposed": (
        _T + ["--input", "toy:0:3", "--stride", "2", "--padding", "1"],
        "Relationship 13: o′ = s(i′ − 1) + k − 2p = 2·2 + 3 − 2 = 5  (transpose of 5 → 3)"),
    "padding_strides_odd_transposed": (
        _T + ["--input", "toy:0:3", "--stride", "2", "--padding", "1", "--output-padding", "1"],
        "Relationship 14: o′ = s(i′ − 1) + a + k − 2p = 2·2 + 1 + 3 − 2 = 6  "
        "(a = output_padding; transpose of 6 → 3)"),
    "dilation": (_C + ["--input", "toy:0:7", "--dilation", "2"],
                 "Relationship 15: o = ⌊(i + 2p − k − (k − 1)(d − 1))/s⌋ + 1 = "
                 "⌊(7 + 0 − 3 − 2·1)/1⌋ + 1 = 3"),
    # beyond the guide
    "groups2": (["conv2d", "--input", "toy:0:5", "--channels", "4", "--filters", "4",
                 "--groups", "2", "--kernel", "ints", "--no-bias", "--max-frames", "60"], None),
    "depthwise": (["conv2d", "--input", "toy:0:5", "--channels", "3", "--filters", "3",
                   "--groups", "3", "--kernel", "ints", "--no-bias"], None),
    "causal_conv1d": (["conv1d", "--padding", "causal", "--kernel-size", "3"], None),
    "checkerboard": (["conv_transpose2d", "--kernel", "ones", "--stride", "2", "--counts",
                      "--input", "toy:0:3", "--max-frames", "60"], None),
}
# the backward section: each shows the gradient the shipped LeNet-5 really routes
BACKWARD_GALLERY = {
    "maxpool_backward": ["maxpool-backward"],
    "avgpool_backward": ["avgpool-backward"],
    "conv2d_backward_input": ["conv2d-backward-input"],
    "conv2d_backward_input_gather": ["conv2d-backward-input", "--view", "gather"],
    "conv2d_backward_input_stride2": ["conv2d-backward-input", "--view", "gather", "--input",
                                      "toy", "--kernel", "sobel-x", "--stride", "2",
                                      "--dout", "ones"],
    "conv2d_backward_weight": ["conv2d-backward-weight"],
    "relu_backward": ["relu-backward"],
    "linear_backward": ["linear-backward"],
    "training_step": ["training-step"],
}
GALLERY.update(BACKWARD_GALLERY)


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
def _common(p, op, frame_ms, hold_ms=2000, image=True, input_default="default"):
    if image:
        p.add_argument("--input", default=input_default, metavar="SPEC",
                       help="'default' (MNIST test image #0, a 7, bundled in mnist/assets), "
                            "'mnist:INDEX' (MNIST test set, fetched on first use), "
                            "'fashion:INDEX' (Fashion-MNIST test set, likewise), 'toy', "
                            "'toy:SEED' or 'toy:SEED:SIZE' (6×6 or SIZE×SIZE whole numbers 0-3, "
                            "every sum exact) or a PNG/JPEG "
                            f"path (converted to grayscale [0, 1], shrunk to at most {MAX_SIDE} "
                            "px on the long side)")
        p.add_argument("--invert", action="store_true",
                       help="a picture's ink is dark on light paper: invert it to MNIST's light "
                            "ink on dark")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--frame-ms", type=int, default=frame_ms,
                   help="delay of each frame in ms (a multiple of 10, at least 20)" +
                        ("" if frame_ms else " (default: the sweep lasts about 6 s, 60 to "
                                             "500 ms a frame)"))
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


def _padding_mode(text):
    """conv2d's padding: 'same', 'valid', or P / 'PH,PW'."""
    if text in ("same", "valid"):
        return text
    try:
        return _pair(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'same', 'valid', an integer or "
                                         "a pair 'H,W' of integers >= 0") from None


def _padding_causal(text):
    """conv1d's padding: 'causal' (left only) or an integer."""
    if text == "causal":
        return text
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'causal' or an integer >= 0")
    return v


def _geometry(p, dilation=True, stride_default=None, padding_default=0, kernel_default=2,
              padding_type=_pair, padding_help="padding on each side, P or 'PH,PW'",
              stride_help="step between windows, S or 'SH,SW'"):
    p.add_argument("--kernel-size", type=_positive_pair, default=kernel_default, metavar="K",
                   help="window size, K or 'KH,KW'")
    p.add_argument("--stride", type=_positive_pair, default=stride_default, metavar="S",
                   help=stride_help +
                        (" (default: the kernel size)" if stride_default is None else ""))
    p.add_argument("--padding", type=padding_type, default=padding_default, metavar="P",
                   help=padding_help)
    if dilation:
        p.add_argument("--dilation", type=_positive_pair, default=1, metavar="D",
                       help="spacing between the sampled cells, D or 'DH,DW'")


def build_parser():
    """The command line: one subcommand per op, plus ``all``."""
    parser = ArgumentParser(prog="make_gif.py", description=__doc__, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="op", required=True, metavar="OP",
                                help="maxpool, avgpool, conv2d, conv_transpose2d, conv1d, "
                                     "maxpool1d, avgpool1d, relu, sigmoid, tanh, linear, "
                                     "flatten, softmax, their backward passes "
                                     f"({', '.join(BACKWARD_OPS)}) or all (OP --help for its "
                                     "options)")
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
    _geometry(p, stride_default=1, padding_default=1, kernel_default=3, padding_type=_padding_mode,
              padding_help="padding on each side, P or 'PH,PW', or 'same' (output as big as "
                           "the input, stride 1; an odd remainder goes bottom/right, as in "
                           "torch) or 'valid' (none)")
    p.add_argument("--kernel", default="sobel-x",
                   help=f"kernel name, or one per filter separated by commas; names: "
                        f"{', '.join(KERNELS)} (the named 3×3 kernels need --kernel-size 3)")
    p.add_argument("--channels", type=_positive, default=1,
                   help="input channels (1-4): the image, then its mirror image, the image "
                        "upside down and rotated by 180°")
    p.add_argument("--filters", type=_positive, default=None,
                   help="output channels (default: the number of --kernel names; with one name "
                        "every filter uses it, 'random' drawing new weights for each)")
    p.add_argument("--bias", type=float, default=0.0, help="bias of every filter")
    p.add_argument("--no-bias", action="store_true", help="no bias at all (bias=None)")
    p.add_argument("--groups", type=_positive, default=1,
                   help="split channels and filters into G groups; filter f reads only its "
                        "group's C/G channels (G = C: depthwise)")
    p.add_argument("--seed", type=int, default=0, help="seed of the 'random' and 'ints' kernels")
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

    p = add("conv_transpose2d", "conv_transpose2d: each input cell stamps cell × kernel into "
                                "the output (scatter), or the same as a convolution of the "
                                "zero-inserted, padded input (direct)")
    _geometry(p, stride_default=2, padding_default=0, kernel_default=3,
              stride_help="spacing of the stamps in the output (torch's default is 1; 2 shows "
                          "the inserted zeros), S or 'SH,SW'",
              padding_help="rows/cols cropped from each side of the output, P or 'PH,PW' "
                           "(the padding of the convolution this transposes)")
    p.add_argument("--output-padding", type=_pair, default=0, metavar="A",
                   help="extra output rows/cols at the bottom/right, A or 'AH,AW' (smaller "
                        "than stride or dilation)")
    p.add_argument("--view", choices=("scatter", "direct"), default="scatter",
                   help="scatter: stamps adding up in the output; direct: the window over the "
                        "zero-inserted, padded input")
    p.add_argument("--kernel", default="guide",
                   help=f"kernel name, one of {', '.join(KERNELS)} (the named 3×3 kernels "
                        "need --kernel-size 3)")
    p.add_argument("--channels", type=_positive, default=1, help="input channels (1-4)")
    p.add_argument("--filters", type=_positive, default=1, help="output channels (1-4)")
    p.add_argument("--groups", type=_positive, default=1, help="groups, dividing both")
    p.add_argument("--bias", type=float, default=None, help="bias of every output channel "
                   "(default: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the 'random' and 'ints' kernels")
    p.add_argument("--counts", action="store_true",
                   help="scatter view: also show how many stamps each output cell receives "
                        "(uneven counts make checkerboard artefacts)")
    _frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                   help="cells to show slowly first, 'R,C' or 'CH,R,C': input cells (scatter) "
                        "or output cells (direct); or 'none'")
    _common(p, "conv_transpose2d", None, input_default="toy:0:3")

    for name, op, what in (("conv1d", "conv1d", "sum of window × kernel over the channels"),
                           ("maxpool1d", "max_pool1d", "the max of each window"),
                           ("avgpool1d", "avg_pool1d", "the mean of each window")):
        p = add(name, f"{op}: {what}, sliding along a signal (a row of the --input image)")
        if name == "conv1d":
            p.add_argument("--kernel-size", type=_positive, default=3, metavar="K")
            p.add_argument("--stride", type=_positive, default=1, metavar="S")
            p.add_argument("--padding", type=_padding_causal, default=0, metavar="P",
                           help="zeros on each side, or 'causal': dilation·(K − 1) zeros on "
                                "the left only, prepended to the signal (out[t] reads x up "
                                "to t)")
        else:
            p.add_argument("--kernel-size", type=_positive, default=2, metavar="K")
            p.add_argument("--stride", type=_positive, default=None, metavar="S",
                           help="step between windows (default: the kernel size)")
            p.add_argument("--padding", type=int, default=0, metavar="P",
                           help="padding on each side (at most half the kernel)")
        if name != "avgpool1d":
            p.add_argument("--dilation", type=_positive, default=1, metavar="D")
        p.add_argument("--row", type=int, default=None,
                       help="which image row is the signal (default: the middle row)")
        p.add_argument("--channels", type=_positive, default=1,
                       help="input channels (1-4): rows ROW, ROW+1, …")
        if name == "conv1d":
            p.add_argument("--kernel", default="ints",
                           help=f"kernel name, or one per filter: {', '.join(KERNELS_1D)}")
            p.add_argument("--filters", type=_positive, default=None,
                           help="output channels (default: the number of --kernel names)")
            p.add_argument("--bias", type=float, default=None,
                           help="bias of every filter (default: none)")
            p.add_argument("--seed", type=int, default=0, help="seed of 'ints' and 'random'")
        _frames_opts(p, scale=False)
        p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                       help="output cells to show slowly first, 'I' or 'F,I', or 'none'")
        _common(p, name, None, input_default="toy:0:12")

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

    _backward_parsers(add)

    p = add("all", "render the whole gallery into gifs/")
    p.add_argument("--out-dir", type=Path, default=GIF_DIR, help="folder of the gallery")
    p.add_argument("--no-gifsicle", action="store_true", help="skip the gifsicle -O3 pass")
    return parser, subs


# -- the backward subcommands --------------------------------------------------------------
# By default (--dout lenet5) the op is the shipped LeNet-5's own layer on the input digit and
# the upstream gradient the one its loss really sends back to that layer (training.gradients).
# Options that change the layer's geometry or kernel (or an input that is not a 28×28 digit)
# make a hand-made op as the forward GIFs do; LeNet-5's gradient does not exist for it, so
# --dout lenet5 then falls back to random with a note.
LENET = ROOT / "models" / "lenet5.npz"
BACKWARD_OPS = ("maxpool-backward", "avgpool-backward", "conv2d-backward-input",
                "conv2d-backward-weight", "relu-backward", "linear-backward", "training-step")
DOUTS = ("lenet5", "random", "ones")
MAX_FRAMES = 150        # a 28×28 map's sweep at 60 ms, the tour and the hold stay under 20 s
CONV_FRAMES = 100


def _pair2(v):
    return v if isinstance(v, tuple) else (v, v)


def _backward_parsers(add):
    """Add the backward subcommands (see the section comment above)."""
    pair, ppair, positive = _pair, _positive_pair, _positive

    def dout_opts(p, index):
        p.add_argument("--dout", choices=DOUTS, default="lenet5",
                       help="the upstream gradient ∂L/∂out: 'lenet5' (the loss gradient the "
                            "shipped LeNet-5 sends back to this layer on the input digit; "
                            "hand-made geometry or kernels fall back to 'random'), 'random' "
                            "(N(0, 1), --seed) or 'ones'")
        p.add_argument("--label", type=int, default=None,
                       help="with --dout lenet5: the class the loss is taken against (default: "
                            "the digit's true label, else the predicted class)")
        if index:
            p.add_argument(f"--{index}", type=int, default=None, metavar="INDEX",
                           help=f"with LeNet-5's layer: which {index} to show (default: the one "
                                "with the largest Σ|∂L/∂out|)")
        p.add_argument("--weights", dest="net_weights", type=Path, default=LENET, metavar="PATH",
                       help="the trained network for --dout lenet5 (default: models/lenet5.npz)")
        p.add_argument("--seed", type=int, default=0,
                       help="seed of --dout random (and of the 'random' kernel)")

    def geometry(p, what, dilation=True):
        p.add_argument("--kernel-size", type=ppair, default=None, metavar="K",
                       help=f"window size, K or 'KH,KW' (default: {what})")
        p.add_argument("--stride", type=ppair, default=None, metavar="S",
                       help=f"step between windows (default: {what})")
        p.add_argument("--padding", type=pair, default=None, metavar="P",
                       help=f"padding on each side (default: {what})")
        if dilation:
            p.add_argument("--dilation", type=ppair, default=None, metavar="D",
                           help="spacing between the sampled cells (default: 1)")

    def common(p, name, frame_ms=60, hold=2500, max_frames=MAX_FRAMES):
        _frames_opts(p)
        p.set_defaults(max_frames=max_frames)
        _tour_opt(p)
        _common(p, name, frame_ms, hold)

    for name, op, what in (("maxpool-backward", "max_pool2d",
                            "each upstream cell flows to its window's max"),
                           ("avgpool-backward", "avg_pool2d",
                            "each upstream cell is shared equally over its window")):
        p = add(name, f"{op} backward: {what}")
        geometry(p, "LeNet-5's first pooling layer, 2 with stride 2; hand-made: 2, stride = "
                    "kernel, padding 0", dilation=op == "max_pool2d")
        dout_opts(p, "channel")
        common(p, name)

    for name, what in (("conv2d-backward-input", "∂L/∂x: each upstream cell stamps "
                        "∂L/∂out · w into its window (--view scatter), or the full correlation "
                        "of the zero-inserted ∂L/∂out with the 180°-rotated kernel (gather)"),
                       ("conv2d-backward-weight", "∂L/∂w: each weight cell is Σ x · ∂L/∂out "
                        "over the positions where that tap was used; ∂L/∂b = Σ ∂L/∂out")):
        p = add(name, f"conv2d backward, {what}")
        geometry(p, "LeNet-5's conv1, 5×5, stride 1, padding 2; hand-made: 3, 1, 1")
        p.add_argument("--kernel", default=None,
                       help=f"a hand-made kernel instead of LeNet-5's learned one: "
                            f"{', '.join(KERNELS)} (3×3 ones need --kernel-size 3)")
        if name.endswith("input"):
            p.add_argument("--view", choices=("scatter", "gather"), default="scatter",
                           help="scatter: stamps that add up; gather: a full correlation")
        dout_opts(p, "filter")
        # scatter stamps change a 5×5 block a step: fewer frames keep the GIF under 500 KB
        common(p, name, hold=2500 if name.endswith("input") else 3000,
               max_frames=CONV_FRAMES if name.endswith("input") else MAX_FRAMES)

    p = add("relu-backward", "relu backward: ∂L/∂x = ∂L/∂out where x > 0, else 0")
    p.add_argument("--kernel", default=None,
                   help="hand-made: x = conv2d(image, KERNEL, padding=1) as in 'relu' "
                        f"({', '.join(KERNELS)}); default: LeNet-5's conv1 output")
    dout_opts(p, "channel")
    common(p, "relu-backward")

    p = add("training-step", "one SGD step of a tiny conv → relu → maxpool → linear → "
                             "cross-entropy net on one digit: forward, backward, update")
    p.add_argument("--label", type=int, default=None,
                   help="the class the loss is taken against (default: the digit's label)")
    p.add_argument("--lr", type=float, default=0.1, help="the SGD learning rate")
    p.add_argument("--seed", type=int, default=1, help="seed of the tiny net's initial weights")
    _common(p, "training-step", 1500, 4000)

    p = add("linear-backward", "linear backward, one output neuron at a time: "
                               "∂L/∂x += ∂L/∂out[o] · W[o] (--wrt x) or ∂L/∂W[o] = ∂L/∂out[o] · x")
    p.add_argument("--wrt", choices=("x", "weight"), default="x", help="which gradient")
    p.add_argument("--pool", type=positive, default=None,
                   help="hand-made: x = flatten(avg_pool2d(image, POOL)) with random weights "
                        "(as 'linear'); default: LeNet-5's last layer (84 → 10)")
    p.add_argument("--out-features", type=positive, default=10,
                   help="hand-made: output neurons (at most 32)")
    dout_opts(p, None)
    _frames_opts(p, scale=False)
    _common(p, "linear-backward", 800, 3000)


# -- the upstream gradient -----------------------------------------------------------------
def _label_of(spec):
    got = load_input(spec)
    return got.labels[0]


def _lenet(args, image, kind, index=None):
    from training import load_model
    from training.gradients import lenet_layer_case
    model, config = load_model(str(args.net_weights))
    label = args.label
    if label is None:
        label = _label_of(args.input) if not str(args.input).startswith(("toy",)) else None
    if label is not None and not 0 <= label < 10:
        raise ValueError(f"argument --label: {label}, expected a class 0 to 9")
    case = lenet_layer_case(model, config, image, kind, label, index)
    g = case["grads"]
    case["note"] = (f"∂L/∂out: LeNet-5's loss (label {g.label}, loss {g.loss:.2g}) at "
                    f"{case['layer']}'s output")
    return case


def _other_dout(args, shape, dtype, why=""):
    """--dout random or ones (or lenet5 falling back to random, with ``why``)."""
    if args.dout == "ones":
        return np.ones(shape, dtype), "∂L/∂out: ones"
    rng = np.random.default_rng(args.seed)
    note = f"∂L/∂out: random N(0, 1), seed {args.seed}"
    if args.dout == "lenet5":
        note += f" ({why})"
        print(f"note: --dout lenet5: {why}; using --dout random", file=sys.stderr)
    return rng.standard_normal(shape).astype(dtype), note


def _use_lenet(args, image, hand):
    """Whether the op is LeNet-5's own layer; else the reason it cannot be."""
    if hand:
        return False, ("LeNet-5 has no layer with " + ", ".join("--" + h.replace("_", "-")
                                                              for h in hand) + " as given")
    if image.shape != (28, 28):
        return False, f"LeNet-5 reads 28×28 digits, the input is {image.shape[0]}×{image.shape[1]}"
    return True, ""


def _given(args, names):
    return [n for n in names if getattr(args, n, None) is not None]


def _tour_steps(args, trace_cells, n_cells):
    """--tour cells 'R,C' -> step indices of a row-major (rows, cols) trace: upstream cells
    (scatter), padded ∂L/∂x cells (gather), weight cells (∂L/∂w) or elements (relu)."""
    if args.tour is None:
        return None
    rows, cols = n_cells
    out = []
    for cell in parse_tour(args.tour):
        r, c = cell[-2:]
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(f"--tour {r},{c}: outside the {rows}×{cols} grid of steps")
        out.append(r * cols + c)
    return out


# -- the commands --------------------------------------------------------------------------
def _pool_backward(args, image, desc):
    op = "max_pool2d" if args.op.startswith("max") else "avg_pool2d"
    lenet, why = _use_lenet(args, image, _given(args, ("kernel_size", "stride", "padding",
                                                       "dilation")))
    if lenet:
        case = _lenet(args, image, "pool", args.channel)
        x, k, st, pd, dl = case["x"], case["kernel_size"], case["stride"], case["padding"], 1
        before = case["grads"].names[:case["grads"].names.index(case["layer"])]
        src = f"input: {desc} → LeNet-5 {' → '.join(before)}, channel {case['index']}"
        if case["op"] != ("MaxPool2d" if op == "max_pool2d" else "AvgPool2d"):
            src = src.replace(", channel", f" ({case['op']} there), channel")
    else:
        x = image[None, None].astype(np.float32)
        k = args.kernel_size or 2
        st, pd, dl = args.stride or k, args.padding or 0, getattr(args, "dilation", None) or 1
        src = f"input: {desc}"
    if op == "max_pool2d":
        out, cache = ops.max_pool2d(x, k, st, pd, dl)
        fwd = cache.trace(sample=0).padded[0, 0]
    else:
        out, cache = ops.avg_pool2d(x, k, st, pd)
        fwd = None
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    tr = cache.backward_trace(dout)
    geo = f"kernel_size={k}, stride={st}, padding={pd}" + (f", dilation={dl}"
                                                            if op == "max_pool2d" else "")
    rule = ("∂L/∂x[argmax of window (i, j)] += ∂L/∂out[i, j]; the window's other cells get 0"
            if op == "max_pool2d" else
            "∂L/∂x[every cell of window (i, j)] += ∂L/∂out[i, j] / k²")
    if lenet and case["op"] != ("MaxPool2d" if op == "max_pool2d" else "AvgPool2d"):
        rule += f"   (LeNet-5 uses {case['op']} here: this is how {op} would route its ∂L/∂out)"
    _check_scale(args.scale, tr.padded_size())
    return render_scatter(tr, x=fwd, max_frames=args.max_frames, scale=args.scale,
                          title=f"{op} backward ({geo})", subtitle=f"{src}  ·  {note}",
                          tour=_tour_steps(args, None, out.shape[2:]),
                          names={"formula": rule})


def _conv_case(args, image, desc):
    """x (1, 1, H, W), w (1, 1, kh, kw), geometry, dout, subtitle, weight label."""
    hand = _given(args, ("kernel_size", "stride", "padding", "dilation", "kernel"))
    lenet, why = _use_lenet(args, image, hand)
    if lenet:
        case = _lenet(args, image, "conv", args.filter)
        x, w, b = case["x"], case["weight"], case["bias"]
        st, pd, dl = case["stride"], case["padding"], 1
        src = f"input: {desc}, normalised  ·  LeNet-5 {case['layer']} filter {case['index']}"
        wl = (f"w[{case['index']}] of {case['layer']} ({case['channels']}×"
              f"{'×'.join(map(str, w.shape[1:]))})")
        # one filter's stamps: the layer's own ∂L/∂x sums the parts of all its filters
        part = f", filter {case['index']}'s part" if case["channels"] > 1 else ""
    else:
        x = image[None, None].astype(np.float32)
        ks = _pair2(args.kernel_size or 3)
        name = args.kernel or "sobel-x"
        w = make_weight([name], 1, ks, args.seed)
        b = None
        st, pd, dl = args.stride or 1, args.padding if args.padding is not None else 1, \
            args.dilation or 1
        src = f"input: {desc}  ·  kernel {name}"
        wl = f"w ({name}, {ks[0]}×{ks[1]})"
        part = ""
    out, cache = ops.conv2d(x, w, b, st, pd, dl)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    geo = f"kernel_size={w.shape[2]}, stride={st}, padding={pd}, dilation={dl}"
    return x, w, cache, dout, f"{src}  ·  {note}", wl, geo, out.shape, part


def _conv_backward(args, image, desc):
    x, w, cache, dout, sub, wl, geo, oshape, part = _conv_case(args, image, desc)
    if args.op == "conv2d-backward-weight":
        tr = cache.backward_trace(dout, wrt="weight")
        kh, kw = w.shape[2:]
        _check_scale(args.scale, cache.geom.padded_size())
        return render_dweight(tr, cache.trace(sample=0).padded[0, 0], max_frames=args.max_frames,
                              scale=args.scale,
                              title=f"conv2d backward, ∂L/∂w ({geo})", subtitle=sub,
                              weight_label=wl, stride=_pair2(cache.geom.stride),
                              dilation=_pair2(cache.geom.dilation),
                              tour=_tour_steps(args, None, (kh, kw)))
    if args.view == "gather":
        tr = cache.backward_trace(dout, view="gather")
        _check_scale(args.scale, tr.inserted.shape[2:])
        return render_gather(tr, max_frames=args.max_frames, scale=args.scale,
                             title=f"conv2d backward, ∂L/∂x as a full correlation ({geo})",
                             subtitle=sub, weight_label=wl, part=part,
                             tour=_tour_steps(args, None, tuple(int(v) + 1 for v in
                                                               tr.out_index[-1, 2:])))
    tr = cache.backward_trace(dout)
    _check_scale(args.scale, tr.padded_size())
    return render_scatter(tr, weight=w[0, 0], max_frames=args.max_frames, scale=args.scale,
                          title=f"conv2d backward, ∂L/∂x by scatter ({geo})", subtitle=sub,
                          tour=_tour_steps(args, None, oshape[2:]),
                          names={"formula": "∂L/∂x[window (i, j)] += ∂L/∂out[i, j] · w   "
                                            "(summed over every upstream cell)", "w": wl,
                                 "grad": f"∂L/∂x{part}",
                                 "p3": f"∂L/∂x{part} (padded {tr.padded_size()[0]}×"
                                       f"{tr.padded_size()[1]})"})


def _relu_backward(args, image, desc):
    lenet, why = _use_lenet(args, image, _given(args, ("kernel",)))
    if lenet:
        case = _lenet(args, image, "relu", args.channel)
        x = case["x"]
        src = (f"input: {desc} → LeNet-5 {case['grads'].names[0]}, channel {case['index']}")
    else:
        k = args.kernel or "sobel-x"
        if k == "none":
            x = image[None, None].astype(np.float32)
        else:
            x, _ = ops.conv2d(image[None, None], make_weight([k], 1, (3, 3), args.seed), None, 1, 1)
        src = f"input: conv2d({desc}, {k}, padding=1)"
    out, cache = ops.relu(x)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    tr = cache.backward_trace(dout)
    _check_scale(args.scale, x.shape[2:])
    return render_elementwise_backward(tr, max_frames=args.max_frames, scale=args.scale,
                                       title="relu backward: ∂L/∂x = ∂L/∂out · [x > 0]",
                                       subtitle=f"{src}  ·  {note}",
                                       tour=_tour_steps(args, None, x.shape[2:]))


def _linear_backward(args, image, desc):
    lenet, why = _use_lenet(args, image, _given(args, ("pool",)))
    if lenet:
        case = _lenet(args, image, "linear")
        x, w, b = case["x"], case["weight"], case["bias"]
        src = f"input: {desc} → LeNet-5 up to {case['layer']} ({x.shape[1]} → {w.shape[0]})"
    else:
        pool = args.pool or 7
        xx = image[None, None].astype(np.float32)
        if pool > 1:
            xx, _ = ops.avg_pool2d(xx, pool)
        x, _ = ops.flatten(xx)
        if x.shape[1] > 64:
            raise ValueError(f"--pool {pool} gives {x.shape[1]} features, expected at most 64")
        if args.out_features > 32:
            raise ValueError(f"--out-features {args.out_features}: expected at most 32")
        rng = np.random.default_rng(args.seed)
        w = rng.normal(0, 1 / np.sqrt(x.shape[1]), (args.out_features, x.shape[1]))
        w = w.astype(np.float32)
        b = rng.normal(0, 0.1, args.out_features).astype(np.float32)
        src = f"input: flatten(avg_pool2d({desc}, {pool}))  ·  random weights (seed {args.seed})"
    out, cache = ops.linear(x, w, b)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    tr = cache.backward_trace(dout, wrt=args.wrt)
    return render_linear_backward(tr, max_frames=args.max_frames,
                                  subtitle=f"{src}  ·  {note}")


def _training_step(args, image, desc):
    from training.step_record import digit_step
    from viz.training_step_gif import render_training_step
    label = args.label
    if label is None:
        label = _label_of(args.input) if not str(args.input).startswith("toy") else None
    if label is None or not 0 <= label < 10:
        raise ValueError(f"argument --label: {label}, expected a class 0 to 9 (a picture or "
                         "the toy input has no label of its own)")
    if not (np.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"argument --lr: {args.lr:g}, expected a positive number")
    rec = digit_step(image, label, args.lr, args.seed)
    return render_training_step(rec, subtitle=f"input: {desc}  ·  label {label}  ·  tiny net "
                                              f"seed {args.seed}, lr {args.lr:g}")


def render_backward(args, image, desc):
    """Run the op and its instrumented backward; returns a ``viz.frames.Animation``."""
    if args.op == "training-step":
        return _training_step(args, image, desc)
    if args.op in ("maxpool-backward", "avgpool-backward"):
        return _pool_backward(args, image, desc)
    if args.op.startswith("conv2d"):
        return _conv_backward(args, image, desc)
    if args.op == "relu-backward":
        return _relu_backward(args, image, desc)
    return _linear_backward(args, image, desc)


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
        g = args.groups
        if args.channels % g or filters % g:
            raise ValueError(f"--groups {g}: expected a divisor of both --channels "
                             f"{args.channels} and the {filters} filters")
        x = stack_channels(image, args.channels)[None]
        w = make_weight(names, args.channels // g, ks, args.seed)
        b = None if args.no_bias else np.full(filters, args.bias, dtype=np.float32)
        out, cache = ops.conv2d(x, w, b, args.stride, args.padding, args.dilation, groups=g)
        extra = "  ·  kernel " + ", ".join(dict.fromkeys(names)) + \
                (f" (seed {args.seed})" if "random" in names else "")
        if args.channels > 1:
            extra += "  ·  channels: image, mirrored" + (", flipped" if args.channels > 2 else "") \
                     + (", rotated" if args.channels > 3 else "")
    tr = cache.trace(sample=0)
    _check_scale(args.scale, tr.padded.shape[2:])
    mode = args.padding if isinstance(args.padding, str) else None
    return render_window(tr, args.scale, args.max_frames, subtitle=f"input: {desc}{extra}",
                         tour=_tour(args, tr), padding_mode=mode, **_titles(args))


def _titles(args):
    """The title and formula a gallery entry sets (the arithmetic section's relationships)."""
    return {"formula": getattr(args, "formula", None), "title": getattr(args, "title", None)}


def _kernel_names(args, filters=None):
    names = [t.strip() for t in args.kernel.split(",")]
    n = filters or len(names)
    if len(names) == 1:
        names = names * n
    elif len(names) != n:
        raise ValueError(f"--filters {n} but {len(names)} kernels in --kernel {args.kernel!r}, "
                         "expected one name or one per filter")
    return names


def _transposed(args, image, desc):
    c, f, g = args.channels, args.filters, args.groups
    if max(c, f) > MAX_CHANNELS:
        raise ValueError(f"--channels {c}, --filters {f}: expected 1 to {MAX_CHANNELS} each")
    if c % g or f % g:
        raise ValueError(f"--groups {g}: expected a divisor of both --channels {c} and "
                         f"--filters {f}")
    ks = args.kernel_size if isinstance(args.kernel_size, tuple) else (args.kernel_size,) * 2
    x = stack_channels(image, c)[None]
    w = make_weight([args.kernel] * c, f // g, ks, args.seed)      # (C_in, C_out/g, kh, kw)
    b = None if args.bias is None else np.full(f, args.bias, dtype=np.float32)
    _, cache = ops.conv_transpose2d(x, w, b, args.stride, args.padding, args.output_padding, g,
                                    args.dilation)
    tr = cache.trace(view=args.view)
    tour = None if args.tour is None else transpose_steps(tr, parse_tour(args.tour))
    seed = f" (seed {args.seed})" if args.kernel in ("random", "ints") else ""
    return render_transpose(tr, x, w, args.max_frames, tour=tour, counts=args.counts,
                            subtitle=f"input: {desc}  ·  kernel {args.kernel}{seed}  ·  "
                                     f"{args.view} view", **_titles(args))


def _signal(args, image, desc):
    c = args.channels
    h = image.shape[0]
    row = h // 2 if args.row is None else args.row
    if c > MAX_CHANNELS:
        raise ValueError(f"--channels {c}: expected 1 to {MAX_CHANNELS}")
    if not 0 <= row <= h - c:
        raise ValueError(f"--row {row}: the image has {h} rows, expected 0 to {h - c} "
                         f"for {c} channel(s)")
    x = np.ascontiguousarray(image[row:row + c])[None]             # (1, C, L)
    rows = f"row {row}" if c == 1 else f"rows {row}…{row + c - 1}"
    sub = f"signal: {rows} of {desc}"
    lead = 0
    if args.op == "conv1d":
        names = _kernel_names(args, args.filters)
        bad = [n for n in names if n not in KERNELS_1D]
        if bad:
            raise ValueError(f"--kernel {bad[0]}: expected one of {', '.join(KERNELS_1D)} for "
                             "a 1-D kernel")
        if len(names) > MAX_CHANNELS:
            raise ValueError(f"--filters {len(names)}: expected 1 to {MAX_CHANNELS}")
        w = make_weight(names, c, (1, args.kernel_size), args.seed)[:, :, 0]
        b = None if args.bias is None else np.full(len(names), args.bias, dtype=np.float32)
        pad = args.padding
        if pad == "causal":                 # left-only zeros: prepended, drawn as padding
            lead = args.dilation * (args.kernel_size - 1)
            x = np.concatenate([np.zeros((1, c, lead), x.dtype), x], axis=2)
            pad = 0
        _, cache = ops.conv1d(x, w, b, args.stride, pad, args.dilation)
        sub += f"  ·  kernel {', '.join(dict.fromkeys(names))}"
    elif args.op == "maxpool1d":
        _, cache = ops.max_pool1d(x, args.kernel_size, args.stride, args.padding, args.dilation)
    else:
        _, cache = ops.avg_pool1d(x, args.kernel_size, args.stride, args.padding)
    tr = cache.trace(sample=0)
    tour = None if args.tour is None else steps_of1d(tr, _cells1d(args.tour))
    return render_signal(tr, args.max_frames, subtitle=sub, tour=tour, lead=lead,
                         **_titles(args))


def _cells1d(words):
    text = " ".join(words).strip()
    if text.lower() == "none":
        return []
    try:
        return [tuple(int(t) for t in tok.split(",")) for tok in text.split()]
    except ValueError:
        raise ValueError(f"--tour {text!r}: expected I or F,I with integers, or 'none'") from None


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
    if args.op in BACKWARD_OPS:
        return render_backward(args, image, desc)
    if args.op in ("maxpool", "avgpool", "conv2d"):
        return _window(args, image, desc)
    if args.op == "conv_transpose2d":
        return _transposed(args, image, desc)
    if args.op in ("conv1d", "maxpool1d", "avgpool1d"):
        return _signal(args, image, desc)
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
        if v is None:                          # the renderer's own pace
            continue
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
    problem = output_problem(out)
    if problem:
        parser.error(f"argument --out: {problem}")


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
    if frame_ms is None and anim.phases:      # no --frame-ms: a pace that suits the trace
        frame_ms = sweep_pace(anim.phases)
    durations = anim.durations(frame_ms, args.hold)
    try:
        write_gif(out, anim.frames, durations, use_gifsicle=not args.no_gifsicle)
    except OSError as e:                       # the atomic writer left nothing behind
        parser.fail(f"argument --out: cannot write {str(out)!r} ({e.strerror or e})")
    seconds = time.perf_counter() - t0
    tour = anim.tour_frames()
    return {"path": out, "frames": len(anim), "play_s": sum(durations) / 1000,
            "bytes": out.stat().st_size, "render_s": seconds, "tour_frames": len(tour),
            "tour_s": sum(durations[i] for i in tour) / 1000}


ARITH_DIR = "arithmetic"


def gallery():
    """Every GIF ``make_gif.py all`` renders: ``(name, path relative to the gallery folder,
    arguments, relationship or None)``, the main gallery first, then the arithmetic section."""
    return ([(n, f"{n}.gif", a, None) for n, a in GALLERY.items()] +
            [(n, f"{ARITH_DIR}/{n}.gif", a, r) for n, (a, r) in ARITHMETIC.items()])


def gallery_args(parser, argv, out, relation=None, no_gifsicle=False):
    """Parsed arguments of one gallery entry writing to ``out``; an arithmetic entry gets the
    guide's relationship as its formula line and the renderer's own pace."""
    a = parser.parse_args(argv + ["--out", str(out)] + (["--no-gifsicle"] if no_gifsicle else []))
    if relation is not None or str(Path(out).parent.name) == ARITH_DIR:
        a.formula = relation
        a.frame_ms = None                  # the renderer's pace: small traces play slower
    return a


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
        (args.out_dir / ARITH_DIR).mkdir(exist_ok=True)
        for current, rel, argv_, relation in gallery():
            if current == next(iter(BACKWARD_GALLERY)):
                print("-- backward --")
            if rel == f"{ARITH_DIR}/{next(iter(ARITHMETIC))}.gif":
                print("-- convolution arithmetic (Dumoulin & Visin's animations, with numbers) --")
            a = gallery_args(parser, argv_, args.out_dir / rel, relation, args.no_gifsicle)
            _report(current, make(a, subs[a.op]))
        return 0
    except KeyboardInterrupt:                  # the atomic writer has removed its temporary file
        done = "" if args.op != "all" else " (the GIFs reported above are complete)"
        print(f"{parser.prog}: interrupted; {current} not written{done}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run_main(main))
