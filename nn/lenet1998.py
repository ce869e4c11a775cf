"""LeNet-5 as LeCun, Bottou, Bengio and Haffner built it (Proc. IEEE 1998, Section II-B and
Appendix A), and the layers it needs beyond :mod:`nn.layers`.

Five differences from the modern LeNet-5 of :func:`nn.networks.lenet5`:

1. S2 and S4 are *trainable subsampling*: 2x2 sums times a trainable coefficient plus a
   trainable bias per map, then squashed (not max pooling);
2. C3 reads only the S2 maps of Table I (60 of the 96 map pairs), not all six;
3. the squashing function is ``1.7159 tanh(2a/3)`` (not ReLU);
4. the output is ten Euclidean RBF units with fixed +-1 7x12 digit bitmaps, trained with the
   MAP criterion (not a linear layer with softmax cross-entropy);
5. weights start N(0, 1/F_in) (LeCun's; the paper prints uniform +-2.4/F_in, kept as
   ``init="lecun98"``), and training is SDLM (:mod:`nn.sdlm`), not Adam.
"""

from __future__ import annotations

from functools import partial
from importlib import resources

import numpy as np

import ops
from ops.connections import ConnectedConvCache

from .containers import Sequential
from .init import init_weight
from .layers import Conv2d, Flatten, Linear, MaxPool2d, _CachedOp, activation
from .parameter import Parameter

# Table I of the paper: the S2 maps each C3 map reads. Maps 0-5 read 3 adjacent maps,
# 6-11 read 4 adjacent, 12-14 read non-adjacent pairs of pairs, 15 reads all six.
C3_TABLE = ((0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
            (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
            (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
            (0, 1, 2, 3, 4, 5))

# The input scale of Section II-B: background -0.1, foreground 1.175 (mean ~0, variance ~1).
BACKGROUND, FOREGROUND = -0.1, 1.175
# The inputs that reach the network are normalised as training.data.prepare_images does,
# (p / 255 - MEAN) / STD; the input layer maps them back onto the paper's scale.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

# The MAP criterion's constant j (eq. 9): the rubbish class's penalty. The paper gives no
# value. While every penalty is above j the criterion pulls the right code in (like j = 0);
# once the right penalty is below j it is a softmax over -y that stops pulling confident
# patterns (measured against j = 0 over 20 passes: docs/lenet1998.md).
MAP_J = 10.0


def c3_connections(table=C3_TABLE, in_maps: int = 6) -> np.ndarray:
    """(16, 6) bool: ``[f, c]`` is True when C3 map f reads S2 map c."""
    mask = np.zeros((len(table), in_maps), dtype=bool)
    for f, maps in enumerate(table):
        mask[f, list(maps)] = True
    return mask


def rbf_bitmaps() -> np.ndarray:
    """The fixed (10, 12, 7) +-1 digit bitmaps of the RBF units (nn/assets/README.md)."""
    with resources.files("nn").joinpath("assets", "rbf_bitmaps.npy").open("rb") as f:
        return np.load(f)


class PaperInput(_CachedOp):
    """28x28 normalised digits -> the paper's 32x32 input: rescaled onto
    [BACKGROUND, FOREGROUND] and centred with a 2-pixel border of background."""

    def __init__(self, padding: int = 2) -> None:
        super().__init__()
        self.padding = padding
        span = FOREGROUND - BACKGROUND
        self.scale = span * MNIST_STD
        self.shift = BACKGROUND + span * MNIST_MEAN

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.affine_pad2d(x, self.scale, self.shift, self.padding, BACKGROUND)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        cache = self._take_cache()
        return ops.affine_pad2d_backward(dout, cache) if need_dx else None

    def extra_repr(self) -> str:
        return f"padding={self.padding}, background={BACKGROUND}, foreground={FOREGROUND}"


class Subsample2d(_CachedOp):
    """Trainable subsampling: per map, ``weight * (sum of each 2x2 block) + bias``.

    Shapes: x (N, C, H, W) -> out (N, C, H/2, W/2); weight (C,), bias (C,).
    ``init="lecun98"`` draws the coefficient uniform in ±2.4/4 (F_in = the 4 block cells).
    """

    def __init__(self, channels: int, kernel_size: int = 2, *, init: str = "lecun98",
                 rng: np.random.Generator, dtype=np.float32) -> None:
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        fan_in = kernel_size * kernel_size
        self.weight = Parameter(init_weight(init, (channels,), fan_in, fan_in, rng, dtype))
        self.bias = Parameter(np.zeros(channels, dtype=dtype))
        self.params["weight"], self.params["bias"] = self.weight, self.bias

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self.cache = ops.subsample2d(x, self.weight.data, self.bias.data, self.kernel_size)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        dx, dw, db = ops.subsample2d_backward(dout, self._take_cache())
        self.weight.grad += dw
        self.bias.grad += db
        return dx

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class MaskedConv2d(Conv2d):
    """Conv2d whose filter f reads only the input maps with ``connections[f]`` True.

    The weight keeps the full (F, C, kh, kw) shape (so that filter tools see a conv layer);
    the unconnected slices are zero, multiplied away in forward and in the gradient, so no
    optimiser ever moves them. :meth:`num_parameters` counts the connected weights only.
    Each filter's fan-in is its own: (connected maps) * kh * kw.
    """

    def __init__(self, connections: np.ndarray, kernel_size, *, init: str = "lecun98",
                 rng: np.random.Generator, dtype=np.float32) -> None:
        connections = np.asarray(connections, dtype=bool)
        out_c, in_c = connections.shape
        super().__init__(in_c, out_c, kernel_size, init=init, rng=rng, dtype=dtype)
        kh, kw = self.weight.shape[2:]
        self.connections = connections
        self.mask = np.broadcast_to(connections[:, :, None, None], self.weight.shape).astype(dtype)
        fan_in = (connections.sum(axis=1) * kh * kw)[:, None, None, None]
        w = init_weight(init, self.weight.shape, fan_in, out_c * kh * kw, rng, dtype) \
            if init == "lecun98" else self.weight.data
        self.weight.data[...] = w * self.mask

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, cache = ops.conv2d(x, self.weight.data * self.mask, self.bias.data)
        self.cache = ConnectedConvCache(cache, self.connections)   # its trace: connected maps only
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        dx, dw, db = ops.conv2d_backward(dout, self._take_cache().conv, need_dx=need_dx)
        self.weight.grad += dw * self.mask
        self.bias.grad += db
        return dx

    def num_parameters(self) -> int:
        return int(self.mask.sum()) + self.bias.size

    def extra_repr(self) -> str:
        return super().extra_repr() + f", connections={int(self.connections.sum())}"


class RBFOutput(_CachedOp):
    """Euclidean RBF units with fixed centres; returns the *scores* ``-y`` (N, K).

    The penalties ``y_i = sum_j (x_j - w_ij)^2`` come from :func:`ops.euclidean_rbf`; the
    layer hands on ``-y`` so that, as with the other nets' logits, the largest output wins
    and softmax reads it as a posterior. The centres are data, not parameters.
    """

    def __init__(self, centres: np.ndarray, dtype=np.float32) -> None:
        super().__init__()
        self.centres = np.asarray(centres, dtype=dtype).reshape(len(centres), -1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        y, self.cache = ops.euclidean_rbf(x, self.centres)
        return -y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        dx, _ = ops.euclidean_rbf_backward(-dout, self._take_cache())
        return dx

    def extra_repr(self) -> str:
        k, d = self.centres.shape
        return f"{d}, {k}, fixed centres"


class LeNet1998(Sequential):
    """A Sequential that trains with the MAP criterion (``map_j``; None for a linear
    output, which trains with softmax cross-entropy) and counts parameters per layer (C3
    counts only its connected weights)."""

    def __init__(self, *layers, map_j: float | None = MAP_J) -> None:
        super().__init__(*layers)
        self.map_j = None if map_j is None else float(map_j)   # None: softmax cross-entropy

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if need_dx:
            return super().backward(dout)
        layers = list(self.children.values())
        for layer in reversed(layers[2:]):
            dout = layer.backward(dout)
        layers[1].backward(dout, need_dx=False)     # C1: the input layer needs no gradient
        return None

    def num_parameters(self) -> int:
        return sum(layer.num_parameters() for layer in self.children.values())


# The parts of the 1998 net that can be swapped, one at a time, for the modern LeNet-5's
# (the ablations of docs/lenet1998.md); the other two differences are flags already
# (--activation relu; --optimizer adam --init he).
MODERN_PARTS = ("pooling", "c3", "output")


def lenet5_1998(activation_name: str = "scaled_tanh", init: str = "lecun", *,
                modern=(), rng: np.random.Generator, dtype=np.float32) -> LeNet1998:
    """LeNet-5 of LeCun et al. 1998 (60,000 trainable parameters).

    (N,1,28,28) -> input (N,1,32,32) -> C1 (N,6,28,28) -> S2 (N,6,14,14) -> C3 (N,16,10,10)
    -> S4 (N,16,5,5) -> C5 (N,120,1,1) -> (N,120) -> F6 (N,84) -> RBF scores (N,10).
    Each of C1, S2, C3, S4, C5 and F6 is followed by the squashing function.

    ``modern`` names parts (:data:`MODERN_PARTS`) to take from the modern LeNet-5 instead:
    "pooling" (2x2 max pooling of the squashed maps, no parameters, for S2 and S4), "c3"
    (a full 6->16 conv) and "output" (a linear 84->10 layer read by softmax cross-entropy).
    """
    modern = tuple(modern)
    unknown = sorted(set(modern) - set(MODERN_PARTS))
    if unknown:
        raise ValueError(f"modern parts must be among {', '.join(MODERN_PARTS)}, got {unknown}")
    kw = dict(init=init, rng=rng, dtype=dtype)
    act = partial(activation, activation_name)

    def pool(name, maps):
        if "pooling" in modern:
            return [(f"p{name[1:]}", MaxPool2d(2))]
        return [(name, Subsample2d(maps, **kw)), (f"a{name[1:]}", act())]

    c3 = Conv2d(6, 16, 5, **kw) if "c3" in modern else MaskedConv2d(c3_connections(), 5, **kw)
    out = ("out", Linear(84, 10, **kw)) if "output" in modern else \
        ("rbf", RBFOutput(rbf_bitmaps(), dtype))
    return LeNet1998(
        ("input", PaperInput()),
        ("c1", Conv2d(1, 6, 5, **kw)), ("a1", act()),
        *pool("s2", 6),
        ("c3", c3), ("a3", act()),
        *pool("s4", 16),
        ("c5", Conv2d(16, 120, 5, **kw)), ("a5", act()),
        ("flat", Flatten()),
        ("f6", Linear(120, 84, **kw)), ("a6", act()),
        out,
        map_j=None if "output" in modern else MAP_J,
    )
