"""MNIST and Fashion-MNIST: an IDX reader/writer, a fetcher that fills a verified cache, and
a loader that checks SHA-256 at load time (:mod:`mnist.verify`). Also the input spec ``default`` /
``mnist:N`` / picture (:mod:`mnist.images`).

>>> from mnist import load_mnist
>>> images, labels = load_mnist("test")      # uint8 (10000, 28, 28), uint8 (10000,)
>>> images, labels = load_mnist("test", dataset="fashion-mnist")
"""
from .catalog import (DATASETS, FILES, MIRRORS, NPM_PACKAGE, SHA256, class_names,
                      default_data_dir, get_dataset)
from .errors import MnistError, MnistNotFoundError
from .fetch import FetchReport, fetch_mnist, fetch_mnist_report
from .idx import read_idx, write_idx
from .install import check_mnist_dir
from .load import load_mnist

__all__ = [
    "load_mnist", "fetch_mnist", "fetch_mnist_report", "FetchReport", "read_idx", "write_idx",
    "MnistError", "MnistNotFoundError", "default_data_dir", "check_mnist_dir",
    "FILES", "SHA256", "MIRRORS", "NPM_PACKAGE", "DATASETS", "get_dataset", "class_names",
]
