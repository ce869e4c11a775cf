"""The gradients a trained network really routes: one forward and one backward pass of the
model's own layers on one digit, keeping what enters and leaves every layer.

Nothing is recomputed here: activations are ``layer.forward``, the loss is
``ops.cross_entropy`` and every gradient is ``layer.backward`` (which calls the ``ops``
backward functions). The backward GIFs draw one layer's step from these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ops


@dataclass
class LayerGradients:
    """One forward/backward pass of a model on one input.

    Attributes
    ----------
    names : list of str
        The model's children in order (LeNet-5: c1, a1, s2, c3, ...).
    inputs, outputs : dict name -> ndarray
        What entered and left each layer in the forward pass.
    douts : dict name -> ndarray
        The loss gradient arriving at each layer's output (∂L/∂output).
    dxs : dict name -> ndarray
        The gradient each layer's backward passed on (∂L/∂input).
    params : dict name -> dict of ndarray
        Each layer's parameter gradients ("weight", "bias").
    loss : float
    label : int
        The class the loss was taken against.
    probs : ndarray (K,)
    """
    names: list
    inputs: dict
    outputs: dict
    douts: dict
    dxs: dict
    params: dict
    loss: float
    label: int
    probs: np.ndarray


def layer_gradients(model, x: np.ndarray, label: int | None = None) -> LayerGradients:
    """Run ``model`` forward on ``x`` (1, C, H, W), take the cross-entropy against ``label``
    (default: the predicted class) and run every layer's backward in reverse.

    The model's parameter gradients are zeroed before and after, so the model is left as it was.
    """
    if x.shape[0] != 1:
        raise ValueError(f"layer_gradients: x has {x.shape[0]} samples, expected 1")
    names = list(model.children)
    inputs, outputs = {}, {}
    h = x
    for name in names:
        inputs[name] = h
        h = model.children[name].forward(h)
        outputs[name] = h
    probs = ops.softmax(h, axis=-1)[0]
    label = int(np.argmax(probs)) if label is None else int(label)
    loss, cache = ops.cross_entropy(h, np.array([label]))
    model.zero_grad()
    douts, dxs, params = {}, {}, {}
    d = ops.cross_entropy_backward(1.0, cache)
    for name in reversed(names):
        layer = model.children[name]
        douts[name] = d
        d = layer.backward(d)
        dxs[name] = d
        params[name] = {k: p.grad.copy() for k, p in layer.params.items()}
    model.zero_grad()
    return LayerGradients(names, inputs, outputs, douts, dxs, params, float(loss), label, probs)


def first_of(model, kind) -> str:
    """The name of the model's first child of type ``kind`` (e.g. ``nn.MaxPool2d``)."""
    for name, layer in model.children.items():
        if isinstance(layer, kind):
            return name
    raise ValueError(f"the network has no {kind.__name__} layer")


def strongest_channel(grad: np.ndarray) -> int:
    """The channel of a (1, C, ...) gradient with the largest Σ|g| (the most to watch)."""
    g = np.abs(np.asarray(grad, dtype=np.float64)).reshape(grad.shape[0], grad.shape[1], -1)
    return int(g.sum(axis=(0, 2)).argmax())


# -- one layer's backward step, as the backward GIFs show it ------------------------------
LAYER_KINDS = ("pool", "conv", "relu", "linear")


def lenet_layer_case(model, config, image: np.ndarray, kind: str, label: int | None = None,
                     index: int | None = None) -> dict:
    """The real backward step of one layer of a trained model on one digit.

    Parameters
    ----------
    model, config : from :func:`training.load_model`
    image : ndarray (28, 28) in [0, 1]
    kind : {"pool", "conv", "relu", "linear"}
        The first pooling layer, the first conv layer, the first activation, or the last
        linear layer (the logits).
    label : int, optional
        The class the loss is taken against (default: the predicted one).
    index : int, optional
        The channel (pool, relu) or filter (conv) to show; default: the one with the
        largest Σ|∂L/∂out|.

    Returns
    -------
    dict
        ``layer`` (child name), ``x`` the layer's input (1, C, H, W) or (1, in) — for pool
        and relu only ``index``'s channel —, ``dout`` the gradient arriving at its output
        (same slicing), ``index``, ``channels`` (how many the layer has), and by kind:
        ``kernel_size``, ``stride``, ``padding`` (pool); ``weight`` (1, C, kh, kw) of filter
        ``index``, ``bias``, ``stride``, ``padding`` (conv); ``weight``, ``bias`` (linear);
        plus ``grads`` (the :class:`LayerGradients`).
    """
    from nn import Conv2d, Linear, MaxPool2d, AvgPool2d, ReLU, Sigmoid, Tanh
    from .features import prepare_unit_image

    if kind not in LAYER_KINDS:
        raise ValueError(f"lenet_layer_case: kind={kind!r}, expected one of {LAYER_KINDS}")
    img = np.asarray(image)
    if img.shape != (28, 28):
        raise ValueError(f"the image is {img.shape[0]}×{img.shape[1]}, expected 28×28 for "
                         "the trained network")
    g = layer_gradients(model, prepare_unit_image(img, config.normalize), label)
    if kind == "linear":
        name = [n for n, m in model.children.items() if isinstance(m, Linear)][-1]
    else:
        types = {"pool": (MaxPool2d, AvgPool2d), "conv": (Conv2d,),
                 "relu": (ReLU, Sigmoid, Tanh)}[kind]
        name = next((n for n, m in model.children.items() if isinstance(m, types)), None)
        if name is None:
            raise ValueError(f"the network has no {kind} layer")
    layer = model.children[name]
    x, dout = g.inputs[name], g.douts[name]
    out = {"layer": name, "grads": g, "channels": dout.shape[1]}
    if kind == "linear":
        out.update(x=x, dout=dout, weight=layer.weight.data.copy(), index=None,
                   bias=None if layer.bias is None else layer.bias.data.copy())
        return out
    i = strongest_channel(dout) if index is None else int(index)
    if not 0 <= i < dout.shape[1]:
        what = "filter" if kind == "conv" else "channel"
        raise ValueError(f"--{what} {i}: layer {name} has {dout.shape[1]} {what}s, expected "
                         f"0 to {dout.shape[1] - 1}")
    out.update(index=i, dout=dout[:, i:i + 1])
    if kind == "conv":
        out.update(x=x, weight=layer.weight.data[i:i + 1].copy(), stride=layer.stride,
                   padding=layer.padding,
                   bias=None if layer.bias is None else layer.bias.data[i:i + 1].copy())
    else:
        out["x"] = x[:, i:i + 1]
        if kind == "pool":
            k = layer.kernel_size
            out.update(kernel_size=k, stride=layer.stride or k, padding=layer.padding,
                       op=type(layer).__name__)
    return out
