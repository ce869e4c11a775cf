"""A float64 central finite-difference gradient check, used only by the tests.

The scalar that is differentiated is ``L = sum(out * dout)`` for a fixed random
``dout``, so its gradient with respect to each input is exactly what
``<op>_backward(dout, cache)`` should return.
"""
import numpy as np

EPS = 1e-6
RTOL = 1e-5


def numerical_grad(f, x, eps=EPS):
    """Central-difference gradient of the scalar function ``f()`` w.r.t. array ``x``.

    ``x`` is perturbed in place, one element at a time, and restored afterwards.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: x must be contiguous
    assert np.shares_memory(flat, x)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        plus = f()
        flat[k] = old - eps
        minus = f()
        flat[k] = old
        grad.reshape(-1)[k] = (plus - minus) / (2 * eps)
    return grad


def rel_error(analytic, numeric):
    """max |a - n| over max |a| + max |n|: a scale-aware relative error.

    Dividing by the largest magnitude (not element by element) keeps round-off in
    near-zero entries from dominating, while a wrong entry of normal size still
    shows up at order 1.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = np.max(np.abs(analytic), initial=0.0) + np.max(np.abs(numeric), initial=0.0)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / max(scale, 1e-300))


def check_gradients(forward, backward, inputs, seed=0, rtol=RTOL, eps=EPS):
    """Compare ``backward`` with central differences of ``sum(forward(*inputs) * dout)``.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs) -> (out, cache)``.
    backward : callable
        ``backward(dout, cache) -> grad`` or a tuple of grads, one per input in order;
        a ``None`` entry must match a ``None`` input.
    inputs : list of ndarray or None
        float64 arrays, perturbed in place during the check (and restored).
    """
    rng = np.random.default_rng(seed)
    out, cache = forward(*inputs)
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    assert len(grads) == len(inputs)

    def loss():
        return float(np.sum(forward(*inputs)[0] * dout))

    for k, (x, g) in enumerate(zip(inputs, grads)):
        if x is None:
            assert g is None, f"gradient {k} should be None for a None input"
            continue
        assert g is not None, f"gradient {k} is None"
        assert g.shape == x.shape, f"gradient {k}: shape {g.shape} != input {x.shape}"
        assert g.dtype == np.float64, f"gradient {k}: dtype {g.dtype}, expected float64"
        num = numerical_grad(loss, x, eps)
        err = rel_error(g, num)
        assert err < rtol, f"gradient {k}: relative error {err:.3g} >= {rtol:g}"
    return grads
