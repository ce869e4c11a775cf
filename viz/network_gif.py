"""One digit through a network: its feature maps appear stage by stage, then a zoom into one
cell of each stage (the window of the stage below it reads), then the class scores.

Takes the stages (``training.network.Stage``: names and arrays) and the class probabilities;
this module imports no op and no network.
"""
import numpy as np

from . import grammar
from .chain_gif import sig
from .draw import cell_grid
from .frames import Animation
from .layout import Box, Col, Row, Text
from .palette import ACCENT, BLACK, BLANK, DIM, GRID, TEXT, auto_scale, gray_scale

COL_H = 330             # the tallest column of maps
BAR_W = 80
PACE_MS = 1200


def _grid_of(stage_out, max_px=8):
    """How a stage's output is tiled: (maps, rows of maps, cols of maps, cell px)."""
    a = np.asarray(stage_out, float)
    if a.ndim == 3:
        c, h, w = a.shape
        cols = 1 if c <= 6 else 2
        rows = -(-c // cols)
        px = max(1, min(max_px, (COL_H - 3 * rows) // (rows * h)))
        return [a[k] for k in range(c)], rows, cols, px
    n = a.size
    cols = 6 if n > 16 else 1
    m = np.full(-(-n // cols) * cols, np.nan)
    m[:n] = a.ravel()
    m = m.reshape(-1, cols)
    px = max(4, min(max_px if n > 16 else 16, COL_H // m.shape[0]))
    return [m], 1, 1, px


class Tiles:
    """A stage's maps tiled into one content box; knows where each cell is."""

    def __init__(self, values, name, scale=None, max_px=8):
        self.maps, self.rows, self.cols, self.px = _grid_of(values, max_px)
        self.vector = np.asarray(values).ndim == 1
        self.h, self.w = self.maps[0].shape
        self.gap = 3
        finite = np.concatenate([m[np.isfinite(m)] for m in self.maps])
        self.scale = scale or auto_scale(finite)
        self.node = Box(self.cols * (self.w * self.px + self.gap),
                        self.rows * (self.h * self.px + self.gap), name)

    def origin(self, k):
        x, y = self.node.box[:2]
        return (x + (k % self.cols) * (self.w * self.px + self.gap),
                y + (k // self.cols) * (self.h * self.px + self.gap))

    def draw(self, cv):
        for k, m in enumerate(self.maps):
            idx = self.scale.index(np.where(np.isfinite(m), m, 0)).astype(np.uint8)
            idx[~np.isfinite(m)] = BLANK
            cell_grid(cv, *self.origin(k), idx, self.px, 1 if self.px >= 8 else 0)

    def blank(self, cv):
        x0, y0, x1, y1 = self.node.box
        cv.rect(x0, y0, x1, y1, BLANK)

    def ring(self, cv, cell=None, region=None):
        """Ring one cell (map k, r, c) / a vector element, or a region of every map (None:
        all of it)."""
        if self.vector and cell is not None:
            k, (r, c) = 0, divmod(cell[0], self.w)
            boxes = [(k, r, r, c, c)]
        elif cell is not None:
            boxes = [(cell[0], cell[1], cell[1], cell[2], cell[2])]
        elif region is not None and not self.vector:
            boxes = [(k,) + (region[0], region[1], region[2], region[3])
                     for k in range(len(self.maps))]
        else:
            x0, y0, x1, y1 = self.node.box
            cv.outline(x0 - 3, y0 - 3, x1 + 3, y1 + 3, ACCENT, 2)
            return
        for k, r0, r1, c0, c1 in boxes:
            x, y = self.origin(k)
            cv.outline(x + c0 * self.px - 2, y + r0 * self.px - 2, x + (c1 + 1) * self.px + 2,
                       y + (r1 + 1) * self.px + 2, BLACK, 1)
            cv.outline(x + c0 * self.px - 1, y + r0 * self.px - 1, x + (c1 + 1) * self.px + 1,
                       y + (r1 + 1) * self.px + 1, ACCENT, 1 if self.px < 4 else 2)


def render_network(image, stages, probs, subtitle="", label=None, title=None, formula=None):
    """Render the stages of a network on one digit to frames.

    Returns
    -------
    Animation : ``phases`` "overview" (a stage appears per frame), "zoom" (one cell per
    stage), then "hold" (the class scores); ``texts`` per frame; ``layout["tiles"]`` where
    each stage's maps are (for reading back) and ``layout["bars"]`` the scores' bars.
    """
    img = np.asarray(image, float)
    names = ["input"] + [s.name for s in stages]
    tiles = [Tiles(img[None] if img.ndim == 2 else img, "input",
                   gray_scale(float(img.min()), float(img.max())), max_px=4)]
    tiles += [Tiles(s.out, s.name) for s in stages]
    labels = ["input"] + [s.label.split(":")[0] for s in stages]
    shapes = ["×".join(map(str, np.shape(a))) for a in [img] + [s.out for s in stages]]
    cols = [Col(Text(lab, 11, color=TEXT, name=f"label {n}"),
                Text(sh, 10, color=DIM, name=f"shape {n}"), t.node, gap=2)
            for lab, sh, t, n in zip(labels, shapes, tiles, names)]
    pred = int(np.argmax(probs))
    bars = [Box(BAR_W, 14, f"bar {k}") for k in range(len(probs))]
    pct = [f"{100 * p:.2f} %" for p in probs]
    score_rows = [Row(Text(str(k), 12, "mono", color=TEXT), b,
                      Text(None, 11, "mono", widest=["100.00 %"], name=f"pct {k}"), gap=6,
                      align="m") for k, b in enumerate(bars)]
    scores = Col(*score_rows, gap=4)

    captions, works = [], []
    for i, s in enumerate(stages):
        captions.append(f"{s.label}: {np.asarray(s.out).size} numbers")
    for i, s in enumerate(stages):
        below = labels[i]
        cell = "[" + ", ".join(map(str, s.cell)) + "]"
        if s.kind == "conv":
            captions.append(f"zoom: {s.name}{cell} reads a {s.region[1] - s.region[0] + 1}×"
                            f"{s.region[3] - s.region[2] + 1} window of every {below} map")
            work = (f"{s.name}{cell} = Σ of {s.reads} products w·x + b = {sig(s.pre[s.cell])}"
                    + (f";  after the activation: {sig(s.out[s.cell])}"
                       if len(s.names) > 1 else ""))
        elif s.kind in ("maxpool", "avgpool"):
            captions.append(f"zoom: {s.name}{cell} pools a {s.region[1] - s.region[0] + 1}×"
                            f"{s.region[3] - s.region[2] + 1} window of {below}")
            work = (f"{s.name}{cell} = {'max' if s.kind == 'maxpool' else 'mean'} of "
                    f"{s.reads} cells = {sig(s.out[s.cell])}")
        else:
            captions.append(f"zoom: {s.name}{cell} reads every number of {below}")
            work = (f"{s.name}{cell} = Σ of {s.reads} products W·x + b = {sig(s.pre[s.cell])}"
                    + (f";  after the activation: {sig(s.out[s.cell])}"
                       if len(s.names) > 1 else ""))
        works.append(work)
    verdict = f"prediction: {pred} ({pct[pred]})" + \
        ("" if label is None else f"  ·  label: {label}")
    captions.append("class scores: softmax of the logits — " + verdict)
    cap = Text(None, grammar.CAPTION_SIZE, "bold", ACCENT, name="caption", widest=captions)
    work = Text(None, 13, "mono", name="work", widest=works)
    n_st = len(stages)
    fr = grammar.Frame(title or "One digit through the network",
                       formula if formula is not None else
                       "each stage's maps are the model's own layer outputs; the zoom shows "
                       "what one cell reads",
                       [(Row(*cols, gap=10), "stage by stage"), (scores, "class scores")],
                       subtitle, [f"stage {n_st} / {n_st}", f"zoom {n_st} / {n_st}",
                                  "class scores"], lead=4, caption=Col(cap, work, gap=2))
    lay, counter = fr.lay, fr.counter
    tiles[0].draw(lay.base)

    def draw_scores(cv):
        for k, (b, p) in enumerate(zip(bars, probs)):
            x0, y0, x1, y1 = b.box
            cv.rect(x0, y0, x1, y1, GRID)
            w = int(round(p * (x1 - x0)))
            cv.rect(x0, y0, x0 + w, y1, ACCENT if k == pred else DIM)
            lay.write(cv, lay_pct[k], pct[k], color=ACCENT if k == pred else TEXT)

    lay_pct = [r.kids[2] for r in score_rows]
    frames, phases, texts = [], [], []
    for t in range(n_st):                       # overview: the stages appear
        cv = lay.new_frame()
        for k in range(1, n_st + 1):
            (tiles[k].draw if k <= t + 1 else tiles[k].blank)(cv)
        lay.write(cv, cap, captions[t])
        lay.write(cv, counter, f"stage {t + 1} / {n_st}")
        frames.append(cv.px)
        phases.append("overview")
        texts.append({"caption": captions[t]})
    for t, s in enumerate(stages):              # zoom: one cell per stage
        cv = lay.new_frame()
        for k in range(1, n_st + 1):
            tiles[k].draw(cv)
        tiles[t + 1].ring(cv, cell=s.cell)
        tiles[t].ring(cv, region=s.region)
        lay.write(cv, cap, captions[n_st + t])
        lay.write(cv, work, works[t])
        lay.write(cv, counter, f"zoom {t + 1} / {n_st}")
        frames.append(cv.px)
        phases.append("zoom")
        texts.append({"caption": captions[n_st + t], "work": works[t]})
    cv = lay.new_frame()
    for k in range(1, n_st + 1):
        tiles[k].draw(cv)
    tiles[-1].ring(cv, cell=(pred,))
    draw_scores(cv)
    lay.write(cv, cap, captions[-1])
    lay.write(cv, counter, "class scores")
    frames.append(cv.px)
    phases.append("hold")
    texts.append({"caption": captions[-1], "scores": pct})
    layout = {"tiles": {n: (t.maps, [t.origin(k) for k in range(len(t.maps))], t.px, t.scale)
                        for n, t in zip(names, tiles)},
              "bars": [b.box for b in bars], **grammar.record(lay, fr.panels)}
    return Animation(frames, np.arange(len(frames)), layout, frame_ms=PACE_MS, hold_ms=6000,
                     phases=phases, texts=texts)
