"""conv1d, maxpool1d, avgpool1d: a window sliding along a signal, a row of the input image
(``viz.signal_gif``)."""
import numpy as np

import ops
from viz.signal_gif import render_signal, steps_of1d
from viz.kernels import make_weight

from .options import (MAX_CHANNELS, common, frames_opts, kernel_names, padding_causal,
                      positive, titles)
from .registry import register
from .tour import parse_cells1d, resolve_tour

KERNELS_1D = ("ints", "ones", "blur", "random")   # the named 3×3 kernels have no 1-D form


def _options(name):
    def options(p, paths):
        if name == "conv1d":
            p.add_argument("--kernel-size", type=positive, default=3, metavar="K")
            p.add_argument("--stride", type=positive, default=1, metavar="S")
            p.add_argument("--padding", type=padding_causal, default=0, metavar="P",
                           help="zeros on each side, or 'causal': dilation·(K − 1) zeros on "
                                "the left only, prepended to the signal (out[t] reads x up "
                                "to t)")
        else:
            p.add_argument("--kernel-size", type=positive, default=2, metavar="K")
            p.add_argument("--stride", type=positive, default=None, metavar="S",
                           help="step between windows (default: the kernel size)")
            p.add_argument("--padding", type=int, default=0, metavar="P",
                           help="padding on each side (at most half the kernel)")
        if name != "avgpool1d":
            p.add_argument("--dilation", type=positive, default=1, metavar="D")
        p.add_argument("--row", type=int, default=None,
                       help="which image row is the signal (default: the middle row)")
        p.add_argument("--channels", type=positive, default=1,
                       help="input channels (1-4): rows ROW, ROW+1, …")
        if name == "conv1d":
            p.add_argument("--kernel", default="ints",
                           help=f"kernel name, or one per filter: {', '.join(KERNELS_1D)}")
            p.add_argument("--filters", type=positive, default=None,
                           help="output channels (default: the number of --kernel names)")
            p.add_argument("--bias", type=float, default=None,
                           help="bias of every filter (default: none)")
            p.add_argument("--seed", type=int, default=0, help="seed of 'ints' and 'random'")
        frames_opts(p, scale=False)
        p.add_argument("--tour", default=None, nargs="+", metavar="CELL",
                       help="output cells to show slowly first, 'I' or 'F,I', or 'none'")
        common(p, name, None, input_default="toy:0:12")
    return options


def signal(args, source):
    image, desc = source.image, source.description
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
        names = kernel_names(args, args.filters)
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
    tour = resolve_tour(args.tour, parse=parse_cells1d, steps=lambda cells: steps_of1d(tr, cells))
    return render_signal(tr, args.max_frames, subtitle=sub, tour=tour, lead=lead,
                         **titles(args))


for _name, _op, _what in (("conv1d", "conv1d", "sum of window × kernel over the channels"),
                          ("maxpool1d", "max_pool1d", "the max of each window"),
                          ("avgpool1d", "avg_pool1d", "the mean of each window")):
    register(_name, f"{_op}: {_what}, sliding along a signal (a row of the --input image)",
             _options(_name))(signal)
