"""chain-rule: the chain rule along one path of a trained network, from the loss back to one
weight of its first layer or one input pixel (``training.chain``, ``viz.chain_gif``)."""
from pathlib import Path

import numpy as np

from training.chain import chain_rule, strongest_target
from viz.chain_gif import PACE_MS, render_chain

from .options import common, titles
from .registry import register
from .trained import trained_input, weights_option


def _cell(text, n, what):
    try:
        v = tuple(int(t) for t in text.split(","))
    except ValueError:
        v = ()
    if len(v) != n or min(v) < 0:
        raise ValueError(f"{what} {text!r}: expected {n} integers >= 0 separated by commas")
    return v


def _options(p, paths):
    t = p.add_mutually_exclusive_group()
    t.add_argument("--weight", default=None, metavar="F,C,A,B",
                   help="the first layer's weight to reach (LeNet-5: c1.weight[F, C, A, B]); "
                        "default: the one with the largest |∂L/∂w|")
    t.add_argument("--pixel", default=None, metavar="R,C",
                   help="reach input pixel x[R, C] instead of a weight")
    weights_option(p, paths)
    p.add_argument("--label", type=int, default=None,
                   help="the class the loss is taken against (default: the test image's "
                        "label, else the predicted class)")
    common(p, "chain_rule", PACE_MS, hold_ms=6000)


@register("chain-rule", "the chain rule along one path: from the loss back through softmax, "
                        "every layer and activation to one C1 weight or input pixel, each "
                        "link's local derivative, the running product, then the sum over all "
                        "paths = the backward pass's gradient", _options, section="training")
def chain(args, source):
    model, config, x = trained_input(args, source, np.float64)   # the paths meet backward to ~1e-20
    label = args.label if args.label is not None else source.label
    if label is None:
        label = int(np.argmax(model.forward(x)[0]))
    if not 0 <= label < 10:
        raise ValueError(f"--label {label}: expected a class 0 to 9")
    if args.pixel is not None:
        target = ("pixel", _cell(args.pixel, 2, "--pixel"))
    elif args.weight is not None:
        target = ("weight", _cell(args.weight, 4, "--weight"))
    else:
        target = ("weight", strongest_target(model, x, label, "weight"))
    tr = chain_rule(model, x, label, target)
    sub = (f"input: {source.description}  ·  label {label}  ·  {Path(args.model).name} "
           f"({config.net}, float64)")
    return render_chain(tr, subtitle=sub, **titles(args))
