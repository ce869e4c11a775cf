"""One picture of a network's forward pass on one digit: the digit, every layer's feature
maps as grids, the hidden vectors as strips and the class probabilities as bars.

::

    title: net on DIGIT: predicted 7 (99.9%), true 7
    [digit] → [C1 6 maps] → [S2 6 maps] → [C3 16 maps] → [S4 16 maps]
    [F5 120 ▮▮▮▮▮▮▮▮▮▮▮▮▮▮▮▮]                         [probabilities 0..9]
    [F6 84  ▮▮▮▮▮▮▮▮▮▮▮]
    footer

The numbers are the layers' own outputs (computed by the caller with the model's layers);
this module only draws them.
"""
import numpy as np

from .draw import Canvas, fmt, text_size, upscale
from .layout import MARGIN, PAD
from .palette import ACCENT, BAD, BG, DIM, GOOD, GRID, TEXT, auto_scale, gray_scale

GAP = 26           # between panels (an arrow sits in it)
LABEL_H = 20
TITLE_H = 40
MAP_GAP = 4
MAP_TARGET = 200   # about this many pixels for a grid of maps, per side
CELL_W = 6         # pixels per element of a vector strip
STRIP_H = 26
BARS_W = 300
FOOT_H = 26
KEY_H = 22          # the line naming the classes, when they have names


def _percent(p):
    """A probability as a percentage that never rounds a near-certainty up to 100%."""
    v = 100 * float(p)
    if v >= 100:
        return "100%"
    return f"{v:.1f}%" if v < 99.95 else ">99.9%"


def _grid_shape(n):
    """Columns and rows of a grid of ``n`` maps (2 columns for 6, 4 for 16)."""
    cols = int(np.ceil(np.sqrt(n))) if n > 8 else min(n, 2)
    return cols, -(-n // cols)


class _MapsPanel:
    """A grid of (C, H, W) maps, each upscaled by an integer factor."""

    def __init__(self, label, shape, scale):
        C, H, W = shape
        self.label, self.C, self.H, self.W = label, C, H, W
        self.cols, self.rows = _grid_shape(C)
        self.s = max(1, MAP_TARGET // (max(self.cols * W, self.rows * H)))
        self.width = self.cols * W * self.s + (self.cols - 1) * MAP_GAP
        self.height = self.rows * H * self.s + (self.rows - 1) * MAP_GAP
        self.scale = scale

    def origins(self, x, y):
        return [(x + (c % self.cols) * (self.W * self.s + MAP_GAP),
                 y + (c // self.cols) * (self.H * self.s + MAP_GAP)) for c in range(self.C)]

    def draw(self, cv, x, y, maps):
        for c, (mx, my) in enumerate(self.origins(x, y)):
            cv.blit(mx, my, upscale(self.scale.index(maps[c]), self.s))


def default_scales(maps, vectors):
    """One colour scale per map stage and per vector (gray from 0 for non-negative values,
    diverging otherwise), from the values given: arrays (..., C, H, W) / (..., n), so
    several digits can share scales."""
    return ([auto_scale(m) for _, m in maps], [auto_scale(v) for _, v in vectors])


def render_feature_maps(image, maps, vectors, probs, label=None, title="", footer="",
                        scales=None, classes=None):
    """Draw one forward pass.

    Parameters
    ----------
    image : ndarray (H, W)
        The digit in [0, 1], as shown (not normalised).
    maps : list of (str, ndarray (C, H, W))
        Labelled feature-map stages, in order (e.g. "C1 + relu", 6×28×28).
    vectors : list of (str, ndarray (n,))
        Labelled hidden vectors (e.g. "F5 + relu", 120).
    probs : ndarray (K,)
        Class probabilities (softmax of the logits).
    label : int, optional
        The true class (None: unknown).
    title, footer : str
        Text above and below; the title gets the verdict appended.
    scales : (list of ColorScale, list of ColorScale), optional
        Colour scale of each map stage and each vector (default :func:`default_scales` of
        this digit); pass shared ones to keep colours comparable across digits.
    classes : sequence of str, optional
        Name of each class (e.g. Fashion-MNIST's "T-shirt/top", ...): the verdict names the
        predicted and true classes, and a key under the bars says which number is which.

    Returns
    -------
    frame : ndarray (H, W) uint8
        Palette indices.
    layout : dict
        ``maps`` (per stage: list of map top-left pixels), ``map_scale`` (pixels per
        value), ``vectors`` (strip top-left), ``bars`` (x, y, width, height of each bar),
        ``scales``, ``size``.
    """
    probs = np.asarray(probs, dtype=float)
    map_scales, vec_scales = scales or default_scales(maps, vectors)
    img = np.asarray(image, dtype=float)
    in_s = max(1, 140 // max(img.shape))
    panels = [_MapsPanel(lb, m.shape, sc) for (lb, m), sc in zip(maps, map_scales)]

    # row 1: digit → stage → stage ...; a panel is at least as wide as its label
    labels = [f"{'digit' if classes is None else 'image'} {img.shape[0]}×{img.shape[1]}"] + \
             [f"{p.label}  {p.C}×{p.H}×{p.W}" for p in panels]
    content = [img.shape[1] * in_s] + [p.width for p in panels]
    widths = [max(c, text_size(lb, 12)[0] + 4 - 2 * PAD) for c, lb in zip(content, labels)]
    heights = [img.shape[0] * in_s] + [p.height for p in panels]
    row1_h = max(heights) + 2 * PAD
    row1_w = sum(w + 2 * PAD for w in widths) + GAP * (len(widths) - 1)
    # row 2: strips and bars
    longest = max([len(v) for _, v in vectors], default=0)
    strip_w = longest * CELL_W
    strips_h = len(vectors) * (LABEL_H + STRIP_H) - (LABEL_H - 4 if vectors else 0)
    bars_h = 130
    row2_h = max(strips_h, bars_h) + 2 * PAD
    row2_w = (strip_w + 2 * PAD + GAP if vectors else 0) + BARS_W + 2 * PAD
    width = max(row1_w, row2_w, text_size(title, 16, "bold")[0] + 260) + 2 * MARGIN
    y1 = MARGIN + TITLE_H + LABEL_H
    y2 = y1 + row1_h + GAP + LABEL_H
    height = y2 + row2_h + (KEY_H if classes is not None else 0) + FOOT_H + MARGIN // 2

    cv = Canvas(width, height, BG)
    pred = int(np.argmax(probs))
    named = (lambda k: f"{k} {classes[k]}") if classes is not None else str
    verdict = f"predicted {named(pred)} ({_percent(probs[pred])})"
    if label is not None:
        verdict += f", true {named(label)}"
    tb = cv.text(MARGIN, MARGIN, title, size=16, color=TEXT, face="bold")
    color = DIM if label is None else (GOOD if pred == label else BAD)
    cv.text(tb[2] + 10 if title else MARGIN, MARGIN, verdict, size=16, color=color, face="bold")

    layout = {"maps": [], "map_scale": [], "scales": (map_scales, vec_scales)}
    x = MARGIN + (width - 2 * MARGIN - row1_w) // 2
    for i, (w, c, h, lb) in enumerate(zip(widths, content, heights, labels)):
        cv.panel(x, y1, x + w + 2 * PAD, y1 + row1_h, lb, size=12)
        cx, cy = x + PAD + (w - c) // 2, y1 + (row1_h - h) // 2
        if i == 0:
            cv.blit(cx, cy, upscale(gray_scale(0.0, 1.0).index(img), in_s))
        else:
            p = panels[i - 1]
            p.draw(cv, cx, cy, maps[i - 1][1])
            layout["maps"].append(p.origins(cx, cy))
            layout["map_scale"].append(p.s)
        x += w + 2 * PAD
        if i < len(widths) - 1:
            cv.text(x + GAP // 2, y1 + row1_h // 2, "\u2192", size=18, color=DIM, anchor="mm")
            x += GAP

    # row 2: hidden vectors as strips
    x = MARGIN + (width - 2 * MARGIN - row2_w) // 2
    layout["vectors"] = []
    if vectors:
        cv.panel(x, y2, x + strip_w + 2 * PAD, y2 + row2_h, "hidden layers", size=12)
        sy = y2 + PAD
        for (lb, v), sc in zip(vectors, vec_scales):
            v = np.asarray(v, dtype=float)
            cv.text(x + PAD, sy, f"{lb}  ({len(v)})", size=11, color=DIM)
            sy += LABEL_H - 4
            cv.rect(x + PAD - 1, sy - 1, x + PAD + len(v) * CELL_W + 1, sy + STRIP_H + 1, GRID)
            cv.blit(x + PAD, sy, np.repeat(np.repeat(sc.index(v)[None], STRIP_H, 0), CELL_W, 1))
            layout["vectors"].append((x + PAD, sy))
            sy += STRIP_H + 8
        x += strip_w + 2 * PAD + GAP

    # row 2: probabilities as bars
    cv.panel(x, y2, x + BARS_W + 2 * PAD, y2 + row2_h, "softmax probabilities", size=12)
    K = len(probs)
    ax0, ay1 = x + PAD + 30, y2 + row2_h - PAD - 18          # plot origin (bottom left)
    ah = row2_h - 2 * PAD - 36
    pitch = (BARS_W - 30) // K
    for t in (0.0, 0.5, 1.0):
        ty = ay1 - int(round(t * ah))
        cv.rect(ax0, ty, ax0 + K * pitch, ty + 1, GRID)
        cv.text(ax0 - 4, ty, fmt(t), size=10, color=DIM, anchor="rm")
    bars = []
    for k in range(K):
        bh = int(round(probs[k] * ah))
        bx = ax0 + k * pitch + 3
        bars.append((bx, ay1 - bh, pitch - 6, bh))
        cv.rect(bx, ay1 - bh, bx + pitch - 6, ay1, ACCENT if k == pred else DIM)
        is_true = label is not None and k == label
        cv.text(bx + (pitch - 6) / 2, ay1 + 3, str(k), size=12, color=GOOD if is_true else TEXT,
                face="bold" if is_true else "sans", anchor="mt")
    cv.text(bars[pred][0] + (pitch - 6) / 2, bars[pred][1] - 3, _percent(probs[pred]),
            size=11, color=ACCENT, anchor="md")
    layout["bars"] = bars
    if classes is not None:     # the bars keep their numbers: the names do not fit under them
        cv.text(MARGIN, y2 + row2_h + KEY_H // 2 + 2,
                "classes:  " + "  ·  ".join(f"{k} {c}" for k, c in enumerate(classes)),
                size=12, color=TEXT, anchor="lm")
    if footer:
        cv.text(MARGIN, height - FOOT_H // 2 - 4, footer, size=12, color=DIM, anchor="lm")
    layout["size"] = (width, height)
    return cv.px, layout
