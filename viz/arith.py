"""Arithmetic a reader can check: numbers shown at a fixed precision, and whether the shown
terms really add up to the shown total (else the frame says ≈ and why)."""
from decimal import Decimal

import numpy as np

from .draw import MINUS, all_integers, fmt

APPROX = "\u2248"
INF = "\u221e"


def decimals_for(*arrays):
    """0 when every number involved is a whole number (every sum is then exact), else 2."""
    return 0 if all(all_integers(a) or np.size(a) == 0 for a in arrays) else 2


def show(v, d):
    """``v`` with exactly ``d`` decimals and a typographic minus."""
    return fmt(v, decimals=d)


def show_grid(a, d):
    """Every number of a 2-D array as :func:`show` writes it: the labels of a grid of cells."""
    return np.array([[show(v, d) for v in row] for row in np.asarray(a, float)])


def number(s):
    """The Decimal a shown string stands for (−∞ as -Infinity)."""
    return Decimal(s.replace(MINUS, "-").replace(INF, "Infinity"))


def adds_up(terms, total):
    """Whether shown ``terms`` (strings) sum exactly to the shown ``total``."""
    return sum((number(t) for t in terms), Decimal(0)) == number(total)


def divides(total, n, mean):
    """Whether shown ``total`` / ``n`` rounds (half to even) to the shown ``mean``."""
    q = Decimal(1).scaleb(number(mean).as_tuple().exponent)
    return (number(total) / Decimal(int(n))).quantize(q) == number(mean)


def product(a, b, d):
    """The shown product of shown numbers ``a`` and ``b``: their exact product rounded (half
    to even) to ``d`` decimals, so that it follows from the factors on screen."""
    q = Decimal(1).scaleb(-int(d))
    v = (number(a) * number(b)).quantize(q)
    return show(float(v), d) if v != 0 else show(0.0, d)


def product_grid(a, b, d):
    """:func:`product` cell by cell of two grids of shown numbers."""
    a, b = np.asarray(a), np.asarray(b)
    return np.array([[product(x, y, d) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)])


def quotient(a, b, d):
    """The shown quotient of shown numbers ``a`` / ``b`` at ``d`` decimals (half to even)."""
    q = Decimal(1).scaleb(-int(d))
    v = (number(a) / number(b)).quantize(q)
    return show(float(v), d) if v != 0 else show(0.0, d)


def decimals_of(s):
    """How many decimals shown number ``s`` has."""
    return max(0, -number(s).as_tuple().exponent)


def exact_product(a, b):
    """The exact product of shown numbers ``a`` and ``b``, with the decimals it needs (2 and
    2 decimals give 4): a product that follows from its factors without rounding."""
    v = number(a) * number(b)
    d = decimals_of(a) + decimals_of(b)
    return show(float(v), d) if v.is_zero() else f"{v:.{d}f}".replace("-", MINUS)


def exact_sum(terms):
    """The exact sum of shown numbers, with as many decimals as the terms."""
    d = max(decimals_of(t) for t in terms)
    v = sum((number(t) for t in terms), Decimal(0))
    return show(0.0, d) if v.is_zero() else f"{v:.{d}f}".replace("-", MINUS)


def signed_sum(terms):
    """``a + b − c`` from shown terms (a leading minus stays on the first term)."""
    out = terms[0]
    for t in terms[1:]:
        out += f" {MINUS} {t[1:]}" if t.startswith(MINUS) else f" + {t}"
    return out


def relation(exact):
    return "=" if exact else APPROX
