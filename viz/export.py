"""An :class:`~viz.frames.Animation` in every format a user needs, from the same frames.

``gif`` (:mod:`viz.encode`), ``html`` (a self-contained step-through player,
:mod:`viz.player`), ``mp4`` (H.264 for slides and pages; the ``video`` extra), ``webp``
(animated, lossless) and ``png`` (one still per frame, or only the tour and the hold, into a
folder). :func:`format_of` picks the format from ``--format`` or the output's extension;
:func:`save` writes it atomically: a failed or interrupted write leaves no partial file and
every existing file as it was.
"""
import math
import os
import re
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from safeio.atomic import atomic_path

from .encode import write_gif
from .palette import BG, palette_rgb
from .png import write_png

FORMATS = ("gif", "html", "mp4", "webp", "png")
SUFFIX = {"gif": ".gif", "html": ".html", "mp4": ".mp4", "webp": ".webp", "png": ""}
_BY_SUFFIX = {".gif": "gif", ".html": "html", ".htm": "html", ".mp4": "mp4", ".webp": "webp",
              ".png": "png"}
STEPS = ("all", "tour")
VIDEO_EXTRA = "MP4 needs the video extra: pip install -e '.[video]' (imageio-ffmpeg)"
MP4_MIN_HEIGHT = 1080   # slides are shown on 1080p screens or larger
MP4_MAX_SIDE = 3840     # ... and players and hardware decoders stop at 4K
MP4_CRF = 16            # digits stay crisp; x264's default 23 smears 1-px strokes
MP4_PRESET = "veryfast"


class ExtraMissing(RuntimeError):
    """An optional dependency (an extra of the package) is not installed."""


def format_of(path, fmt=None):
    """The format to write ``path`` in: ``fmt`` when given, else its extension (``.gif``,
    ``.html``, ``.mp4``, ``.webp``; none: gif). PNG frames go into a folder, so they need
    ``fmt="png"``.

    Raises
    ------
    ValueError
        For an unknown format, or an extension that contradicts ``fmt``.
    """
    suffix = Path(path).suffix.lower() if path is not None else ""
    by_ext = _BY_SUFFIX.get(suffix)
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
        if by_ext and by_ext != fmt:
            raise ValueError(f"{str(path)!r} has the extension {suffix}, expected "
                             f"{SUFFIX[fmt] or 'a folder name'} for format {fmt}")
        if fmt == "png" and suffix == ".png":
            raise ValueError(f"{str(path)!r}: format png writes a folder of frames, expected a "
                             "folder name (no .png)")
        return fmt
    if path is None or not suffix:      # a name without extension was always a GIF
        return "gif"
    if suffix == ".png":
        raise ValueError(f"{str(path)!r}: PNG frames go into a folder: expected format png "
                         "and a folder name (no .png)")
    if by_ext is None:
        raise ValueError(f"{str(path)!r}: unknown extension {suffix}, expected "
                         ".gif, .html, .mp4, .webp or a folder name (png frames)")
    return by_ext


def require(fmt, steps="all"):
    """Check, before any rendering work, that ``fmt`` can be written with ``steps``: raise
    :class:`ExtraMissing` (one line naming the extra) when it needs an optional dependency
    that is not installed, ValueError when ``steps`` does not apply."""
    if steps not in STEPS:
        raise ValueError(f"steps {steps!r}: expected one of {', '.join(STEPS)}")
    if steps != "all" and fmt != "png":
        raise ValueError(f"steps {steps!r}: only with format png (the other formats play "
                         "every frame)")
    if fmt == "mp4":
        _ffmpeg()


def size_of(path):
    """Bytes written: the file's size, or a PNG folder's total."""
    path = Path(path)
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


def output_name(stem, fmt):
    """The default file (or folder) name of an animation ``stem`` in format ``fmt``."""
    return f"{stem}_frames" if fmt == "png" else f"{stem}{SUFFIX[fmt]}"


def save(anim, path, fmt=None, durations=None, steps="all", title=None, use_gifsicle=True,
         min_height=MP4_MIN_HEIGHT):
    """Write ``anim`` to ``path`` in ``fmt`` (None: from the extension, see :func:`format_of`).

    Parameters
    ----------
    anim : Animation
    path : str or Path
        The file, or for ``png`` the folder; its parent folder must exist.
    durations : list of int, optional
        Delay of each frame in ms (default: ``anim.delays()``).
    steps : {"all", "tour"}
        ``png`` only: every frame, or the tour and hold frames (for slides).
    title : str, optional
        The player page's title (``html``).
    min_height : int
        ``mp4``: frames are scaled up by the smallest whole factor reaching this height.

    Returns
    -------
    Path : what was written.
    """
    path = Path(path)
    fmt = format_of(path, fmt)
    require(fmt, steps)
    if not path.parent.is_dir():
        raise ValueError(f"folder {str(path.parent)!r} does not exist")
    durations = list(anim.delays() if durations is None else durations)
    if len(durations) != len(anim):
        raise ValueError(f"{len(durations)} durations for {len(anim)} frames")
    if fmt == "gif":
        return write_gif(path, anim.frames, durations, use_gifsicle=use_gifsicle)
    if fmt == "html":
        from .player import player_html
        with atomic_path(path, fsync=False) as tmp:
            tmp.write_text(player_html(anim, durations, title=title), encoding="utf-8")
        return path
    if fmt == "webp":
        return write_webp(path, anim.frames, durations)
    if fmt == "mp4":
        return write_mp4(path, anim.frames, durations, min_height=min_height)
    keep = range(len(anim)) if steps == "all" else slide_frames(anim)
    return write_png_frames(path, anim.frames, keep, stem=path.name.removesuffix("_frames"))


def slide_frames(anim):
    """The frames a slide deck needs: the tour frames and the last (hold) frame."""
    return sorted(set(anim.tour_frames()) | {len(anim) - 1})


def merged(frames, durations):
    """Frames with each run of identical ones merged into one (their delays added), as the
    GIF encoder does. Returns ``(frames, durations)``."""
    out, d = [frames[0]], [int(durations[0])]
    for f, ms in zip(frames[1:], durations[1:]):
        if np.array_equal(f, out[-1]):
            d[-1] += int(ms)
        else:
            out.append(f)
            d.append(int(ms))
    return out, d


def rgb(frame):
    """A frame of palette indices as ``(H, W, 3)`` uint8 RGB."""
    return palette_rgb()[frame]


# -- webp ------------------------------------------------------------------------------------
def write_webp(path, frames, durations):
    """An animated, lossless WebP (identical neighbouring frames merged), written atomically."""
    frames, durations = merged(frames, durations)
    ims = [Image.fromarray(rgb(f)) for f in frames]
    with atomic_path(path, fsync=False) as tmp:
        # No keyframe after the first (kmin/kmax past the end): every later frame is coded
        # as its change, as in the GIF. On maxpool: 91 KB in 1.3 s, against 3.5 MB with
        # libwebp's default keyframes every few frames.
        n = len(ims)
        ims[0].save(tmp, format="WEBP", save_all=True, append_images=ims[1:], lossless=True,
                    duration=durations, loop=0, method=4, quality=50, kmin=n, kmax=n + 1)
    return Path(path)


# -- mp4 ------------------------------------------------------------------------------------
def _ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ExtraMissing(VIDEO_EXTRA) from None
    return imageio_ffmpeg


def mp4_scale(h, w, min_height=MP4_MIN_HEIGHT, max_side=MP4_MAX_SIDE):
    """The whole scale factor for a ``h × w`` frame: the smallest reaching ``min_height``,
    but no side beyond ``max_side`` (at least 1)."""
    k = max(1, math.ceil(min_height / h))
    return max(1, min(k, max_side // max(h, w)))


def mp4_tick(durations):
    """The video's frame period in ms: the largest multiple of 10 up to 100 ms dividing the
    most common delay, so the sweep keeps its exact pace; longer delays (tour, hold) are
    rounded to whole ticks."""
    vals, counts = np.unique(np.asarray(durations, int), return_counts=True)
    common = int(vals[counts.argmax()])
    return max(t for t in range(10, 101, 10) if common % t == 0) if common % 10 == 0 else 10


def write_mp4(path, frames, durations, min_height=MP4_MIN_HEIGHT):
    """H.264 (yuv420p, constant frame rate, ``+faststart``) that plays in browsers and slide
    software: each frame repeated for its delay, scaled up by a whole factor with
    nearest-neighbour so every digit stays sharp. Written atomically.

    Raises
    ------
    ExtraMissing
        When imageio-ffmpeg (the ``video`` extra) is not installed.
    """
    iio = _ffmpeg()
    h, w = frames[0].shape
    k = mp4_scale(h, w, min_height)
    tick = mp4_tick(durations)
    repeats = [max(1, round(d / tick)) for d in durations]
    # yuv420p needs even sides: pad odd ones with the background before scaling
    ph, pw = (h * k) % 2, (w * k) % 2
    with atomic_path(path, fsync=False) as tmp:
        gen = iio.write_frames(str(tmp), (w + pw, h + ph), fps=Fraction(1000, tick),
                               codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
                               quality=None, macro_block_size=1, ffmpeg_log_level="error",
                               output_params=["-vf", f"scale=iw*{k}:ih*{k}:flags=neighbor",
                                              "-crf", str(MP4_CRF), "-preset", MP4_PRESET,
                                              "-tune", "animation", "-movflags", "+faststart",
                                              "-f", "mp4"])
        gen.send(None)
        try:
            for f, n in zip(frames, repeats):
                if ph or pw:
                    f = np.pad(f, ((0, ph), (0, pw)), constant_values=BG)
                data = np.ascontiguousarray(rgb(f)).tobytes()
                for _ in range(n):
                    gen.send(data)
        finally:
            gen.close()
    return Path(path)


# -- png frames -------------------------------------------------------------------------------
_FRAME_NAME = re.compile(r"^[\w.-]+_\d{4}(_[a-z]+)?\.png$")


def write_png_frames(folder, frames, keep, stem="frame"):
    """One PNG per kept frame, ``STEM_0001.png`` ... (1-based frame numbers), into ``folder``.

    The folder is built beside its final place and renamed in whole, so a reader sees the
    old folder or the new one. An existing folder is replaced only when it holds nothing but
    such frames (a folder of the user's own files is refused).
    """
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise ValueError(f"{str(folder)!r} is a file, expected a folder for the PNG frames")
        foreign = [p.name for p in folder.iterdir() if not _FRAME_NAME.match(p.name)]
        if foreign:
            raise ValueError(f"folder {str(folder)!r} holds other files ({foreign[0]}, ...); "
                             "expected a new folder or one of frames written before")
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    old = None
    try:
        for i in keep:
            write_png(tmp / f"{stem}_{i + 1:04d}.png", frames[i])
        os.chmod(tmp, 0o755)
        if folder.exists():     # swap: the old frames step aside, then go
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old",
                                        dir=folder.parent))
            os.replace(folder, old / "frames")
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if not folder.exists():                 # put the old frames back
                os.replace(old / "frames", folder)
            shutil.rmtree(old, ignore_errors=True)
    return folder
