"""What the views of a whole trained network share: the ``--weights`` option and the digit as
the network sees it (one home for receptive-field, network and chain-rule)."""
from pathlib import Path

from .window import NPZ_ERRORS, npz_error


def weights_option(p, paths):
    """``--weights PATH``: a run's network, or a LeNet-5 trained elsewhere (bare arrays)."""
    p.add_argument("--weights", dest="model", type=Path, default=paths.lenet, metavar="PATH",
                   help="the trained network: a weights.npz or checkpoint.npz written by "
                        "train.py, or an .npz of bare arrays named as our layers (c1.weight, "
                        "..., out.bias: a LeNet-5 trained elsewhere, see docs/gifs.md) "
                        "(default: models/lenet5.npz)")


def trained_input(args, source, dtype=None):
    """``(model, config, x)``: the network of ``--weights`` and the ``--input`` digit
    normalised as in its training, (1, 1, 28, 28); ``dtype`` casts both (float64 views).

    Raises
    ------
    ValueError
        One line naming --weights (a missing, damaged or foreign file) or --input (not 28×28).
    """
    from training.features import prepare_unit_image
    from training.foreign import load_any

    try:
        model, config = load_any(str(args.model), **({} if dtype is None else {"dtype": dtype}))
    except NPZ_ERRORS as e:
        raise ValueError(f"argument --weights: {npz_error(args.model, e)}") from None
    image = source.image
    if image.shape != (28, 28):
        raise ValueError(f"--input {args.input!r}: the image is {image.shape[0]}×"
                         f"{image.shape[1]}, expected 28×28 for a trained network")
    x = prepare_unit_image(image, config.normalize)
    return model, config, (x if dtype is None else x.astype(dtype))
