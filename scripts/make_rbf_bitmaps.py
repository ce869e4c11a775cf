#!/usr/bin/env python
"""Draw the 7x12 +-1 digit bitmaps of LeNet-5's RBF output units (nn/assets/rbf_bitmaps.npy).

    python scripts/make_rbf_bitmaps.py            # rewrite nn/assets/rbf_bitmaps.npy
    python scripts/make_rbf_bitmaps.py --show     # print them as text, write nothing

Each digit is rendered in DejaVu Sans Bold (the font viz/ already uses), cropped to its
ink, scaled into the middle 10 of the 12 rows (square cells, glyph centred), averaged over
each cell and thresholded at half ink: +1 for ink, -1 for paper (the paper's Fig. 3 convention).
"""

from __future__ import annotations

import io
import os
import sys

# first of ours, before numpy: a Ctrl-C while importing is then one line
from safeio.cli import ArgumentParser, run_main
import numpy as np
from PIL import Image, ImageDraw
from safeio.atomic import write_bytes
from viz.fonts import font

W, H, SUPER = 7, 12, 40
INK_ROWS = 10   # the top and bottom rows stay blank, as in the paper's Fig. 3
FACE = "bold"   # DejaVu Sans Bold: its zero has no inner dot, unlike the mono face's
OUT = os.path.join("nn", "assets", "rbf_bitmaps.npy")


def draw_digit(d: int) -> np.ndarray:
    """The (12, 7) +-1 bitmap of digit d."""
    size = H * SUPER
    img = Image.new("L", (2 * size, 2 * size), 0)
    ImageDraw.Draw(img).text((size // 2, size // 4), str(d), fill=255,
                             font=font(size, FACE))
    ink = np.asarray(img) > 127
    rows, cols = np.nonzero(ink)
    glyph = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    gh, gw = glyph.shape
    # The box: the glyph's height, widened (or heightened) to 7:12, glyph centred in it.
    cell = max(-(-gh // INK_ROWS), -(-gw // W))         # square cells, glyph fits
    box = np.zeros((H * cell, W * cell))
    top, left = (H * cell - gh) // 2, (W * cell - gw) // 2
    box[top:top + gh, left:left + gw] = glyph
    cover = box.reshape(H, cell, W, cell).mean(axis=(1, 3))
    return np.where(cover >= 0.5, 1.0, -1.0).astype(np.float32)


def bitmaps() -> np.ndarray:
    """(10, 12, 7) bitmaps of the digits 0-9."""
    return np.stack([draw_digit(d) for d in range(10)])


def main(argv=None) -> int:
    p = ArgumentParser(description="Draw LeNet-5's RBF digit bitmaps.")
    p.add_argument("--out", default=OUT, help=f"output .npy (default {OUT})")
    p.add_argument("--show", action="store_true", help="print the bitmaps, write nothing")
    args = p.parse_args(argv)
    maps = bitmaps()
    if args.show:
        for d, m in enumerate(maps):
            print(f"{d}:")
            print("\n".join("".join("#" if v > 0 else "." for v in row) for row in m))
        return 0
    buf = io.BytesIO()
    np.save(buf, maps)
    write_bytes(args.out, buf.getvalue())
    print(f"wrote {args.out}: {maps.shape}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
