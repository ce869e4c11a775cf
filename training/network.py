"""One digit through a trained network, stage by stage, for the network view.

A stage is a layer with the activation after it (C1 = conv + relu, S2 = max pool, F5 =
linear + relu, ...); its output is what the model's own layers return. For one cell of each
stage, :func:`network_stages` says which cells of the stage below it reads (the window
traced through the stage's layers; everything for a linear layer) and its value before and
after the activation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ops

from .chain import _kind
from .receptive import _down, _window

PAPER_NAMES = {"c1": "C1", "s2": "S2", "c3": "C3", "s4": "S4", "f5": "C5/F5", "f6": "F6",
               "out": "output"}


@dataclass
class Stage:
    """name – the stage's first layer ("c1"); label – "C1: conv 5×5 + relu"; names – its
    layers; out – its output (no batch axis); pre – the first layer's own output (before
    the activation); cell – the cell zoomed into (the largest output); region – (r0, r1, c0,
    c1) of the stage below that the cell reads, or None (all of it); reads – how many numbers
    the cell's first layer combines."""
    name: str
    label: str
    names: list
    out: np.ndarray
    pre: np.ndarray
    cell: tuple
    region: object
    reads: int
    kind: str


def _label(name, kind, layer, act):
    paper = PAPER_NAMES.get(name, name)
    if kind == "conv":
        k = layer.weight.data.shape[2]
        what = f"conv {k}×{k}"
    elif kind in ("maxpool", "avgpool"):
        k = _window(layer, kind)[0][0]
        what = f"{'max' if kind == 'maxpool' else 'avg'} pool {k}×{k}"
    else:
        what = f"linear {layer.weight.data.shape[1]}→{layer.weight.data.shape[0]}"
    return f"{paper}: {what}" + (f" + {act}" if act else "")


def network_stages(model, x):
    """The stages of ``model`` on input x (1, C, H, W), their outputs and zoomed cells, and
    the class probabilities (softmax of the logits). Returns (stages, probs)."""
    names = list(model.children)
    kinds = [_kind(model.children[n]) for n in names]
    outs, h = {}, x
    for n in names:
        h = model.children[n].forward(h)
        outs[n] = h[0]
    stages, i = [], 0
    prev_shape = x.shape[1:]
    while i < len(names):
        kind = kinds[i]
        if kind == "flatten":
            i += 1
            continue
        group = [names[i]]
        act = None
        if i + 1 < len(names) and kinds[i + 1] in ("relu", "tanh", "sigmoid"):
            group.append(names[i + 1])
            act = kinds[i + 1]
        out = outs[group[-1]]
        pre = outs[group[0]]
        cell = tuple(int(v) for v in np.unravel_index(int(np.argmax(pre)), pre.shape))
        layer = model.children[names[i]]
        region = None
        if len(cell) == 3 and kind in ("conv", "maxpool", "avgpool"):
            region = _down(model, names[i], kind, (cell[1], cell[1], cell[2], cell[2]))
            hw = prev_shape[-2:]
            region = (max(0, region[0]), min(hw[0] - 1, region[1]), max(0, region[2]),
                      min(hw[1] - 1, region[3]))
        if kind == "conv":
            reads = int(np.prod(layer.weight.data.shape[1:]))
        elif kind == "linear":
            reads = int(layer.weight.data.shape[1])
        else:
            reads = int(np.prod(_window(layer, kind)[0]))
        stages.append(Stage(names[i], _label(names[i], kind, layer, act), group, out, pre,
                            cell, region, reads, kind))
        prev_shape = out.shape
        i += len(group)
    probs = ops.softmax(h, axis=-1)[0]
    return stages, probs
