"""Naive loop references for the ops, used only by the tests.

Every function here is written the slow, obvious way: explicit Python loops over the
sample, the channel and the output cell, with padding handled by a bounds check rather
than by ``np.pad``. They share no code with ``ops`` so that a bug there cannot hide
here. All results are float64.
"""
import math

import numpy as np


def pair(v):
    """An int or an (h, w) pair, as an (h, w) tuple of ints."""
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def out_size(size, kernel, stride, padding, dilation):
    """Output length along one axis (the formula in docs/ops.md)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _window_cells(h, w, i, j, k, s, p, d):
    """Yield ``(r, c, row, col, inside)`` for every cell of window (i, j).

    ``row``/``col`` are unpadded input coordinates; ``inside`` says whether the cell
    falls on the input rather than on padding.
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    for r in range(kh):
        for c in range(kw):
            row = i * sh + r * dh - ph
            col = j * sw + c * dw - pw
            yield r, c, row, col, (0 <= row < h and 0 <= col < w)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Cross-correlation, x (N,C,H,W), weight (F,C,kh,kw), bias (F,) -> (N,F,OH,OW)."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    n_, c_, h, w = x.shape
    f_, _, kh, kw = weight.shape
    s, p, d = pair(stride), pair(padding), pair(dilation)
    oh = out_size(h, kh, s[0], p[0], d[0])
    ow = out_size(w, kw, s[1], p[1], d[1])
    out = np.zeros((n_, f_, oh, ow))
    for n in range(n_):
        for f in range(f_):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if bias is None else float(bias[f])
                    for ch in range(c_):
                        for r, c, row, col, inside in _window_cells(
                                h, w, i, j, (kh, kw), s, p, d):
                            if inside:
                                total += x[n, ch, row, col] * weight[f, ch, r, c]
                    out[n, f, i, j] = total
    return out


def max_pool2d_argmax(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling with -inf padding, and where each window's max sits.

    Returns ``out`` (N,C,OH,OW) and ``where`` (N,C,OH,OW,2): the unpadded input
    (row, col) each window routes its gradient to, found as torch's CPU kernel does
    (aten/src/ATen/native/cpu/MaxPoolKernel.cpp): scan the real cells in row-major order
    from the first one with ``v > best or isnan(v)``. So the first max wins ties, a NaN
    wins (the last NaN), and an all -inf window keeps its first real cell. (-1, -1) marks
    a window with no real cell.
    """
    x = np.asarray(x, dtype=np.float64)
    n_, c_, h, w = x.shape
    k = pair(kernel_size)
    s = k if stride is None else pair(stride)
    p, d = pair(padding), pair(dilation)
    oh = out_size(h, k[0], s[0], p[0], d[0])
    ow = out_size(w, k[1], s[1], p[1], d[1])
    out = np.full((n_, c_, oh, ow), -np.inf)
    where = np.full((n_, c_, oh, ow, 2), -1, dtype=np.int64)
    for n in range(n_):
        for ch in range(c_):
            for i in range(oh):
                for j in range(ow):
                    best, at = -math.inf, None
                    for _, _, row, col, inside in _window_cells(h, w, i, j, k, s, p, d):
                        if not inside:
                            continue
                        v = x[n, ch, row, col]
                        if at is None:
                            at = (row, col)
                        # strict '>' keeps the first max on ties
                        if v > best or math.isnan(v):
                            best, at = v, (row, col)
                    out[n, ch, i, j] = best
                    where[n, ch, i, j] = (-1, -1) if at is None else at
    return out, where


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling with -inf padding -> (N,C,OH,OW)."""
    return max_pool2d_argmax(x, kernel_size, stride, padding, dilation)[0]


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0, dilation=1):
    """Route each upstream gradient to its window's argmax cell; overlaps accumulate."""
    _, where = max_pool2d_argmax(x, kernel_size, stride, padding, dilation)
    dx = np.zeros(np.shape(x))
    n_, c_, oh, ow = np.shape(dout)
    for n in range(n_):
        for ch in range(c_):
            for i in range(oh):
                for j in range(ow):
                    row, col = where[n, ch, i, j]
                    if row >= 0:
                        dx[n, ch, row, col] += dout[n, ch, i, j]
    return dx


def relu_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """max_pool2d of relu, as the two loops run one after the other."""
    return max_pool2d(relu(x), kernel_size, stride, padding, dilation)


def relu_max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0, dilation=1):
    """max_pool2d_backward on relu(x), then relu's gradient: it passes where x is not <= 0."""
    dx = max_pool2d_backward(dout, relu(x), kernel_size, stride, padding, dilation)
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0, 0.0, dx)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling, zero padding counted in the divisor -> (N,C,OH,OW)."""
    x = np.asarray(x, dtype=np.float64)
    n_, c_, h, w = x.shape
    k = pair(kernel_size)
    s = k if stride is None else pair(stride)
    p, d = pair(padding), (1, 1)
    oh = out_size(h, k[0], s[0], p[0], 1)
    ow = out_size(w, k[1], s[1], p[1], 1)
    out = np.zeros((n_, c_, oh, ow))
    for n in range(n_):
        for ch in range(c_):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for _, _, row, col, inside in _window_cells(h, w, i, j, k, s, p, d):
                        if inside:
                            total += x[n, ch, row, col]
                    out[n, ch, i, j] = total / (k[0] * k[1])
    return out


def linear(x, weight, bias=None):
    """x (N,in), weight (out,in), bias (out,) -> (N,out)."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    n_, in_ = x.shape
    o_ = weight.shape[0]
    out = np.zeros((n_, o_))
    for n in range(n_):
        for o in range(o_):
            total = 0.0 if bias is None else float(bias[o])
            for k in range(in_):
                total += x[n, k] * weight[o, k]
            out[n, o] = total
    return out


def flatten(x):
    """x (N,...) -> (N, prod(...)), copying element by element in row-major order."""
    x = np.asarray(x, dtype=np.float64)
    n_ = x.shape[0]
    rest = x.shape[1:]
    size = int(np.prod(rest, dtype=np.int64))
    out = np.zeros((n_, size))
    for n in range(n_):
        for k, idx in enumerate(np.ndindex(*rest)):
            out[n, k] = x[(n,) + idx]
    return out


def _elementwise(x, fn):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        out[idx] = fn(float(x[idx]))
    return out


def _sigmoid_scalar(v):
    # the two branches keep math.exp's argument <= 0, so it never overflows
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def relu(x):
    return _elementwise(x, lambda v: 0.0 if v <= 0 else v)   # NaN stays NaN, as in torch


def sigmoid(x):
    return _elementwise(x, _sigmoid_scalar)


def tanh(x):
    return _elementwise(x, math.tanh)


def _rows(x, axis):
    """x with ``axis`` moved last, as a 2-D (rows, K) float64 array plus the moved shape."""
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, one row at a time with the max shift."""
    rows, shape = _rows(x, axis)
    out = np.zeros(rows.shape)
    for r in range(rows.shape[0]):
        top = max(rows[r])
        log_total = math.log(sum(math.exp(v - top) for v in rows[r]))
        for k in range(rows.shape[1]):
            out[r, k] = rows[r, k] - top - log_total
    return np.moveaxis(out.reshape(shape), -1, axis)


def softmax(x, axis=-1):
    """softmax along ``axis``, one row at a time with the max shift."""
    rows, shape = _rows(x, axis)
    out = np.zeros(rows.shape)
    for r in range(rows.shape[0]):
        top = max(rows[r])
        exps = [math.exp(v - top) for v in rows[r]]
        total = sum(exps)
        for k in range(rows.shape[1]):
            out[r, k] = exps[k] / total
    return np.moveaxis(out.reshape(shape), -1, axis)


def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[n, labels[n]]."""
    logp = log_softmax(logits, axis=1)
    n_ = logp.shape[0]
    return sum(-logp[n, int(labels[n])] for n in range(n_)) / n_


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution, x (N,C_in,H,W), weight (C_in,C_out/g,kh,kw) -> (N,C_out,OH,OW):
    each input cell adds x × w into the output window it maps to; cells that land in the
    cropped padding are dropped."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    n_, cin, h, w = x.shape
    _, cpg, kh, kw = weight.shape
    s, p, op, d = pair(stride), pair(padding), pair(output_padding), pair(dilation)
    oh = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    ow = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    cout = cpg * groups
    out = np.zeros((n_, cout, oh, ow))
    ipg = cin // groups
    for n in range(n_):
        for ci in range(cin):
            grp = ci // ipg
            for i in range(h):
                for j in range(w):
                    for co in range(cpg):
                        for r in range(kh):
                            for c in range(kw):
                                row = i * s[0] + r * d[0] - p[0]
                                col = j * s[1] + c * d[1] - p[1]
                                if 0 <= row < oh and 0 <= col < ow:
                                    out[n, grp * cpg + co, row, col] += (
                                        x[n, ci, i, j] * weight[ci, co, r, c])
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out


def _windows_1d(length, k, s, p, d):
    """Yield (i, [(offset, position or None on padding), ...]) for every 1-D window."""
    ol = (length + 2 * p - d * (k - 1) - 1) // s + 1
    for i in range(ol):
        yield i, [(a, i * s + a * d - p if 0 <= i * s + a * d - p < length else None)
                  for a in range(k)]


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    x, weight = np.asarray(x, np.float64), np.asarray(weight, np.float64)
    n_, c_, length = x.shape
    f_, _, k = weight.shape
    wins = list(_windows_1d(length, k, stride, padding, dilation))
    out = np.zeros((n_, f_, len(wins)))
    for n in range(n_):
        for f in range(f_):
            for i, cells in wins:
                total = 0.0 if bias is None else float(bias[f])
                for ch in range(c_):
                    for a, pos in cells:
                        if pos is not None:
                            total += x[n, ch, pos] * weight[f, ch, a]
                out[n, f, i] = total
    return out


def pool1d(x, kind, kernel_size, stride=None, padding=0, dilation=1):
    """max_pool1d (padding -inf) or avg_pool1d (zero padding counted) over (N, C, L)."""
    x = np.asarray(x, np.float64)
    s = kernel_size if stride is None else stride
    n_, c_, length = x.shape
    wins = list(_windows_1d(length, kernel_size, s, padding, dilation))
    out = np.zeros((n_, c_, len(wins)))
    for n in range(n_):
        for ch in range(c_):
            for i, cells in wins:
                vals = [x[n, ch, pos] if pos is not None else None for _, pos in cells]
                if kind == "max":
                    out[n, ch, i] = max(v for v in vals if v is not None)
                else:
                    out[n, ch, i] = sum(v for v in vals if v is not None) / kernel_size
    return out


# ---- LeNet-5 (1998) ops ------------------------------------------------------------------

def subsample2d(x, weight, bias, kernel_size=2, stride=None):
    """weight[c] * (sum of each block of map c) + bias[c] -> (N,C,OH,OW)."""
    x = np.asarray(x, dtype=np.float64)
    n_, c_, h, w = x.shape
    k = pair(kernel_size)
    s = k if stride is None else pair(stride)
    oh = out_size(h, k[0], s[0], 0, 1)
    ow = out_size(w, k[1], s[1], 0, 1)
    out = np.zeros((n_, c_, oh, ow))
    for n in range(n_):
        for ch in range(c_):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for r in range(k[0]):
                        for c in range(k[1]):
                            total += x[n, ch, i * s[0] + r, j * s[1] + c]
                    out[n, ch, i, j] = float(weight[ch]) * total + float(bias[ch])
    return out


def euclidean_rbf(x, centres):
    """out[n, i] = sum_j (x[n, j] - centres[i, j])^2."""
    x = np.asarray(x, dtype=np.float64)
    n_, d_ = x.shape
    k_ = len(centres)
    out = np.zeros((n_, k_))
    for n in range(n_):
        for i in range(k_):
            total = 0.0
            for j in range(d_):
                total += (x[n, j] - float(centres[i, j])) ** 2
            out[n, i] = total
    return out


def scaled_tanh(x):
    return _elementwise(x, lambda v: 1.7159 * math.tanh(2.0 * v / 3.0))


def map_loss(scores, labels, j):
    """Mean over the batch of y_D + log(exp(-j) + sum_i exp(-y_i)), with y = -scores."""
    scores = np.asarray(scores, dtype=np.float64)
    total = 0.0
    for n in range(scores.shape[0]):
        y = [-v for v in scores[n]]
        low = min(min(y), j)    # shift, so that no exp overflows
        s = math.exp(-(j - low)) + sum(math.exp(-(v - low)) for v in y)
        total += y[int(labels[n])] + math.log(s) - low
    return total / scores.shape[0]


def affine_pad2d(x, scale, shift, padding, value=0.0):
    """pad(scale * x + shift) with ``value``, cell by cell."""
    x = np.asarray(x, dtype=np.float64)
    n_, c_, h, w = x.shape
    ph, pw = pair(padding)
    out = np.zeros((n_, c_, h + 2 * ph, w + 2 * pw))
    for n in range(n_):
        for ch in range(c_):
            for i in range(h + 2 * ph):
                for j in range(w + 2 * pw):
                    r, c = i - ph, j - pw
                    inside = 0 <= r < h and 0 <= c < w
                    out[n, ch, i, j] = scale * x[n, ch, r, c] + shift if inside else value
    return out
