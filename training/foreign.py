"""Weights trained elsewhere: an .npz of bare arrays named as our layers name them
(``c1.weight``, ``c1.bias``, ..., ``out.bias``), e.g. written from a PyTorch state_dict::

    import numpy as np, torch
    state = torch.load("lenet.pt", map_location="cpu")      # the model's state_dict
    np.savez("lenet.npz", **{k: v.numpy() for k, v in state.items()})

Each array is checked against the network it is loaded into (LeNet-5 unless told): one clear
line names a missing, unexpected or misshapen array.
"""
from __future__ import annotations

import numpy as np

from .checkpoint import CheckpointError, load_model, load_npz
from .config import TrainConfig, build_model


def load_arrays(path: str, net: str = "lenet5", dtype=np.float32):
    """A ``net`` whose parameters are the arrays of the .npz at ``path``.

    Returns (model, config) as :func:`training.load_model`; the config is the net's default
    (inputs normalised as our runs normalise them).

    Raises
    ------
    FileNotFoundError, CheckpointError
        No such file, a damaged archive, or an array missing, unexpected or of the wrong
        shape or kind (the message names it and what was expected).
    """
    data = load_npz(path)
    config = TrainConfig(net=net).resolved()
    model = build_model(config, np.random.default_rng(0), dtype=dtype)
    own = dict(model.named_parameters())
    for name, p in own.items():
        if name not in data:
            have = sorted(data)
            raise CheckpointError(f"{path}: no array {name!r} (expected {name} of shape "
                                  f"{tuple(p.data.shape)} for a {net}; the file has "
                                  f"{', '.join(have[:4]) + (', ...' if len(have) > 4 else '') or 'no arrays'})")
        a = data[name]
        if a.shape != p.data.shape:
            raise CheckpointError(f"{path}: array {name!r} has shape {tuple(a.shape)}, "
                                  f"expected {tuple(p.data.shape)} for a {net}")
        if a.dtype.kind != "f" or not np.isfinite(a).all():
            raise CheckpointError(f"{path}: array {name!r} is not finite floats (expected "
                                  "the trained values)")
    extra = sorted(set(data) - set(own))
    if extra:
        raise CheckpointError(f"{path}: unexpected array {extra[0]!r} (expected only a "
                              f"{net}'s {', '.join(own)})")
    model.load_state_dict({k: data[k] for k in own})
    return model, config


def load_any(path: str, dtype=np.float32):
    """A network from a file train.py wrote (weights or checkpoint), or from bare arrays
    named as our layers (:func:`load_arrays`, read as a LeNet-5)."""
    data = load_npz(path)
    if "meta/config" in data:
        return load_model(path, dtype=dtype)
    return load_arrays(path, dtype=dtype)
