"""GIF writing: one global palette, only changed pixels per frame, atomic rename.

Frames arrive as palette indices, so nothing is quantised or dithered. The file has one
global colour table and no local ones. Each frame after the first is cropped to the box
of pixels that changed, and inside it the unchanged pixels become the reserved
``TRANSPARENT`` index (disposal 1: the previous frame stays underneath), which LZW packs
into almost nothing. Pillow's GIF encoder writes the header and compresses every frame
(``GifImagePlugin.getheader`` / ``getdata``). ``gifsicle -O3`` polishes the file when it
is installed.
"""
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image

from safeio.atomic import atomic_path

from .palette import BG, TRANSPARENT, palette_bytes


def frame_durations(n_frames, frame_ms, hold_ms):
    """Per-frame delays in ms: ``frame_ms`` each, the last one ``hold_ms``.

    Both must be multiples of 10 ms (GIF stores centiseconds) and at least 20 ms
    (browsers slow faster frames down to 100 ms)."""
    for name, v in (("frame_ms", frame_ms), ("hold_ms", hold_ms)):
        if int(v) != v or v < 20 or v % 10:
            raise ValueError(f"{name}={v}, expected a multiple of 10 ms that is at least 20 ms")
    d = [int(frame_ms)] * n_frames
    d[-1] = int(hold_ms)
    return d


def _changes(prev, cur):
    """Bounding box ``(x0, y0, x1, y1)`` of the pixels that differ, and the cropped frame with
    unchanged pixels set to ``TRANSPARENT``; ``None`` when nothing changed."""
    diff = cur != prev
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    crop = np.where(diff[y0:y1, x0:x1], cur[y0:y1, x0:x1], np.uint8(TRANSPARENT))
    return (int(x0), int(y0), int(x1), int(y1)), crop


def _as_p(idx):
    """A Pillow "P" image of palette indices with the global palette."""
    im = Image.frombytes("P", (idx.shape[1], idx.shape[0]), np.ascontiguousarray(idx).tobytes())
    im.putpalette(palette_bytes())
    return im


def _gifsicle(path):
    """Run ``gifsicle -O3`` in place when installed; never fail because of it."""
    exe = shutil.which("gifsicle")
    if not exe:
        return False
    try:
        r = subprocess.run([exe, "-O3", "--batch", str(path)], capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def gif_bytes(frames, durations):
    """The animated GIF of ``frames`` as bytes, encoded as :func:`write_gif` does (no
    gifsicle pass); e.g. to embed it in a page or a notebook."""
    _check(frames, durations)
    buf = io.BytesIO()
    _encode(buf, frames, durations)
    return buf.getvalue()


def write_gif(path, frames, durations, use_gifsicle=True):
    """Write an animated GIF atomically (temporary name in the same folder, then rename).

    Parameters
    ----------
    path : str or Path
        Destination; its folder must exist.
    frames : list of ndarray (H, W) uint8
        Palette indices of :func:`viz.palette.palette_rgb`, all the same shape. A frame
        identical to the previous one is merged into it (its delay is added).
    durations : list of int
        Delay of each frame in ms (see :func:`frame_durations`).
    use_gifsicle : bool
        Optimise with ``gifsicle -O3`` when it is on the PATH.

    Returns
    -------
    Path : the written file.
    """
    path = Path(path)
    _check(frames, durations)
    if not path.parent.is_dir():
        raise ValueError(f"write_gif: folder {str(path.parent)!r} does not exist")
    with atomic_path(path, fsync=False) as tmp:
        with open(tmp, "wb") as fp:
            _encode(fp, frames, durations)
        if use_gifsicle:
            _gifsicle(tmp)
    return path


def _check(frames, durations):
    if not frames:
        raise ValueError("write_gif: frames is empty, expected at least one frame")
    if len(durations) != len(frames):
        raise ValueError(f"write_gif: {len(durations)} durations for {len(frames)} frames")
    shape = frames[0].shape
    for f in frames:
        if f.shape != shape or f.dtype != np.uint8:
            raise ValueError(f"write_gif: frame of shape {f.shape} {f.dtype}, "
                             f"expected {shape} uint8 like the first")


def _encode(fp, frames, durations):
    """Write the GIF stream of checked ``frames`` into the binary file object ``fp``."""
    # A frame identical to the one before only lengthens it (as Pillow does).
    parts, delays = [(None, frames[0])], [int(durations[0])]
    for prev, cur, d in zip(frames, frames[1:], durations[1:]):
        ch = _changes(prev, cur)
        if ch is None:
            delays[-1] += int(d)
        else:
            parts.append(ch)
            delays.append(int(d))
    first = _as_p(frames[0])
    header, _ = GifImagePlugin.getheader(first, palette_bytes(),
                                         {"loop": 0, "background": BG,
                                          "transparency": TRANSPARENT})
    fp.writelines(header)
    for (box, crop), d in zip(parts, delays):
        offset = (0, 0) if box is None else box[:2]
        fp.writelines(GifImagePlugin.getdata(_as_p(crop), offset, duration=d, disposal=1,
                                             transparency=TRANSPARENT))
    fp.write(b";")
