#!/usr/bin/env python
"""The old name of scripts/get_data.py, kept so existing commands work: same options,
MNIST unless --dataset says otherwise."""
import sys

from get_data import main, run_main   # the scripts folder is first on sys.path when run as a script

if __name__ == "__main__":
    sys.exit(run_main(main))
