"""The options the animations share: argument types, the timing/output/input options every
subcommand has, the window geometry, and the limits they are checked against."""
import argparse
import math
from pathlib import Path

from viz import export
from viz.inputs import MAX_SIDE

MAX_CHANNELS = 4
MAX_LOGITS = 20
MAX_PANEL_PX = 512      # longest side of the drawn input map: --scale 100 once took 3.7 GB
MAX_DELAY_MS = 655350   # a GIF stores each delay as a 16-bit count of centiseconds


# -- argument types ------------------------------------------------------------------------
def pair(text, minimum=0):
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


def positive_pair(text):
    return pair(text, minimum=1)


def positive(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} is not a positive integer")
    return v


def floats(text):
    try:
        return [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers") from None


def logits(text):
    """2 to MAX_LOGITS finite numbers that float32 holds, differences included."""
    z = floats(text)
    for t, v in zip(text.split(","), z):
        if not math.isfinite(v) or abs(v) > 1e38:
            raise argparse.ArgumentTypeError(f"{t.strip()!r} is not a finite number with "
                                             "|z| <= 1e38 (logits are float32)")
    if not 2 <= len(z) <= MAX_LOGITS:
        raise argparse.ArgumentTypeError(f"{len(z)} logit{'s' * (len(z) != 1)} given, expected "
                                         f"2 to {MAX_LOGITS}")
    return z


def padding_mode(text):
    """conv2d's padding: 'same', 'valid', or P / 'PH,PW'."""
    if text in ("same", "valid"):
        return text
    try:
        return pair(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'same', 'valid', an integer or "
                                         "a pair 'H,W' of integers >= 0") from None


def padding_causal(text):
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


def pair2(v):
    return v if isinstance(v, tuple) else (v, v)


# -- option groups -------------------------------------------------------------------------
def common(p, op, frame_ms, hold_ms=None, image=True, input_default="default"):
    """--input/--invert (``image``), --frame-ms/--fps, --hold, --out, --format, --steps,
    --no-gifsicle."""
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
                   help="delay of each sweep frame in ms (a multiple of 10, at least 20)" +
                        ("" if frame_ms else " (default: the sweep lasts about 6 s, at most "
                                             "40%% of the play time; a tour frame always "
                                             "stays 250 ms per number it newly shows)"))
    t.add_argument("--fps", type=float, default=None,
                   help="frames per second instead of --frame-ms (rounded to 10 ms delays; at "
                        "most 50)")
    p.add_argument("--hold", type=int, default=hold_ms, metavar="MS",
                   help="how long the last frame stays, in ms (multiple of 10, at least 20; "
                        "default 2500)" if hold_ms is None else
                        "how long the last frame stays, in ms (multiple of 10, at least 20)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"output file, or folder for png (default: gifs/{op}.gif in the "
                        "repository, .html/.mp4/.webp or _frames/ for the other formats; with "
                        "--weights, NET_LAYER_filterF.gif beside the weights)")
    p.add_argument("--format", choices=export.FORMATS, default=None,
                   help="gif; html (a self-contained step-through player); mp4 (H.264 for "
                        "slides, needs pip install -e '.[video]'); webp (animated, lossless); "
                        "png (one still per frame into a folder) (default: from --out's "
                        "extension, else gif)")
    p.add_argument("--steps", choices=export.STEPS, default="all",
                   help="with --format png: every frame, or only the tour and the hold")
    p.add_argument("--no-gifsicle", action="store_true",
                   help="skip the gifsicle -O3 pass (it only runs when gifsicle is installed)")


def frames_opts(p, scale=True):
    """--scale (``scale``) and --max-frames."""
    if scale:
        p.add_argument("--scale", type=positive, default=None,
                       help="screen pixels per input pixel, up to an input map of "
                            f"{MAX_PANEL_PX} px (default: about 240 px per input map)")
    p.add_argument("--max-frames", type=int, default=200,
                   help="most frames in all: the tour, then an even sweep over the steps "
                        "(every step when they fit), then the complete output")


def tour_opt(p):
    """--tour of a 2-D output map."""
    p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                   help="output cells to show slowly first, 'R,C' or 'F,R,C' separated by "
                        "spaces (e.g. '4,9 7,7'), or 'none'; default: 3 or 4 informative "
                        "windows chosen from the values (largest output, a stroke edge, a tie, "
                        "the padding)")


def geometry(p, dilation=True, stride_default=None, padding_default=0, kernel_default=2,
             padding_type=pair, padding_help="padding on each side, P or 'PH,PW'",
             stride_help="step between windows, S or 'SH,SW'"):
    """--kernel-size, --stride, --padding and (``dilation``) --dilation of a 2-D window."""
    p.add_argument("--kernel-size", type=positive_pair, default=kernel_default, metavar="K",
                   help="window size, K or 'KH,KW'")
    p.add_argument("--stride", type=positive_pair, default=stride_default, metavar="S",
                   help=stride_help +
                        (" (default: the kernel size)" if stride_default is None else ""))
    p.add_argument("--padding", type=padding_type, default=padding_default, metavar="P",
                   help=padding_help)
    if dilation:
        p.add_argument("--dilation", type=positive_pair, default=1, metavar="D",
                       help="spacing between the sampled cells, D or 'DH,DW'")


# -- checks the builders share -------------------------------------------------------------
def check_scale(scale, hw):
    """Refuse a --scale that would draw the (padded) input map beyond MAX_PANEL_PX."""
    if scale is not None and max(hw) * scale > MAX_PANEL_PX:
        raise ValueError(f"argument --scale: {scale} draws this {hw[0]}×{hw[1]} input map "
                         f"{max(hw) * scale} px wide, expected at most {MAX_PANEL_PX} px "
                         f"(--scale {max(1, MAX_PANEL_PX // max(hw))} or less)")


def titles(args):
    """The title and formula a gallery entry sets (the arithmetic section's relationships)."""
    return {"formula": getattr(args, "formula", None), "title": getattr(args, "title", None)}


def kernel_names(args, filters=None):
    """--kernel 'a,b' -> one name per filter (one name serves every filter)."""
    names = [t.strip() for t in args.kernel.split(",")]
    n = filters or len(names)
    if len(names) == 1:
        names = names * n
    elif len(names) != n:
        raise ValueError(f"--filters {n} but {len(names)} kernels in --kernel {args.kernel!r}, "
                         "expected one name or one per filter")
    return names
