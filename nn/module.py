"""Base class of layers and containers: parameter bookkeeping, state dicts."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .parameter import Parameter


class Module:
    """A differentiable block with ``forward(x)`` and ``backward(dout)``.

    ``forward`` keeps what ``backward`` needs (the op caches); ``backward`` adds the
    parameter gradients into each ``Parameter.grad`` and returns the gradient with
    respect to the input. Subclasses put their parameters in ``self.params``
    (a dict name -> Parameter) and their children in ``self.children``.
    """

    def __init__(self) -> None:
        self.params: dict[str, Parameter] = {}
        self.children: dict[str, "Module"] = {}

    # -- computation -------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:  # pragma: no cover
        """Accumulate parameter gradients and return dx; ``need_dx=False`` lets a layer skip dx."""
        raise NotImplementedError

    def absorbs(self, previous: "Module") -> bool:
        """True when this layer can run ``previous`` and itself as one op
        (``forward_absorbing``; its backward then returns ``previous``'s dx)."""
        return False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- parameters --------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, Parameter)`` in a fixed order (own, then children)."""
        for name, p in self.params.items():
            yield prefix + name, p
        for cname, child in self.children.items():
            yield from child.named_parameters(prefix + cname + ".")

    def parameters(self) -> list[Parameter]:
        """All parameters, in :meth:`named_parameters` order."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter gradient to zero (in place)."""
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # -- state -------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameter arrays, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters (in place, keeping each parameter's dtype).

        Raises
        ------
        ValueError
            If a name is missing or unexpected, or a shape differs.
        """
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        if missing or extra:
            raise ValueError(f"load_state_dict: missing parameters {missing}, unexpected {extra}")
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.data.shape:
                raise ValueError(f"load_state_dict: {name} has shape {value.shape}, "
                                 f"expected {p.data.shape}")
            p.data[...] = value

    def to(self, dtype) -> "Module":
        """Cast every parameter (and its gradient) to ``dtype``; returns self."""
        for p in self.parameters():
            p.data = p.data.astype(dtype, copy=False)
            p.grad = np.zeros_like(p.data)
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        if not self.children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in self.children.items():
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        lines.append(")")
        return "\n".join(lines)
