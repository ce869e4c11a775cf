"""Keep freed memory in the process instead of handing it back to the OS.

A training step allocates and frees the same few large arrays (im2col columns, layer
outputs) every step. glibc's defaults give large blocks back to the OS on free, so the
next step page-faults them in again. Measured on LeNet-5 at batch 128 (2 cores): 23-27 ms
per step with the defaults, 16-17 ms with this setting (``python scripts/bench_train.py``).
"""
import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds (once per process); False where there is no glibc."""
    global _done
    if _done:
        return True
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        ok = bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)) and \
            bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20))  # 32 MiB: glibc's maximum
    except (OSError, AttributeError, TypeError):
        return False
    _done = ok
    return ok
