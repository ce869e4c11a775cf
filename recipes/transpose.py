"""conv_transpose2d: stamps adding up in the output (scatter) or a window over the
zero-inserted input (direct), ``viz.transpose_gif``."""
import numpy as np

import ops
from viz.inputs import stack_channels
from viz.kernels import NAMES as KERNELS, make_weight
from viz.transpose_gif import render_transpose, transpose_steps

from .options import MAX_CHANNELS, common, frames_opts, geometry, pair, positive, titles
from .registry import register
from .tour import resolve_tour


def _options(p, paths):
    geometry(p, stride_default=2, padding_default=0, kernel_default=3,
             stride_help="spacing of the stamps in the output (torch's default is 1; 2 shows "
                         "the inserted zeros), S or 'SH,SW'",
             padding_help="rows/cols cropped from each side of the output, P or 'PH,PW' "
                          "(the padding of the convolution this transposes)")
    p.add_argument("--output-padding", type=pair, default=0, metavar="A",
                   help="extra output rows/cols at the bottom/right, A or 'AH,AW' (smaller "
                        "than stride or dilation)")
    p.add_argument("--view", choices=("scatter", "direct"), default="scatter",
                   help="scatter: stamps adding up in the output; direct: the window over the "
                        "zero-inserted, padded input")
    p.add_argument("--kernel", default="guide",
                   help=f"kernel name, one of {', '.join(KERNELS)} (the named 3×3 kernels "
                        "need --kernel-size 3)")
    p.add_argument("--channels", type=positive, default=1, help="input channels (1-4)")
    p.add_argument("--filters", type=positive, default=1, help="output channels (1-4)")
    p.add_argument("--groups", type=positive, default=1, help="groups, dividing both")
    p.add_argument("--bias", type=float, default=None, help="bias of every output channel "
                   "(default: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the 'random' and 'ints' kernels")
    p.add_argument("--counts", action="store_true",
                   help="scatter view: also show how many stamps each output cell receives "
                        "(uneven counts make checkerboard artefacts)")
    frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                   help="cells to show slowly first, 'R,C' or 'CH,R,C': input cells (scatter) "
                        "or output cells (direct); or 'none'")
    common(p, "conv_transpose2d", None, input_default="toy:6:3")   # no zero row


@register("conv_transpose2d", "conv_transpose2d: each input cell stamps cell × kernel into "
                              "the output (scatter), or the same as a convolution of the "
                              "zero-inserted, padded input (direct)", _options)
def transposed(args, source):
    image, desc = source.image, source.description
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
    tour = resolve_tour(args.tour, steps=lambda cells: transpose_steps(tr, cells))
    seed = f" (seed {args.seed})" if args.kernel in ("random", "ints") else ""
    return render_transpose(tr, x, w, args.max_frames, tour=tour, counts=args.counts,
                            subtitle=f"input: {desc}  ·  kernel {args.kernel}{seed}  ·  "
                                     f"{args.view} view", **titles(args))
