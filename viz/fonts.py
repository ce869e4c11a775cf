"""Fonts that ship with the dependencies: matplotlib's DejaVu Sans and DejaVu Sans Mono.

No system font is needed, so a GIF looks the same on every machine.
"""
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

_FILES = {
    "sans": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "monobold": "DejaVuSansMono-Bold.ttf",
}


@lru_cache(maxsize=None)
def font_dir():
    """Folder holding matplotlib's bundled TrueType fonts."""
    import matplotlib
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=None)
def font(size, face="sans"):
    """A Pillow TrueType font.

    Parameters
    ----------
    size : int
        Pixel size.
    face : {"sans", "bold", "mono", "monobold"}
        DejaVu Sans, DejaVu Sans Bold, DejaVu Sans Mono or DejaVu Sans Mono Bold.
    """
    if face not in _FILES:
        raise ValueError(f"font: face={face!r}, expected one of {sorted(_FILES)}")
    return ImageFont.truetype(str(font_dir() / _FILES[face]), int(size))
