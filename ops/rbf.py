"""Euclidean RBF output units (LeCun et al. 1998, eq. 7): y_i = sum_j (x_j - w_ij)^2.

Each output is the squared distance of the input vector to its unit's centre; in
LeNet-5 the centres are fixed +-1 bitmaps of the digits. The naive loop reference is
``tests/reference.py: euclidean_rbf``.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._check import as_dout, as_float, check_ndim
from .trace import check_sample, grid

OP = "euclidean_rbf"


@dataclass
class RBFCache:
    x: np.ndarray        # (N, D)
    centres: np.ndarray  # (K, D)
    diff: np.ndarray     # (N, K, D): x_j - w_ij

    def trace(self, sample=None):
        return rbf_trace(self, sample)


def euclidean_rbf(x, centres):
    """Squared Euclidean distance of each row of ``x`` to each centre.

    The naive loop reference is ``euclidean_rbf`` in tests/reference.py.

    Parameters
    ----------
    x : ndarray (N, D)
    centres : ndarray (K, D)

    Returns
    -------
    out : ndarray (N, K), ``out[n, i] = sum_j (x[n, j] - centres[i, j]) ** 2``
    cache : RBFCache
    """
    x = as_float(x, "x", OP)
    centres = as_float(centres, "centres", OP)
    check_ndim(x, 2, "x", OP, "(N, D)")
    check_ndim(centres, 2, "centres", OP, "(K, D)")
    if centres.shape[1] != x.shape[1]:
        raise ValueError(f"{OP}: centres has shape {centres.shape} but x has {x.shape[1]} "
                         f"features (shape {x.shape}), expected centres.shape[1] == x.shape[1]")
    dtype = np.result_type(x, centres)
    x, centres = x.astype(dtype, copy=False), centres.astype(dtype, copy=False)
    # (N, K, D) is small here (LeNet-5: N x 10 x 84); the difference form is exact, unlike
    # |x|^2 - 2 x.w + |w|^2, which cancels when x is near a centre.
    diff = x[:, None, :] - centres[None]
    out = np.einsum("nkd,nkd->nk", diff, diff)
    return out, RBFCache(x, centres, diff)


def euclidean_rbf_backward(dout, cache):
    """dout (N, K) -> dx (N, D) = 2 sum_i dout_i (x - w_i), dcentres (K, D) = -2 sum_n ..."""
    dout = as_dout(dout, cache.diff.shape[:2], OP, cache.x.dtype)
    dx = 2 * np.einsum("nk,nkd->nd", dout, cache.diff)
    dcentres = -2 * np.einsum("nk,nkd->kd", dout, cache.diff)
    return dx, dcentres


@dataclass(frozen=True)
class RBFStep:
    out_index: np.ndarray   # (2,) n, i
    inputs: np.ndarray      # (D,)
    centre: np.ndarray      # (D,)
    squares: np.ndarray     # (D,) (x_j - w_ij)^2
    value: float


@dataclass(frozen=True)
class RBFTrace:
    """One step per output unit (n, i): the input, the centre, the squared differences."""
    x: np.ndarray
    centres: np.ndarray
    out_index: np.ndarray   # (S, 2)
    value: np.ndarray       # (S,)
    op: str = OP

    def __len__(self):
        return len(self.value)

    def __getitem__(self, k):
        n, i = self.out_index[k]
        d = self.x[n] - self.centres[i]
        return RBFStep(self.out_index[k], self.x[n], self.centres[i], d * d, self.value[k])

    def output(self):
        out = np.full((self.x.shape[0], self.centres.shape[0]), np.nan, dtype=self.value.dtype)
        out[tuple(self.out_index.T)] = self.value
        return out

    def winner(self, n: int) -> Optional[int]:
        """The unit nearest to sample n's input (the predicted class)."""
        rows = self.out_index[:, 0] == n
        if not rows.any():
            return None
        return int(self.out_index[rows][np.argmin(self.value[rows]), 1])


def rbf_trace(cache, sample=None):
    """RBFTrace from an RBFCache; one step per output unit (n, i)."""
    check_sample(sample, cache.diff.shape[0])
    idx = grid(cache.diff.shape[:2], sample)
    d = cache.diff[idx[:, 0], idx[:, 1]]
    return RBFTrace(cache.x, cache.centres, idx, np.einsum("sd,sd->s", d, d))
