"""chain-rule: the chain rule along one path of a trained network, from the loss back to one
weight of its first layer or one input pixel (``training.chain``, ``viz.chain_gif``)."""
from pathlib import Path

import numpy as np

from training.chain import chain_rule, strongest_target
from viz.chain_gif import PACE_MS, render_chain

from .options import common, titles
from .registry import register
from .window import NPZ_ERRORS, npz_error


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
    p.add_argument("--weights", dest="model", type=Path, default=paths.lenet, metavar="PATH",
                   help="the trained network: a weights.npz or checkpoint.npz written by "
                        "train.py, or an .npz of bare arrays named as our layers (c1.weight, "
                        "..., out.bias: a LeNet-5 trained elsewhere, see docs/gifs.md) "
                        "(default: models/lenet5.npz)")
    p.add_argument("--label", type=int, default=None,
                   help="the class the loss is taken against (default: the test image's "
                        "label, else the predicted class)")
    common(p, "chain_rule", PACE_MS, hold_ms=6000)


@register("chain-rule", "the chain rule along one path: from the loss back through softmax, "
                        "every layer and activation to one C1 weight or input pixel, each "
                        "link's local derivative, the running product, then the sum over all "
                        "paths = the backward pass's gradient", _options, section="training")
def chain(args, source):
    from training.foreign import load_any
    from training.features import prepare_unit_image

    try:
        model, config = load_any(str(args.model), dtype=np.float64)
    except NPZ_ERRORS as e:
        raise ValueError(f"argument --weights: {npz_error(args.model, e)}") from None
    image = source.image
    if image.shape != (28, 28):
        raise ValueError(f"--input {args.input!r}: the image is {image.shape[0]}×"
                         f"{image.shape[1]}, expected 28×28 for a trained network")
    # float64 all the way: the sum over all paths meets the backward pass to ~1e-20
    x = prepare_unit_image(image, config.normalize).astype(np.float64)
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
