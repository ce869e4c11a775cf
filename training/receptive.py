"""Receptive fields of a trained network's units: the input pixels that can reach a unit
(the geometric field, from each layer's kernel, stride and padding) and the real gradient
of the unit with respect to those pixels (the effective field, from the layers' backward).

The geometric field grows layer by layer as r_l = r_{l−1} + (k_l − 1)·j_{l−1} with the jump
j_l = j_{l−1}·s_l (r_0 = j_0 = 1); the region a unit reads is traced down through each
layer's window. The effective field is ``layer.backward`` of a one-hot ∂/∂unit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# the paper's names of LeNet-5's layers -> ours (C5 is our f5: a 5×5 conv over S4's 5×5
# maps is a full connection)
PAPER = {"c1": "c1", "s2": "s2", "c3": "c3", "s4": "s4", "c5": "f5"}


@dataclass(frozen=True)
class FieldStep:
    """One windowed layer on the way up to the unit's layer.

    name, kind – the layer ("c1", "conv"; "s2", "maxpool"; "f5", "linear").
    kernel, stride, padding – its window per axis (a linear layer: the whole input).
    r, j – one of its units' field in input pixels, and its jump (input pixels between
        neighbouring units), after this layer.
    formula – r's formula with the numbers filled in.
    region – (r0, r1, c0, c1), inclusive, in this layer's *output*: the units that can reach
        the chosen unit (the chosen unit itself at its own layer); None for a vector layer.
    one – (r0, r1, c0, c1): the input pixels one unit of this layer sees (the region's first
        unit; r × r, reaching into the padding where it lies off the image), or None.
    """
    name: str
    kind: str
    kernel: tuple
    stride: tuple
    padding: tuple
    r: tuple
    j: tuple
    formula: str
    region: object
    one: object = None


@dataclass
class ReceptiveField:
    """The geometric and the effective field of one unit.

    steps – :class:`FieldStep` s from the first layer up to the unit's.
    box – (r0, r1, c0, c1) inclusive: the input pixels that can reach the unit (clipped to
        the image; ``unclipped`` before clipping, which reaches into the padding).
    gradient – ∂unit/∂x (H, W) from the backward pass.
    maps – layer name -> its output (no batch axis), for the pictures.
    value – the unit's value.
    """
    layer: str
    unit: tuple
    steps: list
    box: tuple
    unclipped: tuple
    gradient: np.ndarray
    maps: dict
    value: float
    x: np.ndarray


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(t) for t in v)


def _window(layer, kind):
    if kind == "conv":
        return (_pair(layer.weight.data.shape[2:]), _pair(layer.stride), _pair(layer.padding))
    k = _pair(layer.kernel_size)
    return k, _pair(layer.stride if layer.stride is not None else layer.kernel_size), \
        _pair(layer.padding)


def receptive_field(model, x, layer, unit):
    """The :class:`ReceptiveField` of ``unit`` of the output of child ``layer`` on input x
    (1, C, H, W). ``unit`` is (channel, row, col) of a map, or (index,) of a vector."""
    from .chain import _kind

    names = list(model.children)
    if layer not in names:
        raise ValueError(f"--layer {layer!r}: the network has no such layer (it has "
                         f"{', '.join(names)})")
    top = names.index(layer)
    kinds = [_kind(model.children[n]) for n in names[:top + 1]]
    # forward up to the layer, keeping every output
    maps, h = {}, x
    for n in names[:top + 1]:
        h = model.children[n].forward(h)
        maps[n] = h[0]
    out = maps[layer]
    unit = tuple(int(u) for u in unit)
    if len(unit) != out.ndim or not all(0 <= u < s for u, s in zip(unit, out.shape)):
        raise ValueError(f"--unit {','.join(map(str, unit))}: outside {layer}'s output "
                         f"{'×'.join(map(str, out.shape))}")
    # the effective field: the real backward of ∂unit/∂(unit) = 1 down to the input
    d = np.zeros((1,) + out.shape, dtype=h.dtype)
    d[(0,) + unit] = 1
    model.zero_grad()
    for n in reversed(names[:top + 1]):
        d = model.children[n].backward(d)
    model.zero_grad()
    gradient = d[0].sum(axis=0)
    # the geometric field: the region that reaches the unit, traced down layer by layer
    H, W = x.shape[2:]
    region = (unit[1], unit[1], unit[2], unit[2]) if len(unit) == 3 else None
    regions = {}
    for i in range(top, -1, -1):
        regions[names[i]] = region
        region = _down(model, names[i], kinds[i], region)
    unclipped = region if region is not None else (0, H - 1, 0, W - 1)
    box = (max(0, unclipped[0]), min(H - 1, unclipped[1]), max(0, unclipped[2]),
           min(W - 1, unclipped[3]))
    # r and j, from the input up
    steps, r, j = [], (1, 1), (1, 1)
    whole = False
    for i in range(top + 1):
        n, kind = names[i], kinds[i]
        if kind in ("conv", "maxpool", "avgpool"):
            k, s, p = _window(model.children[n], kind)
            new_r = tuple(r[a] + (k[a] - 1) * j[a] for a in range(2))
            formula = (f"r = {r[0]} + ({k[0]} − 1)·{j[0]} = {new_r[0]}"
                       + ("" if new_r[0] == new_r[1] else f",  {r[1]} + ({k[1]} − 1)·{j[1]} = "
                          f"{new_r[1]}"))
            j = tuple(j[a] * s[a] for a in range(2))
            r = new_r
            region_i = _clip(regions[n], maps[n].shape[-2:]) if regions[n] is not None else None
            one = None
            if region_i is not None:                # one unit, traced down to the input
                one = (region_i[0], region_i[0], region_i[2], region_i[2])
                for b in range(i, -1, -1):
                    one = _down(model, names[b], kinds[b], one)
            steps.append(FieldStep(n, kind, k, s, p, r, j, formula, region_i, one))
        elif kind == "linear" and not whole:
            whole = True
            steps.append(FieldStep(n, kind, (H, W), (1, 1), (0, 0), (H, W), j,
                                   f"{n} reads every unit below: r = the whole {H}×{W} input",
                                   None))
    return ReceptiveField(layer, unit, steps, box, unclipped, gradient, maps,
                          float(out[unit]), x[0])


def _down(model, name, kind, region):
    """The region of layer ``name``'s input that its output ``region`` reads (None: all)."""
    if region is None or kind in ("linear", "flatten"):
        return None
    if kind in ("conv", "maxpool", "avgpool"):
        (kh, kw), (sh, sw), (ph, pw) = _window(model.children[name], kind)
        r0, r1, c0, c1 = region
        return (r0 * sh - ph, r1 * sh - ph + kh - 1, c0 * sw - pw, c1 * sw - pw + kw - 1)
    return region                               # elementwise


def _clip(region, shape):
    r0, r1, c0, c1 = region
    return (max(0, r0), min(shape[0] - 1, r1), max(0, c0), min(shape[1] - 1, c1))


def strongest_unit(model, x, layer):
    """The unit of ``layer``'s output with the largest value (where the digit drives it)."""
    h = x
    for n, child in model.children.items():
        h = child.forward(h)
        if n == layer:
            break
    v = h[0]
    return tuple(int(u) for u in np.unravel_index(int(np.argmax(v)), v.shape))
