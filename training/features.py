"""What a trained network computes on one input: every layer's activations, and the input
and kernel of one of its conv filters, read by running the model's own layers.

Nothing is recomputed here: each activation is ``layer.forward`` of the model (which calls
the ``ops`` functions); the pictures are drawn by ``viz``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ops
from nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sigmoid, Tanh

from .data import prepare_images

CONV_NAMES = ("conv1", "conv2")     # --layer choices: the model's first and second Conv2d


def layer_activations(model, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Run ``model``'s children one by one on ``x``.

    Parameters
    ----------
    model : nn.Sequential
    x : ndarray (N, 1, 28, 28)
        Network inputs, prepared like training (:func:`training.prepare_images`).

    Returns
    -------
    list of (name, ndarray)
        Each child's output in order, e.g. for LeNet-5 ``c1`` (N,6,28,28), ``a1``, ``s2``
        (N,6,14,14), ``c3`` (N,16,10,10), ``a3``, ``s4`` (N,16,5,5), ``flat`` (N,400),
        ``f5`` (N,120), ``a5``, ``f6`` (N,84), ``a6``, ``out`` (N,10) logits.
    """
    acts = []
    for name, layer in model.children.items():
        x = layer.forward(x)
        acts.append((name, x))
    _drop_caches(model)
    return acts


def _drop_caches(model) -> None:
    # forward passes keep their caches for a backward that never comes
    for layer in model.children.values():
        if hasattr(layer, "cache"):
            layer.cache = None


_KINDS = {Conv2d: "conv", MaxPool2d: "max pool", AvgPool2d: "avg pool", Linear: "linear"}
_ACTS = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid"}


def forward_stages(model, x: np.ndarray) -> tuple[list, np.ndarray]:
    """The activations worth looking at: each conv / pool / linear output, with the
    activation that follows it applied (``C1 conv + relu``); flatten is skipped.

    Parameters
    ----------
    model : nn.Sequential
    x : ndarray (N, 1, 28, 28), prepared like training

    Returns
    -------
    stages : list of (str, ndarray)
        Label and output, e.g. ``("C1 conv + relu", (N,6,28,28))``, ``("S2 max pool",
        (N,6,14,14))``, ..., ``("F6 linear + relu", (N,84))``; the last layer is left out.
    logits : ndarray (N, K)
        The network's output.
    """
    stages = []
    for name, a in layer_activations(model, x):
        layer = model.children[name]
        if type(layer) in _ACTS and stages:
            label, _ = stages[-1]
            stages[-1] = (f"{label} + {_ACTS[type(layer)]}", a)
        elif not isinstance(layer, Flatten):
            stages.append((f"{name.upper()} {_KINDS.get(type(layer), type(layer).__name__)}",
                           a))
    logits = stages.pop()[1]
    return stages, logits


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax over the classes, (N, K) -> (N, K), by ``ops.softmax``."""
    return ops.softmax(logits, axis=-1)


def conv_layer_name(model, layer: str) -> str:
    """The child name of ``layer`` ("conv1": the first Conv2d, "conv2": the second).

    Raises
    ------
    ValueError
        Unknown ``layer``, or a model with fewer conv layers.
    """
    if layer not in CONV_NAMES:
        raise ValueError(f"--layer {layer!r}: expected one of {', '.join(CONV_NAMES)}")
    convs = [n for n, m in model.children.items() if isinstance(m, Conv2d)]
    i = CONV_NAMES.index(layer)
    if i >= len(convs):
        raise ValueError(f"--layer {layer}: the network has {len(convs)} conv layer(s), "
                         f"expected at least {i + 1}")
    return convs[i]


def conv_filter_input(model, x: np.ndarray, layer: str, index: int) -> dict:
    """The input, kernel and geometry of one learned filter, for a conv2d trace.

    The input of a conv layer is the output of every layer before it, run on ``x``
    (for LeNet-5's conv2: c1 → a1 → s2, 6 channels of 14×14).

    Parameters
    ----------
    model : nn.Sequential
    x : ndarray (1, 1, 28, 28)
        One prepared input.
    layer : {"conv1", "conv2"}
    index : int
        The filter (output channel).

    Returns
    -------
    dict
        ``name`` (child name, e.g. "c1"), ``x`` (1, C, H, W) the layer's input,
        ``weight`` (1, C, kh, kw), ``bias`` (1,) or None, ``stride``, ``padding``,
        ``filters`` (how many the layer has), ``before`` (names of the layers run first).
    """
    name = conv_layer_name(model, layer)
    conv = model.children[name]
    filters = conv.weight.data.shape[0]
    if not 0 <= int(index) < filters:
        raise ValueError(f"--filter {index}: layer {layer} ({name}) has {filters} filters, "
                         f"expected 0 <= INDEX < {filters}")
    before = []
    for child_name, child in model.children.items():
        if child_name == name:
            break
        x = child.forward(x)
        before.append(child_name)
    _drop_caches(model)
    i = int(index)
    return {"name": name, "x": x, "weight": conv.weight.data[i:i + 1].copy(),
            "bias": None if conv.bias is None else conv.bias.data[i:i + 1].copy(),
            "stride": conv.stride, "padding": conv.padding, "filters": filters,
            "before": before}


def prepare_unit_image(image: np.ndarray, normalize: bool = True) -> np.ndarray:
    """A (H, W) image in [0, 1] -> the (1, 1, H, W) network input, prepared like training."""
    return prepare_images(np.asarray(image, dtype=np.float32)[None] * 255.0, normalize)


# -- digits to look at ---------------------------------------------------------------------
def load_digits(spec: str, count: int = 1, data_dir=None):
    """Test digits named by ``spec``, for the feature-map pictures.

    Parameters
    ----------
    spec : str
        ``"default"``: MNIST test image #0 (a 7, bundled with ``viz``, no download);
        ``"mnist:INDEX"``: the MNIST test set from INDEX on; or a PNG/JPEG path
        (grayscale, resized to 28×28, label unknown).
    count : int
        How many consecutive test digits (``mnist:INDEX`` only; others give one).
    data_dir : str, optional
        MNIST directory (default: the user cache, fetched if absent).

    Returns
    -------
    images : ndarray (K, 28, 28) uint8
    labels : list of int or None
    names : list of str
        e.g. "MNIST test #42".

    Raises
    ------
    ValueError
        Malformed spec, index out of range, unreadable file or MNIST not available.
    """
    spec = str(spec)
    if spec == "default":
        from viz.inputs import ASSET
        return np.load(ASSET)[None].astype(np.uint8), [7], ["MNIST test #0"]
    if spec.startswith("mnist:"):
        try:
            start = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"--input {spec!r}: expected mnist:INDEX with an integer "
                             "INDEX") from None
        from mnist import load_mnist
        try:
            images, labels = load_mnist("test", data_dir, fetch=data_dir is None)
        except (OSError, ValueError) as e:
            raise ValueError(f"--input {spec!r}: cannot load the MNIST test set ({e})") from None
        if not 0 <= start or start + count > len(images):
            raise ValueError(f"--input {spec!r}: digits {start}..{start + count - 1} out of "
                             f"range, expected 0 <= INDEX and INDEX + count <= {len(images)}")
        idx = range(start, start + count)
        return (np.asarray(images[start:start + count]), [int(labels[i]) for i in idx],
                [f"MNIST test #{i}" for i in idx])
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"--input {spec!r}: no such file, expected 'default', 'mnist:INDEX' "
                         "or a PNG/JPEG path")
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            img = np.asarray(im.convert("L").resize((28, 28), Image.Resampling.BOX))
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"--input {spec!r}: cannot read the image ({e})") from None
    return img[None].astype(np.uint8), [None], [path.name]
