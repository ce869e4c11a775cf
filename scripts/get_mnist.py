#!/usr/bin/env python
"""The old name of scripts/get_data.py, kept so existing commands work: same options,
MNIST unless --dataset says otherwise."""
import sys

from safeio.cli import run_main
from mnist.cli import main

if __name__ == "__main__":
    sys.exit(run_main(main))
