"""The chain rule along one path of a trained network, from the loss back to one weight of
its first layer or one input pixel.

Every number comes from the model's own layers: the forward values and every ∂L/∂ are one
:func:`training.gradients.layer_gradients` pass (``layer.forward``, ``layer.backward``), and
each link's local derivative ∂(unit above)/∂(unit below) is the layer's op applied to a
one-hot tangent (conv2d, linear, flatten and avg_pool2d are linear in their input; an
activation's derivative is its op's backward of ones; max_pool2d routes through its argmax,
read from its backward). Nothing is differentiated by hand.

The path: from the target outward, each step takes the unit of the next layer whose term in
the backward sum is largest (|∂L/∂unit · local|). Its running product is one path's share
of the gradient; the backward pass's ∂L/∂unit at each row is the sum over every path, and
the last row's sum, Σ over the first layer's output cells, is the target's gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ops

from .gradients import layer_gradients


@dataclass(frozen=True)
class Link:
    """One row of the chain, from the loss down.

    name – the layer whose output holds the unit ("out", "a6", ..., "c1"), "loss", or the
        target ("weight", "pixel").
    kind – "loss", "logits", "linear", "conv", "relu", "tanh", "sigmoid", "maxpool",
        "avgpool", "flatten", "weight", "pixel".
    unit – the unit's index in the layer's output (no batch axis).
    value – its forward value.
    local – ∂(the unit one row up)/∂(this unit); for the logits, ∂L/∂z.
    product – the running product of the locals: this path's share of ∂L/∂unit.
    grad – ∂L/∂unit from the backward pass: the sum over every path.
    terms – the nonzero terms of that sum one layer up (paths through this unit, by the
        unit above they pass).
    how – what ``local`` is: "W[7, 28]", "relu′(f6[28])", "the max of its window",
        "w[5, 2, 2, 0]", "x[15, 17]", ...
    """
    name: str
    kind: str
    unit: tuple
    value: float
    local: float
    product: float
    grad: float
    terms: int
    how: str = ""


@dataclass
class ChainTrace:
    """The chain of :class:`Link` s (loss first, target last) and the sum that ends it.

    end_terms – the target's gradient written as a sum over the first layer's output cells
        (∂L/∂y1 · ∂y1/∂target), shaped like that output; ``end_value`` their sum.
    backward – the backward pass's own gradient of the target (``weight.grad`` or ∂L/∂x).
    grads – layer name -> ∂L/∂output (no batch axis), for the maps beside the rows.
    """
    links: list
    target: tuple          # ("weight", (f, c, a, b)) or ("pixel", (r, c))
    end_terms: np.ndarray
    end_value: float
    backward: float
    loss: float
    label: int
    probs: np.ndarray
    grads: dict
    x: np.ndarray


SUPPORTED = "Conv2d, Linear, Flatten, MaxPool2d, AvgPool2d, ReLU, Tanh, Sigmoid"


def _kind(layer):
    from nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sigmoid, Tanh
    for cls, kind in ((Conv2d, "conv"), (Linear, "linear"), (Flatten, "flatten"),
                      (MaxPool2d, "maxpool"), (AvgPool2d, "avgpool"), (ReLU, "relu"),
                      (Tanh, "tanh"), (Sigmoid, "sigmoid")):
        if type(layer) is cls:
            return kind
    raise ValueError(f"chain rule: layer {type(layer).__name__} is not one the chain view "
                     f"follows (expected {SUPPORTED})")


def _onehot(shape, unit, dtype):
    t = np.zeros((1,) + tuple(shape), dtype=dtype)
    t[(0,) + tuple(unit)] = 1
    return t


def column(layer, kind, x, unit):
    """∂output/∂input[unit] of ``layer`` at its input ``x`` (1, ...): the output tangent of
    a one-hot input tangent, without the batch axis."""
    t = _onehot(x.shape[1:], unit, x.dtype)
    if kind == "conv":
        return ops.conv2d(t, layer.weight.data, None, layer.stride, layer.padding)[0][0]
    if kind == "linear":
        return ops.linear(t, layer.weight.data, None)[0][0]
    if kind == "flatten":
        return ops.flatten(t)[0][0]
    if kind == "avgpool":
        return ops.avg_pool2d(t, layer.kernel_size, layer.stride, layer.padding)[0][0]
    if kind in ("relu", "tanh", "sigmoid"):
        op = {"relu": (ops.relu, ops.relu_backward), "tanh": (ops.tanh, ops.tanh_backward),
              "sigmoid": (ops.sigmoid, ops.sigmoid_backward)}[kind]
        out, cache = op[0](x)
        return (t * op[1](np.ones_like(out), cache))[0]
    # max_pool2d: output cell o's tangent is the input tangent at o's argmax. The backward
    # routes ∂L/∂out[o] to that argmax; route each cell's own number + 1 and read which
    # arrives at ``unit``.
    out, cache = ops.max_pool2d(x, layer.kernel_size, layer.stride, layer.padding)
    code = np.arange(1, out.size + 1, dtype=np.float64).reshape(out.shape)
    hits = ops.max_pool2d_backward(np.ones_like(out), cache)[(0,) + tuple(unit)]
    col = np.zeros(out.shape[1:], dtype=x.dtype)
    if hits == 1:
        o = int(round(float(ops.max_pool2d_backward(code, cache)[(0,) + tuple(unit)]))) - 1
        col[np.unravel_index(o, out.shape[1:])] = 1
    elif hits > 1:
        raise ValueError("chain rule: overlapping max-pool windows route one cell to several "
                         "outputs; the chain view follows non-overlapping pooling only")
    return col


def weight_column(layer, kind, x, index):
    """∂output/∂weight[index] of the first layer (conv2d or linear) at its input ``x``."""
    t = _onehot(layer.weight.data.shape, index, x.dtype)[0]
    if kind == "conv":
        return ops.conv2d(x, t, None, layer.stride, layer.padding)[0][0]
    if kind == "linear":
        return ops.linear(x, t, None)[0][0]
    raise ValueError("chain rule: --weight needs a network whose first layer is a Conv2d or "
                     "a Linear")


def chain_rule(model, x, label, target):
    """Follow the chain rule from the loss to ``target`` along its strongest path.

    Parameters
    ----------
    model : nn.Sequential of the layers in :data:`SUPPORTED`
    x : ndarray (1, C, H, W) — the prepared input (float64 for exact sums)
    label : int — the class the cross-entropy is taken against
    target : ("weight", (f, c, a, b)) of the first layer, or ("pixel", (r, c)) of x
        (channel 0)

    Returns
    -------
    ChainTrace
    """
    names = list(model.children)
    layers = [model.children[n] for n in names]
    kinds = [_kind(layer) for layer in layers]
    g = layer_gradients(model, x, label)
    what, index = target
    first, k0 = layers[0], kinds[0]
    if what == "weight":
        shape = first.weight.data.shape if hasattr(first, "weight") else ()
        if len(index) != len(shape) or not all(0 <= i < s for i, s in zip(index, shape)):
            raise ValueError(f"--weight {','.join(map(str, index))}: outside {names[0]}'s "
                             f"weight {'×'.join(map(str, shape))}")
        col = weight_column(first, k0, g.inputs[names[0]], tuple(index))
        backward = float(g.params[names[0]]["weight"][tuple(index)])
        value = float(first.weight.data[tuple(index)])
    else:
        shape = x.shape[2:]
        if len(index) != 2 or not all(0 <= i < s for i, s in zip(index, shape)):
            raise ValueError(f"--pixel {','.join(map(str, index))}: outside the "
                             f"{shape[0]}×{shape[1]} input")
        unit = (0,) + tuple(index)
        col = column(first, k0, g.inputs[names[0]], unit)
        backward = float(g.dxs[names[0]][(0,) + unit])
        value = float(x[(0,) + unit])
    grads = {n: g.douts[n][0] for n in names}
    end_terms = grads[names[0]] * col
    # outward from the target: each layer's unit carrying the largest term
    units, locals_, counts = [], [], []
    terms = end_terms
    for i, name in enumerate(names):
        u = np.unravel_index(int(np.argmax(np.abs(terms))), terms.shape)
        units.append(tuple(int(v) for v in u))
        locals_.append(float(col[u]))          # ∂(this layer's unit)/∂(the unit below)
        counts.append(int(np.count_nonzero(terms)))
        if i + 1 < len(names):
            col = column(layers[i + 1], kinds[i + 1], g.inputs[names[i + 1]], u)
            terms = grads[names[i + 1]] * col
    # the rows, from the loss down: the running product of the locals
    top = names[-1]
    k = units[-1]
    links = [Link("loss", "loss", (), g.loss, 1.0, 1.0, 1.0, 1,
                  f"cross-entropy against label {g.label}")]
    product = float(grads[top][k])
    logits = np.count_nonzero(grads[top])
    links.append(Link(top, "logits", k, float(g.outputs[top][(0,) + k]), product, product,
                      product, int(logits),
                      _softmax_how(g.probs[k[0]], int(k[0] == g.label), k[0], product)))
    for i in range(len(names) - 2, -1, -1):
        name, u = names[i], units[i]
        local = locals_[i + 1]
        product *= local
        how = _how(names, layers, kinds, i + 1, units[i + 1], u)
        links.append(Link(name, kinds[i], u, float(g.outputs[name][(0,) + u]), local, product,
                          float(grads[name][u]), counts[i + 1], how))
    product *= locals_[0]
    if what == "weight":
        how = _weight_how(first, k0, units[0], tuple(index))
    else:
        how = _how(names, layers, kinds, 0, units[0], (0,) + tuple(index), x_name="x")
    links.append(Link(what, what, tuple(index), value, locals_[0], product, backward,
                      counts[0], how))
    return ChainTrace(links, (what, tuple(index)), end_terms, float(end_terms.sum()), backward,
                      g.loss, g.label, g.probs, grads, x[0])


def _softmax_how(p, y, k, d):
    """``p[k] − y[k] = 0.99998 − 1`` with p to as many decimals as the difference needs."""
    decimals = 3 if d == 0 else max(3, 2 - int(np.floor(np.log10(abs(d)))))
    return f"p[{k}] − y[{k}] = {p:.{decimals}f} − {y}  (softmax + cross-entropy)"


def _ix(u):
    return ", ".join(str(v) for v in u)


def _how(names, layers, kinds, i, above, below, x_name=None):
    """What the local derivative ∂(layer i's unit ``above``)/∂(its input unit ``below``)
    is, in words."""
    kind, layer = kinds[i], layers[i]
    inp = x_name or names[i - 1]
    if kind == "linear":
        return f"{names[i]}.weight[{above[0]}, {below[0]}]"
    if kind == "conv":
        s, p = _pair(layer.stride), _pair(layer.padding)
        a = below[1] - above[1] * s[0] + p[0]
        b = below[2] - above[2] * s[1] + p[1]
        return f"{names[i]}.weight[{above[0]}, {below[0]}, {a}, {b}]"
    if kind in ("relu", "tanh", "sigmoid"):
        return f"{kind}′({inp}[{_ix(below)}])"
    if kind == "maxpool":
        return f"{inp}[{_ix(below)}] is the max of its window"
    if kind == "avgpool":
        return "1 / (window size)"
    return f"{names[i]}[{_ix(above)}] is {inp}[{_ix(below)}]"


def _pair(v):
    return (v, v) if isinstance(v, (int, np.integer)) else tuple(v)


def _weight_how(layer, kind, above, index):
    """∂y[above]/∂w[index]: the input value that weight multiplies."""
    if kind == "linear":
        return f"x[{index[1]}]"
    s, p = _pair(layer.stride), _pair(layer.padding)
    r = above[1] * s[0] + index[2] - p[0]
    c = above[2] * s[1] + index[3] - p[1]
    return f"x[{index[1]}, {r}, {c}]" + ("  (padding: 0)" if r < 0 or c < 0 else "")


def strongest_target(model, x, label, what):
    """The first-layer weight (``what="weight"``) or input pixel with the largest |∂L/∂·|."""
    g = layer_gradients(model, x, label)
    first = list(model.children)[0]
    if what == "weight":
        grad = g.params[first]["weight"]
        return tuple(int(v) for v in np.unravel_index(int(np.argmax(np.abs(grad))), grad.shape))
    grad = g.dxs[first][0, 0]
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(np.abs(grad))), grad.shape))
