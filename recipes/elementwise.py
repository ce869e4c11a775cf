"""relu, sigmoid, tanh: an activation element by element on a conv2d feature map, beside its
curve (``viz.elementwise_gif``)."""
import numpy as np

import ops
from viz.elementwise_gif import render_elementwise
from viz.kernels import NAMES as KERNELS, make_weight

from .options import check_scale, common, frames_opts
from .registry import register
from .tour import resolve_tour


def _options(name):
    def options(p, paths):
        p.add_argument("--kernel", default="sobel-x",
                       help=f"3×3 kernel giving the signed input map conv2d(image, kernel, "
                            f"padding=1); one of {', '.join(KERNELS)}, or 'none' for the image "
                            f"itself")
        p.add_argument("--seed", type=int, default=0, help="seed of the 'random' kernel")
        frames_opts(p)
        p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                       help="elements to show slowly first, 'R,C' separated by spaces (e.g. "
                            "'4,9 7,7'), or 'none'; default: 3 or 4 telling ones (relu: a "
                            "negative clipped, a positive passing; sigmoid/tanh: both ends, "
                            "the bend, the middle)")
        common(p, name, None)
    return options


def elementwise(args, source):
    image, desc = source.image, source.description
    if args.kernel == "none":
        x, name = image[None, None], "the image"
    else:
        w = make_weight([args.kernel], 1, (3, 3), args.seed)
        x, _ = ops.conv2d(image[None, None], w, None, 1, 1)
        name = f"conv2d(image, {args.kernel}, padding=1)"
    fn = getattr(ops, args.op)
    check_scale(args.scale, x.shape[2:])
    _, cache = fn(x)
    lo, hi = float(x.min()), float(x.max())
    xs = np.linspace(lo, hi, 256, dtype=x.dtype)
    ys, _ = fn(xs)                              # the curve, drawn by the op itself
    return render_elementwise(cache.trace(sample=0), curve=(xs, ys), scale=args.scale,
                              max_frames=args.max_frames, subtitle=f"input: {desc}",
                              input_name=name, tour=resolve_tour(args.tour))


for _name, _what in (("relu", "max(0, x)"), ("sigmoid", "1 / (1 + exp(-x))"),
                     ("tanh", "the hyperbolic tangent")):
    register(_name, f"{_name}: {_what}, element by element, on a conv2d feature map of the image",
             _options(_name))(elementwise)
