"""receptive-field: the input pixels that can reach one unit of a trained network, layer by
layer, and its effective field ∂unit/∂x from the backward pass (``training.receptive``,
``viz.field_gif``)."""
from pathlib import Path

import numpy as np

from training.receptive import PAPER, receptive_field, strongest_unit
from viz.field_gif import PACE_MS, render_field

from .options import common, titles
from .registry import register
from .trained import trained_input, weights_option


def _options(p, paths):
    p.add_argument("--layer", default=None,
                   help="the layer of the unit: c1, s2, c3, s4 or c5 (LeNet-5's names in the "
                        "paper; C5 is our first fully connected layer, f5), or any layer name "
                        "of the network (default: c3, else its last pooling or conv layer)")
    p.add_argument("--unit", default=None, metavar="F,R,C",
                   help="the unit: channel, row, col of the layer's map (C5: its index); "
                        "default: the unit the digit drives hardest")
    weights_option(p, paths)
    common(p, "receptive_field", PACE_MS, hold_ms=6000)


def _layer(model, name):
    """--layer -> the child name: the paper's LeNet-5 names, or the network's own."""
    names = list(model.children)
    if name is None:
        if "c3" in names:
            return "c3"
        from nn import Conv2d, MaxPool2d, AvgPool2d
        return [n for n in names if isinstance(model.children[n],
                                               (Conv2d, MaxPool2d, AvgPool2d))][-1]
    if name in PAPER and PAPER[name] in names:
        return PAPER[name]
    if name in names:
        return name
    raise ValueError(f"--layer {name!r}: expected one of {', '.join(names)} (or c1, s2, c3, "
                     "s4, c5 on a LeNet-5)")


@register("receptive-field", "receptive field of one unit of LeNet-5 (C1, S2, C3, S4 or C5): "
                             "the input pixels that can reach it, layer by layer with the "
                             "size formula, and its effective field ∂unit/∂x from the "
                             "backward pass", _options)
def field(args, source):
    model, config, x = trained_input(args, source, np.float64)
    layer = _layer(model, args.layer)
    if args.unit is None:
        unit = strongest_unit(model, x, layer)
    else:
        try:
            unit = tuple(int(t) for t in args.unit.split(","))
        except ValueError:
            raise ValueError(f"--unit {args.unit!r}: expected integers separated by commas "
                             "(F,R,C; C5: one index)") from None
    rf = receptive_field(model, x, layer, unit)
    paper = args.layer or "c3"
    sub = (f"input: {source.description}, normalised  ·  {Path(args.model).name} "
           f"({config.net})" + (f"  ·  {paper.upper()} is our {layer}"
                                if paper in PAPER and paper != layer else ""))
    return render_field(rf, subtitle=sub, **titles(args))
