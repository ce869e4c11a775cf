"""Named convolution kernels for the GIFs (``--kernel``)."""
import numpy as np

_FIXED = {
    "sobel-x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],     # responds to left-to-right increase
    "sobel-y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],     # top-to-bottom increase
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "laplace": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "guide": [[0, 1, 2], [2, 2, 0], [0, 1, 2]],          # Dumoulin & Visin's numerical figures
}
NAMES = tuple(_FIXED) + ("blur", "random", "ints", "ones")
INT_RANGE = (-1, 2)     # "ints": whole-number weights in this range, small enough to add by hand


def make_weight(names, channels, kernel_size, seed=0):
    """Conv weights ``(F, C, kh, kw)`` float32, one filter per name.

    Parameters
    ----------
    names : list of str
        From ``NAMES``. "sobel-x", "sobel-y", "sharpen", "laplace" are 3×3; "blur" is the
        kh×kw box average (all weights 1/(kh·kw)); "random" draws N(0, 1/(C·kh·kw)) weights
        (He-like scale), different for every filter, from ``seed``; "ints" draws whole
        numbers in ``INT_RANGE`` (every sum exact on whole-number inputs); "ones" is all 1.
    channels : int
        Input channels C; a named kernel is used unchanged in every channel.
    kernel_size : (int, int)
    seed : int

    Raises
    ------
    ValueError
        Unknown name, or a 3×3 kernel with another kernel size.
    """
    kh, kw = kernel_size
    rng = np.random.default_rng(seed)
    out = []
    for name in names:
        if name == "random":
            out.append(rng.normal(0.0, 1.0 / np.sqrt(channels * kh * kw), (channels, kh, kw)))
        elif name == "ints":
            out.append(rng.integers(INT_RANGE[0], INT_RANGE[1] + 1, (channels, kh, kw)))
        elif name == "ones":
            out.append(np.ones((channels, kh, kw)))
        elif name == "blur":
            out.append(np.full((channels, kh, kw), 1.0 / (kh * kw)))
        elif name in _FIXED:
            if (kh, kw) != (3, 3):
                raise ValueError(f"--kernel {name} is 3×3, but --kernel-size is {kh}×{kw} "
                                 f"(use blur, random, ints or ones for other sizes)")
            out.append(np.broadcast_to(np.array(_FIXED[name], float), (channels, 3, 3)))
        else:
            raise ValueError(f"--kernel {name!r}: unknown, expected one of {', '.join(NAMES)}")
    return np.stack(out).astype(np.float32)
