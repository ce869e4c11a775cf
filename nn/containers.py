"""Sequential container."""

from __future__ import annotations

import numpy as np

from .module import Module


class Sequential(Module):
    """Apply layers in order; backward walks them in reverse.

    Parameters
    ----------
    *layers : Module or (str, Module)
        Layers, optionally named. Unnamed layers get their index as name, so
        parameters are called e.g. ``"0.weight"``; named ones ``"c1.weight"``.
    """

    def __init__(self, *layers) -> None:
        super().__init__()
        for i, item in enumerate(layers):
            name, layer = item if isinstance(item, tuple) else (str(i), item)
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {name!r} is a {type(layer).__name__}, "
                                "expected an nn.Module")
            if name in self.children:
                raise ValueError(f"Sequential: duplicate layer name {name!r}")
            self.children[name] = layer

    def __iter__(self):
        return iter(self.children.values())

    def __len__(self) -> int:
        return len(self.children)

    def __getitem__(self, name: str) -> Module:
        return self.children[name]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.children.values():
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Walk the layers in reverse; with ``need_dx=False`` the first layer may skip its dx
        (a conv input gradient costs as much as its weight gradient)."""
        layers = list(self.children.values())
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        return layers[0].backward(dout, need_dx=need_dx) if layers else dout
