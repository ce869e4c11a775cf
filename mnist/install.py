"""Put a verified raw file into a directory: copy under a temporary name while hashing,
rename only when the SHA-256 matches, delete the temporary file otherwise."""
import gzip
import hashlib
import zlib
from pathlib import Path

from safeio.atomic import atomic_write
from .catalog import FILES, get_dataset
from .errors import MnistError

_CHUNK = 1 << 20


def sha256_file(path):
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def install_stream(src, dest_dir, name, expected_sha, origin):
    """Copy the readable binary stream ``src`` to ``dest_dir/name`` if its SHA-256 matches.

    Parameters
    ----------
    src : binary file object
        Raw (uncompressed) content.
    dest_dir : pathlib.Path
        Existing directory; the temporary file is made there so the rename is atomic.
    name : str
        Final file name.
    expected_sha : str
        Hex SHA-256 the content must have.
    origin : str
        Where the content came from, for error messages.

    Returns
    -------
    pathlib.Path
        ``dest_dir / name``.

    Raises
    ------
    MnistError
        Checksum mismatch, or corrupt gzip data while reading ``src``; nothing is left behind.
    """
    final = Path(dest_dir) / name
    with atomic_write(final) as out:
        h = hashlib.sha256()
        try:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise MnistError(f"{origin}: corrupt or truncated gzip data ({e})") from None
        digest = h.hexdigest()
        if digest != expected_sha:
            raise MnistError(f"{origin}: SHA-256 mismatch for {name}: got {digest}, "
                             f"expected {expected_sha}; file discarded")
    return final


def install_file(path, dest_dir, name, expected_sha, gz=None, origin=None):
    """Install ``path`` (raw, or gzip when ``gz`` or its name ends in ``.gz``) as ``dest_dir/name``.

    See :func:`install_stream`; ``path`` itself is never modified.
    """
    path = Path(path)
    gz = path.name.endswith(".gz") if gz is None else gz
    opener = gzip.open if gz else open
    with opener(path, "rb") as src:
        return install_stream(src, dest_dir, name, expected_sha, origin or str(path))


def check_mnist_dir(directory, sha256=None, sizes=None, dataset="mnist"):
    """Say what is wrong with the raw files of ``dataset`` in ``directory``.

    Parameters
    ----------
    directory : str or os.PathLike
    sha256 : dict, optional
        name -> expected hex digest; defaults to the catalog's for ``dataset``.
    sizes : dict, optional
        name -> expected size in bytes, checked before hashing when given.

    Returns
    -------
    dict
        name -> problem ("missing", "size ...", "checksum mismatch") for each bad
        file; empty when all four are present and verified.
    """
    sums = get_dataset(dataset).sha256 if sha256 is None else sha256
    problems = {}
    for name in FILES:
        p = Path(directory) / name
        if not p.is_file():
            problems[name] = "missing"
        elif sizes is not None and p.stat().st_size != sizes[name]:
            problems[name] = f"size {p.stat().st_size} bytes, expected {sizes[name]}"
        elif sha256_file(p) != sums[name]:
            problems[name] = "checksum mismatch"
    return problems
