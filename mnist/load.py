"""Load a split of MNIST or Fashion-MNIST as uint8 arrays."""
from pathlib import Path

import numpy as np

from .catalog import FILES, SPLITS, default_data_dir, get_dataset
from .errors import MnistError, MnistNotFoundError
from .fetch import fetch_mnist
from .idx import read_idx
from .verify import verify_files


def _find(directory, name):
    """``directory/name`` or its ``.gz``, whichever exists (raw first), else None."""
    for p in (directory / name, directory / (name + ".gz")):
        if p.is_file():
            return p
    return None


def load_mnist(split="train", data_dir=None, fetch=True, dataset="mnist"):
    """Load the training or test set of MNIST or Fashion-MNIST.

    Parameters
    ----------
    split : {"train", "test"}
        "train" gives 60000 samples, "test" 10000.
    data_dir : str or os.PathLike, optional
        Directory holding the files (raw or ``.gz``); defaults to :func:`default_data_dir`
        of ``dataset``.
        A directory given here must exist (a mistyped path is refused, never created);
        the default one is created when fetching.
    fetch : bool
        When files are missing, run :func:`fetch_mnist` into ``data_dir`` (True) or raise (False).
    dataset : {"mnist", "fashion-mnist"}
        Which set; its published SHA-256 digests are the ones checked.

    Each file is checked against its SHA-256 (see :mod:`mnist.verify`): hashed on first
    use, then trusted while its size and mtime match the stamp written beside it.

    Returns
    -------
    images : numpy.ndarray
        uint8, shape (N, 28, 28), values 0..255.
    labels : numpy.ndarray
        uint8, shape (N,), values 0..9.

    Raises
    ------
    ValueError
        ``split`` is not "train" or "test", or ``dataset`` is unknown.
    MnistNotFoundError
        (a FileNotFoundError) files missing and ``fetch`` is False, or no source worked.
    MnistError
        A file fails its SHA-256 check, is corrupt or does not hold MNIST-shaped data.
    """
    if split not in SPLITS:
        raise ValueError(f"load_mnist: split={split!r} is invalid, expected 'train' or 'test'")
    ds = get_dataset(dataset)
    directory = Path(data_dir) if data_dir is not None else default_data_dir(ds.name)
    if data_dir is not None and not directory.is_dir():
        raise MnistNotFoundError(
            f"{ds.title} directory {directory} "
            f"{'is not a directory' if directory.exists() else 'does not exist (a typo?)'}. "
            f"Give an existing directory, "
            f"or create and fill it with {ds.fetch_command} --dir {directory}")
    names = SPLITS[split]
    paths = [_find(directory, n) for n in names]
    if None in paths:
        absent = [n for n, p in zip(names, paths) if p is None]
        if not fetch:
            raise MnistNotFoundError(
                f"{ds.title} {split} files missing in {directory}: {', '.join(absent)}. Run "
                f"{ds.fetch_command} to fetch them, or put the four "
                f"files {', '.join(FILES)} (raw or .gz) in that directory.")
        fetch_mnist(directory, dataset=ds.name)
        paths = [directory / n for n in names]

    verify_files(paths, names, ds.name)
    images = read_idx(paths[0], ndim=3)
    labels = read_idx(paths[1], ndim=1)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise MnistError(f"{paths[0]}: holds {images.dtype} images of shape {images.shape}, "
                         "expected uint8 of shape (N, 28, 28)")
    if labels.dtype != np.uint8 or labels.shape[0] != images.shape[0]:
        raise MnistError(f"{paths[1]}: holds {labels.dtype} labels of shape {labels.shape}, "
                         f"expected uint8 of shape ({images.shape[0]},) to match {paths[0].name}")
    if labels.size and labels.max() > 9:
        raise MnistError(f"{paths[1]}: holds label {labels.max()}, expected labels 0..9")
    return images, labels
