"""Check MNIST files against their SHA-256 at load time, cheaply.

A file is hashed once; its size, modification time and digest then go into a small stamp
file (``.verified.json``) in the same directory, and later loads trust the stamp while the
size and mtime are unchanged. Touching or rewriting the file makes it hashed again.

The expected digests are the published ones of the data set (:data:`mnist.catalog.SHA256`,
:data:`mnist.catalog.FASHION_SHA256`) unless the directory holds a ``SHA256SUMS`` file
(``sha256sum`` format: ``HEX  NAME`` per line): its entries replace them for the files it
lists, so other data in MNIST's format (a test fixture) is checked against its own digests.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from pathlib import Path

from safeio.atomic import write_text
from .catalog import FILES, get_dataset
from .errors import MnistError

STAMP = ".verified.json"
MANIFEST = "SHA256SUMS"
_CHUNK = 1 << 20
_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def content_sha256(path) -> str:
    """Hex SHA-256 of a file's raw content (decompressed when the name ends in ``.gz``)."""
    path = Path(path)
    h = hashlib.sha256()
    try:
        with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise MnistError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return h.hexdigest()


def expected_sha256(directory, dataset="mnist") -> dict:
    """Raw file name -> expected hex SHA-256 for files in ``directory``: the catalog's for
    ``dataset``, updated by the directory's ``SHA256SUMS`` when there is one.

    Raises
    ------
    MnistError
        ``SHA256SUMS`` has a line that is not ``HEX  NAME``.
    """
    sums = dict(get_dataset(dataset).sha256)
    manifest = Path(directory) / MANIFEST
    if manifest.is_file():
        for i, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = _LINE.match(line.strip())
            if m is None:
                raise MnistError(f"{manifest}: line {i} is {line.strip()!r}, expected "
                                 "'HEX  NAME' (64 hex digits, two spaces, a file name)")
            sums[m.group(2).strip()] = m.group(1).lower()
    return sums


def _read_stamp(directory) -> dict:
    try:
        data = json.loads((Path(directory) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}   # no stamp, or a damaged one: everything is hashed again
    return data if isinstance(data, dict) else {}


def verify_files(paths, names, dataset="mnist") -> int:
    """Check each file in ``paths`` (raw or ``.gz``) against the expected SHA-256 of the
    raw file named in ``names`` of ``dataset``; all paths share one directory.

    Returns
    -------
    int
        How many files were hashed (0 when the stamp vouched for all of them).

    Raises
    ------
    MnistError
        A digest differs; the message says how to fetch the file again.
    """
    paths = [Path(p) for p in paths]
    directory = paths[0].parent
    ds = get_dataset(dataset)
    sums = expected_sha256(directory, dataset)
    stamp = _read_stamp(directory)
    hashed = 0
    for path, name in zip(paths, names):
        st = path.stat()
        entry = stamp.get(path.name)
        if (isinstance(entry, dict) and entry.get("size") == st.st_size
                and entry.get("mtime_ns") == st.st_mtime_ns and entry.get("sha256") == sums[name]):
            continue
        digest = content_sha256(path)
        hashed += 1
        if digest != sums[name]:
            if sums[name] == ds.sha256[name]:
                fix = (f"Fetch it again with {ds.fetch_command} --dir {directory}, "
                       "which replaces a damaged file")
            else:
                fix = f"Restore it from where it came from, or correct {directory / MANIFEST}"
            raise MnistError(f"{path}: SHA-256 mismatch (got {digest[:12]}…, expected "
                             f"{sums[name][:12]}…): the file is damaged or is not {ds.title}'s {name}. {fix}")
        stamp[path.name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
    if hashed:
        try:
            write_text(directory / STAMP, json.dumps(stamp, indent=1, sort_keys=True) + "\n",
                       fsync=False)
        except OSError:
            pass    # a read-only directory: still verified, just hashed again next time
    return hashed


def write_manifest(directory, names=None) -> Path:
    """Write ``directory/SHA256SUMS`` with the digests of the files there now (the four
    MNIST names by default), for data in MNIST's format that is not MNIST. Returns its path."""
    directory = Path(directory)
    lines = [f"{content_sha256(directory / n)}  {n}\n" for n in (names or FILES)]
    return write_text(directory / MANIFEST, "".join(lines))
