"""Still images written atomically: a palette frame as PNG, a matplotlib figure as PNG."""
from pathlib import Path

import numpy as np
from PIL import Image

from safeio.atomic import atomic_write

from .palette import palette_bytes


def write_png(path, frame):
    """Write a frame of palette indices ``(H, W)`` uint8 as a PNG, atomically (temporary
    name in the same folder, then rename). Returns the path."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"write_png: folder {str(path.parent)!r} does not exist")
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    im = Image.frombytes("P", (frame.shape[1], frame.shape[0]), frame.tobytes())
    im.putpalette(palette_bytes())
    with atomic_write(path, fsync=False) as f:
        im.save(f, format="PNG", optimize=True)
    return path


def save_figure(fig, path, dpi=110):
    """Save a matplotlib figure as PNG atomically and close it. Returns the path."""
    import matplotlib.pyplot as plt
    path = Path(path)
    try:
        with atomic_write(path, fsync=False) as f:
            fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
