#!/usr/bin/env python
"""The old name of scripts/get_data.py, kept so existing commands work: same options,
MNIST unless --dataset says otherwise."""
import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("get_data.py")), run_name="__main__")
