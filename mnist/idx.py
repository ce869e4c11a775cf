"""Read and write IDX files (the format of the MNIST distribution), raw or gzip-compressed.

Layout: two zero bytes, a type code, a dimension count ``ndim``, then ``ndim``
big-endian uint32 sizes, then the data in big-endian C order.
"""
import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from safeio.atomic import write_bytes
from .errors import MnistError

# IDX type code -> numpy dtype (stored big-endian in the file).
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(np.int16),
    0x0C: np.dtype(np.int32),
    0x0D: np.dtype(np.float32),
    0x0E: np.dtype(np.float64),
}
_CODES = {dt: code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path):
    """Whole content of ``path``, decompressed when the name ends in ``.gz``."""
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise MnistError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return path.read_bytes()


def read_idx(path, ndim=None):
    """Read one IDX file and check it against its own header.

    Parameters
    ----------
    path : str or os.PathLike
        The file; names ending in ``.gz`` are decompressed.
    ndim : int, optional
        Expected number of dimensions (3 for MNIST images, 1 for labels).

    Returns
    -------
    numpy.ndarray
        Writable array in native byte order with the header's shape
        ``(d0, d1, ...)`` and dtype (uint8 for MNIST).

    Raises
    ------
    MnistError
        Bad magic number or type code, wrong dimension count, truncated header
        or data, trailing bytes, corrupt gzip data. The message names the file.
    FileNotFoundError
        The file does not exist.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise MnistError(f"{path}: truncated IDX file: {len(data)} bytes, "
                         "the header alone needs at least 4")
    magic = data[:4].hex()
    if data[:2] != b"\0\0":
        hint = ("; it looks gzip-compressed, so name it with a .gz suffix"
                if data[:2] == _GZIP_MAGIC else "")
        raise MnistError(f"{path}: bad IDX magic number 0x{magic}: expected two zero bytes, a "
                         f"type code and a dimension count (e.g. 0x00000803){hint}")
    code, nd = data[2], data[3]
    if code not in _DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in _DTYPES)
        raise MnistError(f"{path}: bad IDX magic number 0x{magic}: unknown type code "
                         f"0x{code:02x}, expected one of {known}")
    if nd == 0:
        raise MnistError(f"{path}: bad IDX header: dimension count is 0, expected at least 1")
    if ndim is not None and nd != ndim:
        raise MnistError(f"{path}: IDX header has {nd} dimensions, expected {ndim}")
    header = 4 + 4 * nd
    if len(data) < header:
        raise MnistError(f"{path}: truncated IDX header: {len(data)} bytes, a header with "
                         f"{nd} dimensions needs {header}")
    shape = struct.unpack(f">{nd}I", data[4:header])
    dtype = _DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes after the data"
        raise MnistError(f"{path}: length does not match the header ({what}): {len(data)} "
                         f"bytes, shape {shape} of {dtype.name} needs {expected}")
    big = np.frombuffer(data, dtype=dtype.newbyteorder(">"), offset=header).reshape(shape)
    return big.astype(dtype.newbyteorder("="))  # a copy: writable and native order


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzip-compressed when the name ends in ``.gz``.

    The file is written under a temporary name in the same directory and renamed
    into place, so a reader never sees half a file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    array : array_like
        Any shape ``(d0, ..., dk)`` with 1 to 255 dimensions, each below 2**32;
        dtype uint8, int8, int16, int32, float32 or float64.
    """
    path = Path(path)
    a = np.asarray(array)
    dtype = a.dtype.newbyteorder("=")
    if dtype not in _CODES:
        names = ", ".join(dt.name for dt in _CODES)
        raise TypeError(f"write_idx: array has dtype {a.dtype}, expected one of {names}")
    if not 1 <= a.ndim <= 255:
        raise ValueError(f"write_idx: array has shape {a.shape} ({a.ndim}-D), "
                         "expected 1 to 255 dimensions")
    if max(a.shape) >= 2**32:
        raise ValueError(f"write_idx: array has shape {a.shape}, each size must be below 2**32")
    payload = (bytes([0, 0, _CODES[dtype], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
               + np.ascontiguousarray(a, dtype=dtype.newbyteorder(">")).tobytes())
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)  # mtime=0: same array -> same bytes
    write_bytes(path, payload)
