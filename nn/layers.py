"""Layers: thin wrappers that call an ``ops`` forward/backward pair and own parameters.

No maths lives here beyond ``+=`` into gradients: every forward and backward is the op
from :mod:`ops`, so the layers train with exactly the code the traces animate.
"""

from __future__ import annotations

import numpy as np

import ops

from .init import init_weight
from .module import Module
from .parameter import Parameter


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


class _CachedOp(Module):
    """A module holding the cache of its last forward call until backward uses it."""

    def __init__(self) -> None:
        super().__init__()
        self.cache = None

    def _take_cache(self):
        cache = self.cache
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called without a forward pass "
                               "(or twice for one forward)")
        self.cache = None  # free the activations as soon as they are used
        return cache


class Conv2d(_CachedOp):
    """2-D convolution, ``torch.nn.Conv2d`` argument order.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding : int or (int, int)
    bias : bool
    init : {"he", "glorot", "lecun", "naive"}
        Weight initialisation (see :mod:`nn.init`); fan_in = C_in*kh*kw,
        fan_out = C_out*kh*kw.
    rng : np.random.Generator
    dtype : float dtype

    Shapes: x (N, C_in, H, W) -> out (N, C_out, OH, OW); weight (C_out, C_in, kh, kw),
    bias (C_out,).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, *, init: str = "he", rng: np.random.Generator,
                 dtype=np.float32) -> None:
        super().__init__()
        kh, kw = _pair(kernel_size)
        self.stride, self.padding = stride, padding
        self.shape_args = (in_channels, out_channels, (kh, kw))
        self.weight = Parameter(init_weight(init, (out_channels, in_channels, kh, kw),
                                            in_channels * kh * kw, out_channels * kh * kw,
                                            rng, dtype))
        self.params["weight"] = self.weight
        self.bias = None
        if bias:
            self.bias = Parameter(np.zeros(out_channels, dtype=dtype))
            self.params["bias"] = self.bias

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.conv2d(x, self.weight.data,
                                     None if self.bias is None else self.bias.data,
                                     stride=self.stride, padding=self.padding)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        dx, dw, db = ops.conv2d_backward(dout, self._take_cache(), need_dx=need_dx)
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx

    def extra_repr(self) -> str:
        cin, cout, k = self.shape_args
        return f"{cin}, {cout}, kernel_size={k}, stride={self.stride}, padding={self.padding}"


class Linear(_CachedOp):
    """Fully connected layer ``out = x @ weight.T + bias`` (``torch.nn.Linear``).

    Shapes: x (N, in_features) -> out (N, out_features); weight (out, in), bias (out,).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 init: str = "he", rng: np.random.Generator, dtype=np.float32) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(init_weight(init, (out_features, in_features),
                                            in_features, out_features, rng, dtype))
        self.params["weight"] = self.weight
        self.bias = None
        if bias:
            self.bias = Parameter(np.zeros(out_features, dtype=dtype))
            self.params["bias"] = self.bias

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.linear(x, self.weight.data,
                                     None if self.bias is None else self.bias.data)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        dx, dw, db = ops.linear_backward(dout, self._take_cache())
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"


class MaxPool2d(_CachedOp):
    """Max pooling (``torch.nn.MaxPool2d``); ``stride=None`` means ``stride = kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.max_pool2d(x, self.kernel_size, self.stride, self.padding)
        return out

    def absorbs(self, previous: Module) -> bool:
        """True for a ReLU: :class:`nn.Sequential` then runs the two as one op
        (:func:`ops.relu_max_pool2d`, the same numbers, about twice as fast)."""
        return isinstance(previous, ReLU)

    def forward_absorbing(self, x: np.ndarray) -> np.ndarray:
        """The ReLU this layer absorbs and this layer, on the ReLU's input."""
        out, self.cache = ops.relu_max_pool2d(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        cache = self._take_cache()
        if isinstance(cache, ops.ReluMaxPoolCache):     # dx of the absorbed ReLU's input
            return ops.relu_max_pool2d_backward(dout, cache)
        return ops.max_pool2d_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(_CachedOp):
    """Average pooling (``torch.nn.AvgPool2d``, ``count_include_pad=True``)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return ops.avg_pool2d_backward(dout, self._take_cache())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Flatten(_CachedOp):
    """(N, ...) -> (N, prod(...))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.flatten(x)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return ops.flatten_backward(dout, self._take_cache())


class _Activation(_CachedOp):
    """An elementwise op pair, set by each subclass."""
    _op = None
    _op_backward = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = self._op(x)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return self._op_backward(dout, self._take_cache())


class ReLU(_Activation):
    """``max(x, 0)`` elementwise."""
    _op = staticmethod(ops.relu)
    _op_backward = staticmethod(ops.relu_backward)


class Tanh(_Activation):
    """``tanh(x)`` elementwise."""
    _op = staticmethod(ops.tanh)
    _op_backward = staticmethod(ops.tanh_backward)


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` elementwise."""
    _op = staticmethod(ops.sigmoid)
    _op_backward = staticmethod(ops.sigmoid_backward)


class ScaledTanh(_Activation):
    """LeCun's squashing function ``1.7159 * tanh(2x/3)`` elementwise."""
    _op = staticmethod(ops.scaled_tanh)
    _op_backward = staticmethod(ops.scaled_tanh_backward)


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "scaled_tanh": ScaledTanh}


def activation(name: str) -> Module:
    """A fresh activation layer by name ("relu", "tanh", "sigmoid" or "scaled_tanh")."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"activation: unknown name {name!r} "
                         f"(expected one of {', '.join(ACTIVATIONS)})") from None
