"""maxpool, avgpool, conv2d: a window sliding over a 2-D map (``viz.window_gif``), and
conv2d with a trained network's filter (``--weights``)."""
from pathlib import Path

import numpy as np

import ops
from training.checkpoint import CheckpointError
from training.rundir import output_dir
from viz.inputs import stack_channels
from viz.kernels import NAMES as KERNELS, make_weight
from viz.tour import steps_of
from viz.window_gif import render_window

from .options import (check_scale, common, frames_opts, geometry, kernel_names, padding_mode,
                      positive, titles, tour_opt)
from .registry import register
from .tour import resolve_tour

LEARNED_LAYERS = ("conv1", "conv2")
# options that --weights replaces by the trained layer's own
HAND_MADE = ("kernel", "channels", "filters", "bias", "seed", "kernel_size", "stride", "padding",
             "dilation", "groups", "no_bias")
# What a damaged .npz raises today (zip, npy and key errors); training.checkpoint is to
# raise one error type for all of them, and then this tuple can shrink to it.
NPZ_ERRORS = (CheckpointError, OSError)   # a damaged or foreign .npz; an unreadable file


def _maxpool_options(p, paths):
    geometry(p)
    frames_opts(p)
    tour_opt(p)
    common(p, "maxpool", None)


def _avgpool_options(p, paths):
    geometry(p, dilation=False)
    frames_opts(p)
    tour_opt(p)
    common(p, "avgpool", None)


def _conv2d_options(p, paths):
    geometry(p, stride_default=1, padding_default=1, kernel_default=3, padding_type=padding_mode,
             padding_help="padding on each side, P or 'PH,PW', or 'same' (output as big as "
                          "the input, stride 1; an odd remainder goes bottom/right, as in "
                          "torch) or 'valid' (none)")
    p.add_argument("--kernel", default="sobel-x",
                   help=f"kernel name, or one per filter separated by commas; names: "
                        f"{', '.join(KERNELS)} (the named 3×3 kernels need --kernel-size 3)")
    p.add_argument("--channels", type=positive, default=1,
                   help="input channels (1-4): the image, then its mirror image, the image "
                        "upside down and rotated by 180°")
    p.add_argument("--filters", type=positive, default=None,
                   help="output channels (default: the number of --kernel names; with one name "
                        "every filter uses it, 'random' drawing new weights for each)")
    p.add_argument("--bias", type=float, default=0.0, help="bias of every filter")
    p.add_argument("--no-bias", action="store_true", help="no bias at all (bias=None)")
    p.add_argument("--groups", type=positive, default=1,
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
    frames_opts(p)
    tour_opt(p)
    common(p, "conv2d", None)


def window(args, source):
    image, desc = source.image, source.description
    if getattr(args, "weights", None) is not None:
        return _learned(args, image, desc)
    x = image[None, None]
    extra = ""
    if args.op == "maxpool":
        out, cache = ops.max_pool2d(x, args.kernel_size, args.stride, args.padding, args.dilation)
    elif args.op == "avgpool":
        out, cache = ops.avg_pool2d(x, args.kernel_size, args.stride, args.padding)
    else:
        names = kernel_names(args, args.filters)
        filters = len(names)
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
    check_scale(args.scale, tr.padded.shape[2:])
    mode = args.padding if isinstance(args.padding, str) else None
    return render_window(tr, args.scale, args.max_frames, subtitle=f"input: {desc}{extra}",
                         tour=resolve_tour(args.tour, steps=lambda c: steps_of(tr, c)),
                         padding_mode=mode, **titles(args))


for _name, _help, _options in (
        ("maxpool", "max_pool2d: the max of each window (pads with -inf)", _maxpool_options),
        ("avgpool", "avg_pool2d: the mean of each window (zero padding counted)",
         _avgpool_options),
        ("conv2d", "conv2d: sum of window × kernel over all input channels, plus bias",
         _conv2d_options)):
    register(_name, _help, _options)(window)


# -- a trained filter (--weights) ----------------------------------------------------------
def npz_error(path, e):
    """One line for an unreadable weights file, whatever the loader raised."""
    text = str(e).strip() or type(e).__name__
    if str(path) not in text:
        text = f"{path}: {text}"
    if "expected" not in text:
        text += " (expected a weights.npz or checkpoint.npz written by train.py)"
    return f"cannot read {text}"


def learned_checks(args, parser):
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
        parser.error(f"argument --weights: {npz_error(args.weights, e)}")
    return (output_dir(args.weights.parent, args.weights.stem)
            / f"{net}_{args.layer}_filter{args.filter}.gif")


def _learned(args, image, desc):
    """A trained filter over its real input: conv1 on the normalised digit, conv2 on the
    pooled conv1 feature maps, both computed by the model's own layers."""
    from training import load_model
    from training.features import conv_filter_input, prepare_unit_image

    try:
        model, config = load_model(str(args.weights))
    except NPZ_ERRORS as e:
        raise ValueError(f"argument --weights: {npz_error(args.weights, e)}") from None
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
    check_scale(args.scale, tr.padded.shape[2:])
    shape = (f["filters"],) + tr.weight.shape[1:]
    label = f"w[{args.filter}] of {args.layer} ({'×'.join(map(str, shape))})"
    return render_window(tr, args.scale, args.max_frames, subtitle=sub,
                         tour=resolve_tour(args.tour, steps=lambda c: steps_of(tr, c)),
                         weight_label=lambda _: label)
