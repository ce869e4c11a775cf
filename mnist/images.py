"""The input spec shared by every script: ``default`` (the bundled digit), ``mnist:INDEX``
(a test digit), ``fashion:INDEX`` (a Fashion-MNIST test image) or a picture file, as
float32 grayscale in [0, 1], light ink on dark.

Picture files follow these rules:

- 16-bit images are scaled by their range (0..65535), 8-bit ones by 0..255;
- transparent pixels are filled with the colour opposite to the ink (white behind dark
  ink, black behind light ink), so a drawing on a transparent background always shows;
- ``invert`` turns dark-on-light into MNIST's light-on-dark; an image that is still mostly
  light comes back with a notice that says so;
- images over :data:`MAX_INPUT_PIXELS` are refused from their header, before decoding;
- the EXIF orientation of a photo is applied.

Resizing is the caller's choice (``max_side`` or ``size``) and applies to pictures only.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safeio.paths import input_problem

ASSET = Path(__file__).resolve().parent / "assets" / "mnist_test_0.npy"
ASSET_INDEX, ASSET_LABEL = 0, 7          # MNIST test image #0 is a 7
MAX_INPUT_PIXELS = 4096 * 4096           # larger pictures are refused before decoding
MOSTLY_LIGHT = 0.5                       # mean brightness above which a notice is given
#: spec prefix -> (data set, the name of its test images)
TEST_SETS = {"mnist": ("mnist", "MNIST"), "fashion": ("fashion-mnist", "Fashion-MNIST")}


@dataclass(frozen=True)
class InputImages:
    """Images named by an input spec.

    Attributes
    ----------
    images : ndarray (K, H, W) float32 in [0, 1]
    labels : list of int or None
        The class (the digit for MNIST), None for a picture file.
    indices : list of int or None
        The test-set index, None for a picture file.
    names : list of str
        ``"MNIST test #42"``, ``"Fashion-MNIST test #42"`` or the file name.
    notice : str or None
        Something the user should hear about, e.g. that a picture is mostly light.
    """

    images: np.ndarray
    labels: list
    indices: list
    names: list
    notice: str | None = None


def load_input(spec, *, count: int = 1, invert: bool = False, max_side: int | None = None,
               size: tuple | None = None, data_dir=None) -> InputImages:
    """Load the image(s) named by ``spec``.

    Parameters
    ----------
    spec : str
        ``"default"``: MNIST test image #0 (a 7), bundled, no download;
        ``"mnist:INDEX"``: MNIST test images INDEX .. INDEX+count-1;
        ``"fashion:INDEX"``: the same from the Fashion-MNIST test set;
        ``"toy"``, ``"toy:SEED"`` or ``"toy:SEED:SIZE"``: a 6×6 (or SIZE×SIZE, SIZE from 1 to
        ``TOY_MAX_SIDE``) input of whole numbers 0..3 (:func:`toy_image`);
        ``"ones:SIZE"``: a SIZE×SIZE input of ones (SIZE from 1 to ``TOY_MAX_SIDE``);
        anything else: a path to a picture (PNG, JPEG, ...; see the module docstring).
    count : int
        How many consecutive test images for ``mnist:INDEX`` and ``fashion:INDEX``; other
        specs give one image.
    invert : bool
        ``1 - image`` for a picture file (dark ink on light paper -> MNIST's polarity).
    max_side : int, optional
        Shrink a picture so its longer side is at most this many pixels (aspect kept).
    size : (H, W), optional
        Resize a picture to exactly this shape.
    data_dir : str or os.PathLike, optional
        Data directory for ``mnist:INDEX`` / ``fashion:INDEX``; default: the user cache of
        that set, fetched if absent.

    Raises
    ------
    ValueError
        Malformed spec, index out of range, MNIST not available, or a picture that is
        missing, unreadable or too large. The message starts with ``--input SPEC:``.
    """
    spec = str(spec)
    if spec == "default":
        image = np.load(ASSET).astype(np.float32) / 255
        return InputImages(image[None], [ASSET_LABEL], [ASSET_INDEX],
                           [f"MNIST test #{ASSET_INDEX}"])
    if spec.split(":", 1)[0] in TEST_SETS and ":" in spec:
        return _test_set(spec, count, data_dir)
    if spec == "toy" or spec.startswith("toy:"):
        return _toy(spec)
    if spec.startswith("ones:"):
        return _ones(spec)
    image, notice = read_picture(spec, invert=invert, max_side=max_side, size=size)
    return InputImages(image[None], [None], [None], [Path(spec).name], notice)


TOY_SIDE, TOY_MAX, TOY_MAX_SIDE = 6, 3, 16


def toy_image(seed=0, side=TOY_SIDE):
    """A ``side``² input (default ``TOY_SIDE``) of whole numbers 0..``TOY_MAX`` from ``seed``
    (as in the numerical figures of Dumoulin & Visin's guide): with integer kernels every
    number is exact."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, TOY_MAX + 1, (side, side)).astype(np.float32)


def _toy(spec):
    parts = spec.split(":")
    try:
        seed = int(parts[1]) if len(parts) > 1 else 0
        side = int(parts[2]) if len(parts) > 2 else TOY_SIDE
        if len(parts) > 3 or not 1 <= side <= TOY_MAX_SIDE:
            raise ValueError
    except ValueError:
        raise ValueError(f"--input {spec!r}: expected toy, toy:SEED or toy:SEED:SIZE with "
                         f"integers (SIZE 1 to {TOY_MAX_SIDE})") from None
    return InputImages(toy_image(seed, side)[None], [None], [None],
                       [f"toy {side}×{side} integers 0–{TOY_MAX} (seed {seed})"])


def _ones(spec):
    # a constant input: what a layer does to "nothing", e.g. a transposed convolution's
    # uneven overlap (the checkerboard) shows as the output itself
    try:
        side = int(spec.split(":", 1)[1])
        if not 1 <= side <= TOY_MAX_SIDE:
            raise ValueError
    except ValueError:
        raise ValueError(f"--input {spec!r}: expected ones:SIZE with an integer SIZE from 1 "
                         f"to {TOY_MAX_SIDE}") from None
    return InputImages(np.ones((1, side, side), np.float32), [None], [None],
                       [f"constant {side}×{side} ones"])


def _test_set(spec, count, data_dir):
    prefix, index = spec.split(":", 1)
    dataset, title = TEST_SETS[prefix]
    try:
        start = int(index)
    except ValueError:
        raise ValueError(f"--input {spec!r}: expected {prefix}:INDEX with an integer "
                         "INDEX") from None
    from .load import load_mnist
    try:
        images, labels = load_mnist("test", data_dir, fetch=data_dir is None, dataset=dataset)
    except (OSError, ValueError) as e:     # MnistNotFoundError is an OSError
        raise ValueError(f"--input {spec!r}: cannot load the {title} test set ({e})") from None
    n = len(images)
    if not (0 <= start and start + count <= n):
        if count == 1:
            raise ValueError(f"--input {spec!r}: index {start} out of range, expected "
                             f"0 <= INDEX < {n}")
        raise ValueError(f"--input {spec!r}: digits {start}..{start + count - 1} out of range, "
                         f"expected 0 <= INDEX and INDEX + count <= {n}")
    idx = list(range(start, start + count))
    return InputImages(images[start:start + count].astype(np.float32) / 255,
                       [int(labels[i]) for i in idx], idx, [f"{title} test #{i}" for i in idx])


def read_picture(path, *, invert: bool = False, max_side: int | None = None,
                 size: tuple | None = None):
    """A picture file as a grayscale (H, W) float32 image in [0, 1], and a notice or None.

    See the module docstring for the rules and :func:`load_input` for the parameters.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    spec = str(path)
    path = Path(path)
    problem = input_problem(path)       # a directory, FIFO or device is not "no such file"
    if problem:
        raise ValueError(f"--input {spec!r}: {problem}, expected 'default', 'mnist:INDEX', "
                         "'fashion:INDEX' or a picture file (PNG, JPEG, ...)")
    limit = (f"too large: at most {MAX_INPUT_PIXELS:,} pixels (e.g. 4096×4096) are read; "
             "shrink the picture first")
    try:
        with warnings.catch_warnings():     # Pillow's own bomb warning: we check just below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)           # lazy: reads the header only
    except Image.DecompressionBombError:
        raise ValueError(f"--input {spec!r}: the image is {limit}") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"--input {spec!r}: cannot read the image ({e})") from None
    with im:
        w, h = im.size
        if w * h > MAX_INPUT_PIXELS:
            raise ValueError(f"--input {spec!r}: the image is {w}×{h} pixels, {limit}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = _gray(ImageOps.exif_transpose(im))
        except (OSError, ValueError, SyntaxError) as e:   # truncated or corrupt data
            raise ValueError(f"--input {spec!r}: cannot read the image ({e})") from None
    image = _resize(image, max_side, size)
    if invert:
        image = 1.0 - image
    mean = float(image.mean())
    notice = None
    if mean > MOSTLY_LIGHT:
        fix = ("it was inverted: leave out --invert" if invert else
               "for a dark digit on light paper, add --invert")
        notice = (f"{path.name} is mostly light (mean {mean:.2f}); MNIST digits are light "
                  f"ink on a dark background, {fix}")
    return image, notice


def _gray(im) -> np.ndarray:
    """A decoded PIL image -> (H, W) float32 in [0, 1], by the rules in the module docstring."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":     # 16-bit PNG/TIFF ("I" in older Pillow)
        return np.clip(np.asarray(im, dtype=np.float32) / 65535, 0, 1)
    if mode == "F":
        return np.clip(np.asarray(im, dtype=np.float32), 0, 1)
    transparent = mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in im.info
    if not transparent:
        return np.asarray(im.convert("L"), dtype=np.float32) / 255
    la = np.asarray(im.convert("RGBA").convert("LA"), dtype=np.float32) / 255
    gray, alpha = la[..., 0], la[..., 1]
    weight = alpha.sum()
    ink = float((gray * alpha).sum() / weight) if weight > 0 else 1.0
    background = 1.0 if ink < 0.5 else 0.0          # the colour the ink stands out on
    return (gray * alpha + background * (1 - alpha)).astype(np.float32)


def _resize(image: np.ndarray, max_side: int | None, size: tuple | None) -> np.ndarray:
    from PIL import Image

    h, w = image.shape
    if size is not None:
        new_h, new_w = int(size[0]), int(size[1])
    elif max_side is not None and max(h, w) > max_side:
        scale = max_side / max(h, w)
        new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    else:
        return image
    if (new_h, new_w) == (h, w):
        return image
    # BOX: each output pixel is the mean of the input pixels it covers
    out = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(
        (new_w, new_h), Image.Resampling.BOX)
    return np.clip(np.asarray(out, dtype=np.float32), 0, 1)
