"""im2col: conv2d as one matrix product W · P, and conv_transpose2d as the transposed matrix
Cᵀ of the convolution (``viz.matrix_gif``, the matrices from ``ops.matrix``)."""
import numpy as np

import ops
from ops.matrix import conv_patches, transpose_matrix
from viz.inputs import load_image, stack_channels
from viz.kernels import NAMES as KERNELS, make_weight
from viz.matrix_gif import render_patches, render_transposed

from .options import (MAX_CHANNELS, common, frames_opts, geometry, kernel_names, padding_mode,
                      pair, positive, titles)
from .registry import register
from .tour import resolve_tour

INPUTS = {"patches": "toy:0:5", "transposed": "toy:0:2"}    # the guide's sizes


def _options(p, paths):
    p.add_argument("--view", choices=("patches", "transposed"), default="patches",
                   help="patches: conv2d's windows unfolded into the patch matrix P, then "
                        "Y = W·P; transposed: the convolution as a matrix C (one row per output "
                        "cell) and conv_transpose2d as Cᵀ times its flattened input")
    geometry(p, stride_default=1, padding_default=0, kernel_default=3, padding_type=padding_mode,
             padding_help="padding on each side, P or 'PH,PW', or 'same' / 'valid' (patches "
                          "view); the transposed view crops it from the output")
    p.add_argument("--output-padding", type=pair, default=0, metavar="A",
                   help="transposed view: extra output rows/cols at the bottom/right")
    p.add_argument("--kernel", default="guide",
                   help=f"kernel name, or one per filter separated by commas; names: "
                        f"{', '.join(KERNELS)} (the named 3×3 kernels need --kernel-size 3)")
    p.add_argument("--channels", type=positive, default=1, help="input channels (1-4)")
    p.add_argument("--filters", type=positive, default=None,
                   help="output channels (default: the number of --kernel names)")
    p.add_argument("--groups", type=positive, default=1, help="groups, dividing both")
    p.add_argument("--bias", type=float, default=None,
                   help="bias of every filter (default: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the 'random' and 'ints' kernels")
    frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                   help="output cells worked out slowly, 'R,C' or 'F,R,C', or 'none'")
    common(p, "im2col", None, hold_ms=4000, image=True, input_default=None)


def _check(c, f, g):
    if max(c, f) > MAX_CHANNELS:
        raise ValueError(f"--channels {c}, --filters {f}: expected 1 to {MAX_CHANNELS} each")
    if c % g or f % g:
        raise ValueError(f"--groups {g}: expected a divisor of both --channels {c} and the "
                         f"{f} filters")


@register("im2col", "conv2d as one matrix product: the windows unfolded into the columns of "
                    "the patch matrix P, Y = W·P; --view transposed: the convolution's matrix C "
                    "and conv_transpose2d as Cᵀ", _options, image=False)
def im2col(args, source):
    src = load_image(args.input or INPUTS[args.view], invert=args.invert)
    image, desc = src.image, src.description
    # the transposed view reads one kernel per input channel: one name serves them all
    names = kernel_names(args, args.filters or (args.channels if args.view == "transposed"
                                                else None))
    c, f, g = args.channels, len(names), args.groups
    _check(c, f, g)
    ks = args.kernel_size if isinstance(args.kernel_size, tuple) else (args.kernel_size,) * 2
    x = stack_channels(image, c)[None]
    seed = f" (seed {args.seed})" if any(n in ("random", "ints") for n in names) else ""
    kern = "kernel " + ", ".join(dict.fromkeys(names)) + seed
    if args.view == "patches":
        w = make_weight(names, c // g, ks, args.seed)
        b = None if args.bias is None else np.full(f, args.bias, dtype=np.float32)
        _, cache = ops.conv2d(x, w, b, args.stride, args.padding, args.dilation, groups=g)
        return render_patches(conv_patches(cache, 0), args.max_frames,
                              subtitle=f"input: {desc}  ·  {kern}",
                              tour=resolve_tour(args.tour), **titles(args))
    if isinstance(args.padding, str):
        raise ValueError(f"--padding {args.padding}: the transposed view takes P or 'PH,PW'")
    # conv_transpose2d's weight is (C_in, C_out/groups, kh, kw): the input's channels are
    # the filters of the convolution it transposes
    w = make_weight(names, c // g, ks, args.seed) if f == c else None
    if w is None:
        raise ValueError(f"--view transposed: --channels {c} and {f} kernel(s); the transposed "
                         "view reads one kernel per input channel (give as many names)")
    b = None if args.bias is None else np.full(c // g * g, args.bias, dtype=np.float32)
    out, cache = ops.conv_transpose2d(x, w, b, args.stride, args.padding, args.output_padding,
                                      g, args.dilation)
    return render_transposed(transpose_matrix(cache), x[0], out[0], b, cache.geom,
                             args.max_frames, subtitle=f"input: {desc}  ·  {kern}",
                             tour=resolve_tour(args.tour), **titles(args))
