"""A trainable array together with the gradient that backward passes accumulate into it."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array and its gradient.

    Parameters
    ----------
    data : np.ndarray
        The values, any shape; kept as given (no copy).
    name : str
        Dotted name such as ``"c1.weight"``, set by the owning module.

    Attributes
    ----------
    data : np.ndarray
        The values; optimisers update it in place.
    grad : np.ndarray
        Same shape and dtype as ``data``. Backward passes add into it with ``+=``
        (micrograd style) so gradients from several backward calls accumulate
        until :meth:`zero_grad`.
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data: np.ndarray, name: str = "") -> None:
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
            raise TypeError(f"Parameter: data must be a float ndarray, got {type(data).__name__} "
                            f"{getattr(data, 'dtype', '')}")
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def size(self) -> int:
        return self.data.size

    def zero_grad(self) -> None:
        """Set the gradient to zero in place (keeps the same array)."""
        self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"
