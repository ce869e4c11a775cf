"""Read a GIF written by :mod:`viz.encode` back into palette indices (for tests and tools)."""
import numpy as np
from PIL import Image

from .palette import palette_rgb


def rgb_to_index(rgb):
    """Palette index of every pixel of an ``(H, W, 3)`` uint8 image; -1 where a colour is not
    in the palette."""
    pal = palette_rgb().astype(np.int64)
    keys = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    order = np.argsort(keys)
    px = rgb[..., :3].astype(np.int64)
    k = (px[..., 0] << 16) | (px[..., 1] << 8) | px[..., 2]
    pos = np.clip(np.searchsorted(keys[order], k), 0, 255)
    found = keys[order][pos] == k
    return np.where(found, order[pos], -1)


def read_gif(path):
    """Decode every frame of a GIF as composited by a viewer.

    Returns
    -------
    frames : list of ndarray (H, W) int
        Palette indices (-1 for colours outside the palette).
    durations : list of int
        Delay of each frame in ms.
    loop : int or None
        The NETSCAPE loop count (0: forever).
    """
    frames, durations = [], []
    with Image.open(path) as im:
        loop = im.info.get("loop")
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(rgb_to_index(np.asarray(im.convert("RGB"))))
            durations.append(int(im.info.get("duration", 0)))
    return frames, durations, loop


def read_map(frame, xy, cell, shape, scale, unit=1.0):
    """Values of a map of cells drawn with :func:`viz.draw.cell_grid` at ``xy`` (cell pitch
    ``cell`` or ``(height, width)``, grid lines as :func:`viz.layout.gap_for` draws them),
    read back through ``scale`` from each cell's most common colour and multiplied by
    ``unit``; NaN where that colour is not on the scale (blank, dimmed)."""
    from .layout import gap_for
    ch, cw = (cell, cell) if np.isscalar(cell) else cell
    g = gap_for(min(ch, cw))
    x0, y0 = xy
    got = np.full(shape, np.nan)
    for r in range(shape[0]):
        for c in range(shape[1]):
            px = frame[y0 + g + r * ch:y0 + (r + 1) * ch, x0 + g + c * cw:x0 + (c + 1) * cw]
            idx = np.bincount(px[px >= 0].ravel()).argmax()
            if scale.contains(idx):
                got[r, c] = scale.value(idx) * unit
    return got
