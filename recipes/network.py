"""network: one digit through a trained network, stage by stage, a zoom into one cell of
each stage, then the class scores (``training.network``, ``viz.network_gif``)."""
from pathlib import Path

from training.network import network_stages
from viz.network_gif import PACE_MS, render_network

from .options import common, titles
from .registry import register
from .window import NPZ_ERRORS, npz_error


def _options(p, paths):
    p.add_argument("--weights", dest="model", type=Path, default=paths.lenet, metavar="PATH",
                   help="the trained network: a weights.npz or checkpoint.npz written by "
                        "train.py, or an .npz of bare arrays named as our layers (c1.weight, "
                        "..., out.bias: a LeNet-5 trained elsewhere, see docs/gifs.md) "
                        "(default: models/lenet5.npz)")
    common(p, "network", PACE_MS, hold_ms=6000)


@register("network", "one digit through the network: its feature maps appear layer by layer, "
                     "then a zoom into one cell of each layer, then the class scores",
          _options)
def network(args, source):
    from training.foreign import load_any
    from training.features import prepare_unit_image

    try:
        model, config = load_any(str(args.model))
    except NPZ_ERRORS as e:
        raise ValueError(f"argument --weights: {npz_error(args.model, e)}") from None
    image = source.image
    if image.shape != (28, 28):
        raise ValueError(f"--input {args.input!r}: the image is {image.shape[0]}×"
                         f"{image.shape[1]}, expected 28×28 for a trained network")
    x = prepare_unit_image(image, config.normalize)
    stages, probs = network_stages(model, x)
    sub = (f"input: {source.description}, normalised  ·  {Path(args.model).name} "
           f"({config.net})")
    return render_network(x[0, 0], stages, probs, subtitle=sub, label=source.label,
                          **titles(args))
