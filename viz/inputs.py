"""Inputs for the GIFs: the input spec of :mod:`mnist.images`, shrunk to GIF size.

All come back as float32 grayscale arrays in [0, 1] (white ink on black for MNIST).
"""
import sys
from typing import NamedTuple

import numpy as np

from mnist.catalog import class_names
from mnist.images import ASSET, TEST_SETS, load_input, toy_image  # noqa: F401  (re-exported)

MAX_SIDE = 64      # pictures are shrunk to at most this many pixels on the long side


class Loaded(NamedTuple):
    """An input image with what the GIF says of it."""
    image: np.ndarray       # (H, W) float32 in [0, 1] (the toy input: whole numbers 0..3)
    description: str        # where the image came from, for the GIF's footer
    label: int | None       # the test image's class; None for a picture or the toy input


def load_image(spec, *, invert=False):
    """Load the image named by ``spec``, as :func:`mnist.images.load_input` does.

    Parameters
    ----------
    spec : str
        ``"default"``: MNIST test image #0 (a 7), bundled with ``mnist``;
        ``"mnist:INDEX"``: MNIST test image INDEX (0..9999, fetched on first use);
        ``"fashion:INDEX"``: the same from the Fashion-MNIST test set;
        ``"toy"`` or ``"toy:SEED"``: a 6×6 input of whole numbers 0..3 (``mnist.images.toy_image``);
        ``"ones:SIZE"``: a SIZE×SIZE input of ones (a constant input);
        anything else: a picture file, converted to grayscale and shrunk to at most
        ``MAX_SIDE`` pixels on its long side.
    invert : bool
        For a picture: ``1 - image`` (a dark digit on light paper becomes light on dark).

    Returns
    -------
    Loaded
        ``(image, description, label)``: the image (H, W) float32 in [0, 1] (the toy input:
        whole numbers 0..3), where it came from (for the GIF's footer), and the test
        image's class (None for a picture or the toy input), so that nothing loads an
        input twice.

    A notice about the picture (e.g. that it is mostly light) is printed once on stderr.

    Raises
    ------
    ValueError
        The spec is malformed, the index out of range, or the file unreadable or too large.
    """
    got = load_input(spec, invert=invert, max_side=MAX_SIDE)
    if got.notice:
        print(f"note: {got.notice}", file=sys.stderr)
    image, label = got.images[0], got.labels[0]
    if got.indices[0] is not None and label is not None:
        prefix = str(spec).split(":", 1)[0]
        dataset, title = TEST_SETS.get(prefix, TEST_SETS["mnist"])    # "default" is MNIST's
        what = f"a {label}" if dataset == "mnist" else class_names(dataset)[label]
        return Loaded(image, f"{title} test image #{got.indices[0]} ({what})", label)
    if str(spec).startswith(("toy", "ones:")):
        return Loaded(image, got.names[0], label)
    return Loaded(image, f"{got.names[0]} (grayscale, {image.shape[0]}×{image.shape[1]})", label)


def stack_channels(image, channels):
    """A ``(channels, H, W)`` input made from one grayscale image.

    Channel 0 is the image, 1 its mirror image (left-right), 2 the image upside down and
    3 the image rotated by 180°: related but different, so every channel's contribution
    to a convolution can be told apart.

    Parameters
    ----------
    image : ndarray (H, W)
    channels : int
        1 to 4.
    """
    if not 1 <= int(channels) <= 4:
        raise ValueError(f"--channels {channels}: expected 1 to 4")
    views = [image, image[:, ::-1], image[::-1, :], image[::-1, ::-1]]
    return np.ascontiguousarray(np.stack(views[:int(channels)]))
