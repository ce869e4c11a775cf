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
        self._ran = None    # the layers the last forward ran, for the backward

    def __iter__(self):
        return iter(self.children.values())

    def __len__(self) -> int:
        return len(self.children)

    def __getitem__(self, name: str) -> Module:
        return self.children[name]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each layer's forward in order; a layer that ``absorbs`` the one before it (a max
        pool after a ReLU) runs both as one op. Layer-by-layer callers (the viewers) keep
        every layer's own output."""
        layers = list(self.children.values())
        self._ran, absorbed = [], False
        for layer, after in zip(layers, layers[1:] + [None]):
            if after is not None and after.absorbs(layer):
                absorbed = True             # ``after`` runs this layer too
                continue
            x = layer.forward_absorbing(x) if absorbed else layer.forward(x)
            self._ran.append(layer)
            absorbed = False
        return x

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Walk the layers the forward ran in reverse; with ``need_dx=False`` the first one
        may skip its dx (a conv input gradient costs as much as its weight gradient)."""
        ran = self._ran or list(self.children.values())
        for layer in reversed(ran[1:]):
            dout = layer.backward(dout)
        return ran[0].backward(dout, need_dx=need_dx) if ran else dout
