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
