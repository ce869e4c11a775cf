"""Inputs for the GIFs: the bundled digit, an MNIST test image, or a picture file.

All come back as float32 grayscale arrays in [0, 1] (white ink on black for MNIST).
"""
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

ASSET = Path(__file__).resolve().parent / "assets" / "mnist_test_0.npy"
MAX_SIDE = 64      # pictures are shrunk to at most this many pixels on the long side


def load_image(spec):
    """Load the image named by ``spec``.

    Parameters
    ----------
    spec : str
        ``"default"``: MNIST test image #0 (a 7) bundled in ``viz/assets``;
        ``"mnist:INDEX"``: MNIST test image INDEX (0..9999, fetched on first use);
        ``"toy"`` or ``"toy:SEED"``: a 6×6 input of whole numbers 0..3 (:func:`toy_image`);
        anything else: a path to a PNG or JPEG, converted to grayscale and shrunk to at most
        ``MAX_SIDE`` pixels on its long side.

    Returns
    -------
    image : ndarray (H, W) float32 in [0, 1] (the toy input: whole numbers 0..3)
    description : str
        Where the image came from, for the GIF's footer.

    Raises
    ------
    ValueError
        The spec is malformed, the index out of range, or the file unreadable.
    """
    spec = str(spec)
    if spec == "default":
        return np.load(ASSET).astype(np.float32) / 255, "MNIST test image #0 (a 7)"
    if spec == "toy" or spec.startswith("toy:"):
        return _toy(spec)
    if spec.startswith("mnist:"):
        return _mnist(spec)
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"--input {spec!r}: no such file, expected 'default', 'mnist:INDEX' "
                         f"or a PNG/JPEG path")
    try:
        with Image.open(path) as im:
            im = im.convert("L")
            if max(im.size) > MAX_SIDE:
                im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
            img = np.asarray(im, dtype=np.float32) / 255
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"--input {spec!r}: cannot read the image ({e})") from None
    return img, f"{path.name} (grayscale, {img.shape[0]}×{img.shape[1]})"


TOY_SIDE, TOY_MAX = 6, 3


def toy_image(seed=0):
    """A ``TOY_SIDE``² input of whole numbers 0..``TOY_MAX`` from ``seed`` (as in the numerical
    figures of Dumoulin & Visin's guide): with integer kernels every number is exact."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, TOY_MAX + 1, (TOY_SIDE, TOY_SIDE)).astype(np.float32)


def _toy(spec):
    try:
        seed = int(spec.split(":", 1)[1]) if ":" in spec else 0
    except ValueError:
        raise ValueError(f"--input {spec!r}: expected toy or toy:SEED with an integer "
                         "SEED") from None
    return toy_image(seed), (f"toy {TOY_SIDE}×{TOY_SIDE} integers 0–{TOY_MAX} (seed {seed})")


def _mnist(spec):
    try:
        index = int(spec.split(":", 1)[1])
    except ValueError:
        raise ValueError(f"--input {spec!r}: expected mnist:INDEX with an integer INDEX") from None
    from mnist import load_mnist           # only imported when asked for
    try:
        images, labels = load_mnist("test", fetch=True)
    except (OSError, ValueError) as e:     # MnistNotFoundError is an OSError
        raise ValueError(f"--input {spec!r}: cannot load the MNIST test set ({e})") from None
    if not 0 <= index < len(images):
        raise ValueError(f"--input {spec!r}: index {index} out of range, expected 0 <= INDEX < "
                         f"{len(images)}")
    return (images[index].astype(np.float32) / 255,
            f"MNIST test image #{index} (a {int(labels[index])})")


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
