"""What a trained network computes on one input: every layer's activations, and the input
and kernel of one of its conv filters, read by running the model's own layers.

Nothing is recomputed here: each activation is ``layer.forward`` of the model (which calls
the ``ops`` functions); the pictures are drawn by ``viz``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

import ops
from mnist.images import load_input
from nn import (AvgPool2d, Conv2d, Flatten, Linear, MaskedConv2d, MaxPool2d, RBFOutput, ReLU,
                ScaledTanh, Sigmoid, Subsample2d, Tanh)
from nn.lenet1998 import PaperInput, rbf_bitmaps

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


_KINDS = {Conv2d: "conv", MaskedConv2d: "conv", MaxPool2d: "max pool", AvgPool2d: "avg pool",
          Subsample2d: "subsample", Linear: "linear"}
_ACTS = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid", ScaledTanh: "squash"}
_SKIP = (Flatten, PaperInput)       # reshapes and rescalings: nothing new to look at


def _stages(model, x: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """``(child name, label, output)`` of each stage :func:`forward_stages` describes, the
    last layer's output included; 1×1 maps (the 1998 net's C5) become vectors."""
    stages = []
    for name, a in layer_activations(model, x):
        layer = model.children[name]
        if type(layer) in _ACTS and stages:
            first, label, _ = stages[-1]
            stages[-1] = (first, f"{label} + {_ACTS[type(layer)]}", a)
        elif not isinstance(layer, _SKIP):
            stages.append((name, f"{name.upper()} {_KINDS.get(type(layer), type(layer).__name__)}",
                           a))
    return [(n, lb, a.reshape(a.shape[:2]) if a.ndim == 4 and a.shape[2:] == (1, 1) else a)
            for n, lb, a in stages]


def forward_stages(model, x: np.ndarray) -> tuple[list, np.ndarray]:
    """The activations worth looking at: each conv / pool / linear output, with the
    activation that follows it applied (``C1 conv + relu``); flatten and the 1998 net's
    input rescaling are skipped, and 1×1 maps are given as vectors.

    Parameters
    ----------
    model : nn.Sequential
    x : ndarray (N, 1, 28, 28), prepared like training

    Returns
    -------
    stages : list of (str, ndarray)
        Label and output, e.g. ``("C1 conv + relu", (N,6,28,28))``, ``("S2 max pool",
        (N,6,14,14))``, ..., ``("F6 linear + relu", (N,84))``; the last layer is left out.
        For lenet5-1998: ``C1 conv + squash``, ``S2 subsample + squash``, ``C3 conv +
        squash``, ``S4 subsample + squash``, ``C5 conv + squash`` (N,120) and ``F6 linear
        + squash`` (N,84) (squash: 1.7159 tanh(2a/3)).
    logits : ndarray (N, K)
        The network's output (for lenet5-1998 the RBF scores, −y).
    """
    stages = _stages(model, x)
    return [(lb, a) for _, lb, a in stages[:-1]], stages[-1][2]


@dataclass
class Readout:
    """What :func:`readout` gathers for the feature-map picture, as plain arrays.

    Attributes
    ----------
    maps : list of (str, ndarray (N, C, H, W))
        The map stages of :func:`forward_stages`.
    vectors : list of (str, ndarray (N, n))
        Its vector stages.
    logits : ndarray (N, K)
    probs : ndarray (N, K)
        ``softmax(logits)``; for an RBF output, softmax over −y, the posterior the MAP
        criterion reads (without its rubbish class).
    connections : dict
        Map-stage label -> (F, C) bool, ``[f, c]`` True where map f of that stage reads map
        c of the stage before (a :class:`nn.MaskedConv2d`'s ``connections``: C3's Table I).
    rbf : dict or None
        For an :class:`nn.RBFOutput` last layer: ``penalties`` (N, K), y = −output;
        ``bitmaps`` (K, h, w), the layer's fixed centres as the 12×7 bitmaps; ``input``
        (N, D), the vector the distances are measured from (F6's output); ``input_label``.
    """
    maps: list
    vectors: list
    logits: np.ndarray
    probs: np.ndarray
    connections: dict
    rbf: dict | None

    @property
    def predicted(self) -> np.ndarray:
        """(N,) the class each input is given: the largest logit (the smallest y)."""
        return self.logits.argmax(axis=1)

    def digit(self, i: int) -> dict:
        """Input ``i``'s arrays, as :func:`viz.feature_maps.render_feature_maps` takes them:
        ``maps``, ``vectors``, ``probs``, ``connections`` and ``rbf``."""
        rbf = None if self.rbf is None else {
            "penalties": self.rbf["penalties"][i], "bitmaps": self.rbf["bitmaps"],
            "input": self.rbf["input"][i], "input_label": self.rbf["input_label"]}
        return {"maps": [(lb, a[i]) for lb, a in self.maps],
                "vectors": [(lb, a[i]) for lb, a in self.vectors],
                "probs": self.probs[i], "connections": self.connections, "rbf": rbf}


def readout(model, x: np.ndarray) -> Readout:
    """Run ``model`` on ``x`` and gather every array the feature-map picture draws.

    Parameters
    ----------
    model : nn.Sequential
    x : ndarray (N, 1, 28, 28), prepared like training

    Every number is a layer's own output or a layer's own data (the connection table, the
    RBF centres); the penalties are the RBF layer's output negated back.
    """
    stages = _stages(model, x)
    *shown, (last_name, _, logits) = stages
    maps = [(lb, a) for _, lb, a in shown if a.ndim == 4]
    vectors = [(lb, a) for _, lb, a in shown if a.ndim == 2]
    connections = {lb: np.array(model.children[n].connections, dtype=bool)
                   for n, lb, _ in shown if isinstance(model.children[n], MaskedConv2d)}
    rbf = None
    last = model.children[last_name]
    if isinstance(last, RBFOutput):
        K, D = last.centres.shape
        shape = rbf_bitmaps().shape[1:]              # the bitmaps' own 12×7
        if int(np.prod(shape)) != D:
            raise ValueError(f"readout: the RBF layer has {D}-long centres, expected "
                             f"{int(np.prod(shape))} (the {shape[0]}×{shape[1]} bitmaps)")
        rbf = {"penalties": -logits, "bitmaps": last.centres.reshape((K,) + shape).copy(),
               "input": vectors[-1][1], "input_label": vectors[-1][0]}
    return Readout(maps, vectors, logits, probabilities(logits), connections, rbf)


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
