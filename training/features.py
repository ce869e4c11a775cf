"""What a trained network computes on one input: every layer's activations, and the input
and kernel of one of its conv filters, read by running the model's own layers.

Nothing is recomputed here: each activation is ``layer.forward`` of the model (which calls
the ``ops`` functions); the pictures are drawn by ``viz``.
"""

from __future__ import annotations

import sys

import numpy as np

import ops
from mnist.images import load_input
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
def load_digits(spec: str, count: int = 1, data_dir=None, invert: bool = False):
    """Test digits named by ``spec`` (see :func:`mnist.images.load_input`), for the
    feature-map pictures; a picture file is resized to the network's 28×28.

    Parameters
    ----------
    spec : str
        ``"default"``: MNIST test image #0 (a 7, bundled, no download);
        ``"mnist:INDEX"``: the MNIST test set from INDEX on; or a picture file
        (grayscale, resized to 28×28, label unknown).
    count : int
        How many consecutive test digits (``mnist:INDEX`` only; others give one).
    data_dir : str, optional
        MNIST directory (default: the user cache, fetched if absent).
    invert : bool
        For a picture: dark ink on light paper -> MNIST's light on dark.

    Returns
    -------
    images : ndarray (K, 28, 28) uint8
    labels : list of int or None
    names : list of str
        e.g. "MNIST test #42".

    A notice about the picture (e.g. that it is mostly light) is printed once on stderr.

    Raises
    ------
    ValueError
        Malformed spec, index out of range, unreadable file or MNIST not available.
    """
    got = load_input(spec, count=count, invert=invert, size=(28, 28), data_dir=data_dir)
    if got.notice:
        print(f"note: {got.notice}", file=sys.stderr)
    images = np.round(got.images * 255).astype(np.uint8)     # MNIST's own scale, exact for it
    return images, got.labels, got.names
