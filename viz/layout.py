"""Layout that measures: renderers declare what a frame shows, this module places it.

A frame is a tree of nodes. Leaves are measured (text by its font, content by the size the
renderer asks for); containers stack and align them. :class:`Layout` places the tree once,
records every leaf box and refuses a frame where two leaves overlap or one leaves the
canvas (:class:`LayoutError`). No renderer computes a pixel position by hand: it reads
``node.box`` after layout and draws there.

Nodes
-----
``Text(s, size, face, color, widest=(), align="l", name=None, width=0, height=0)``
    One line. With ``s`` it is static (drawn in the base frame). ``widest`` reserves room
    for texts written per frame with :meth:`Layout.write` (which raises when a text does
    not fit its slot); ``s=None`` makes a slot with no static text. ``width``/``height``
    make the slot at least that big (text is centred vertically, aligned horizontally).
``Box(w, h, name=None)``
    Content the renderer draws itself (an image, a grid, a plot) in ``node.box``.
``Space(w=0, h=0)``
    Empty room (not recorded).
``Row(*children, gap=GAP, align="t")`` / ``Col(*children, gap=4, align="l")``
    Side by side (aligned ``t``/``m``/``b``) or stacked (aligned ``l``/``c``/``r``).
``Spread(*children, gap=GAP)``
    A row whose first child sits left, last right, the rest evenly between, over the
    whole width its parent gives (a footer, legend ticks).
``Panel(child, label=None, pad=PAD, min_w=0, min_h=0)``
    A panel background with ``pad`` around its child (centred) and a label above.

Example::

    img, out = Box(224, 224, "image"), Box(112, 112, "output")
    step = Text(widest=["step 8888 / 8888"], name="counter")
    lay = Layout(Col(Text("max_pool2d(...)", 16, "bold"),
                     Row(Panel(img, "input"), Panel(out, "output")),
                     Spread(Text("input: a 7", color=DIM), step)))
    cv = lay.new_frame()                 # base: panels and static text drawn
    cv.blit(*img.box[:2], pixels)        # content goes where the layout put it
    lay.write(cv, step, "step 3 / 196")  # per-frame text, checked against its slot

``lay.placed`` lists every leaf as ``(kind, name, box)`` with kind "text", "content" or
"panel"; boxes are ``(x0, y0, x1, y1)``, exclusive at the right and bottom.
"""
from dataclasses import dataclass

import numpy as np

from .draw import Canvas, _glyphs
from .fonts import font
from .palette import BG, DIM, PANEL, TEXT

MARGIN = 16        # around the frame
MAX_WIDTH = 880    # a GIF embedded in a page or a README column is shown at native size up to this
GAP = 22           # between panels
PAD = 10           # inside a panel, around its content
TITLE_SIZE = 16
FORMULA_SIZE = 14
LABEL_SIZE = 13
FOOT_SIZE = 13
LABEL_GAP = 6      # between a panel label and its panel


class LayoutError(ValueError):
    """Two boxes of a frame overlap, a box leaves the canvas, or a text overflows its slot."""


def gap_for(cell):
    """Grid line width between cells of ``cell`` pixels: 1 px when cells are at least 8 px,
    none below (a line would eat the cell)."""
    return 1 if cell >= 8 else 0


def text_box(s, size, face="sans"):
    """``(left, top, right, bottom)`` of text ``s`` drawn with its top-left at (0, 0),
    extended to the font's full line height so every line of one size is equally tall."""
    asc, desc = font(int(size), face).getmetrics()
    if not s:
        return 0, 0, 0, asc + desc
    cover, left, top = _glyphs(s, int(size), face, "la")
    return (min(left, 0), min(top, 0), max(left + cover.shape[1], 0),
            max(top + cover.shape[0], asc + desc))


def measure(s, size, face="sans"):
    """Width and height of text ``s`` (as :func:`text_box` bounds it)."""
    l, t, r, b = text_box(s, size, face)
    return r - l, b - t


def overlaps(boxes):
    """Pairs ``(i, j)``, i < j, of boxes that share at least one pixel."""
    b = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    if len(b) < 2:
        return []
    hit = ((b[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < b[:, None, 2]) &
           (b[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < b[:, None, 3]))
    empty = (b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1])
    hit &= ~empty[:, None] & ~empty[None, :]
    i, j = np.nonzero(np.triu(hit, 1))
    return list(zip(i.tolist(), j.tolist()))


@dataclass(frozen=True)
class Placed:
    kind: str          # "text", "content" or "panel"
    name: str
    box: tuple


class Node:
    name = None
    box = None

    def size(self):
        raise NotImplementedError

    def place(self, x, y, w, h, out):
        """Take the area ``(x, y, w, h)`` given by the parent; set ``self.box``."""
        raise NotImplementedError


class Text(Node):
    def __init__(self, s=None, size=12, face="sans", color=TEXT, widest=(), align="l",
                 name=None, width=0, height=0):
        self.s, self.size_, self.face, self.color = s, int(size), face, color
        self.align, self.name = align, name or s
        cands = ([s] if s else []) + list(widest)
        ws, hs = zip(*[measure(c, self.size_, face) for c in cands]) if cands else ((0,), (0,))
        self._wh = (max(max(ws), int(width)),
                    max(max(hs), measure("", self.size_, face)[1], int(height)))

    def size(self):
        return self._wh

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + self._wh[0], y + self._wh[1])
        out.append(Placed("text", str(self.name), self.box))


class Box(Node):
    def __init__(self, w, h, name=None):
        self._wh, self.name = (int(w), int(h)), name

    def size(self):
        return self._wh

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + self._wh[0], y + self._wh[1])
        out.append(Placed("content", str(self.name), self.box))


class Space(Node):
    def __init__(self, w=0, h=0):
        self._wh = (int(w), int(h))

    def size(self):
        return self._wh

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + w, y + h)


def _offset(free, align):
    return {"l": 0, "t": 0, "c": free // 2, "m": free // 2, "r": free, "b": free}[align]


class Row(Node):
    def __init__(self, *children, gap=GAP, align="t", name=None):
        self.kids, self.gap, self.align, self.name = [c for c in children if c], gap, align, name

    def size(self):
        s = [k.size() for k in self.kids]
        return (sum(w for w, _ in s) + self.gap * max(len(s) - 1, 0), max([h for _, h in s] or [0]))

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + w, y + h)
        for k in self.kids:
            kw, kh = k.size()
            k.place(x, y + _offset(h - kh, self.align), kw, kh, out)
            x += kw + self.gap


class Col(Node):
    def __init__(self, *children, gap=4, align="l", name=None):
        self.kids, self.gap, self.align, self.name = [c for c in children if c], gap, align, name

    def size(self):
        s = [k.size() for k in self.kids]
        return (max([w for w, _ in s] or [0]), sum(h for _, h in s) + self.gap * max(len(s) - 1, 0))

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + w, y + h)
        for k in self.kids:
            kw, kh = k.size()
            spread = isinstance(k, Spread)          # a spread takes the whole width
            k.place(x + (0 if spread else _offset(w - kw, self.align)), y,
                    w if spread else kw, kh, out)
            y += kh + self.gap


def wrapped(s, size, max_w, sep="  ·  ", color=TEXT, gap=2):
    """Text ``s`` as a column of lines no wider than ``max_w`` where it can be, broken after
    each ``sep`` (the parts of a subtitle); one :class:`Text` when it fits."""
    parts = s.split(sep)
    lead = sep.strip() + " " if sep.strip() else ""    # "= " starts a continued equation
    lines = [parts[0]]
    for p in parts[1:]:
        if measure(lines[-1] + sep + p, size)[0] <= max_w:
            lines[-1] += sep + p
        else:
            lines.append(lead + p)
    if len(lines) == 1:
        return Text(s, size, color=color)
    return Col(*[Text(t, size, color=color) for t in lines], gap=gap)


def grid_of(nodes, cols, gap=8):
    """``nodes`` in rows of ``cols`` (the maps of a multi-channel tensor, two a row instead
    of a tall column that leaves the frame half empty)."""
    nodes = [n for n in nodes if n]
    if len(nodes) <= cols:
        return Row(*nodes, gap=gap) if len(nodes) > 1 else (nodes or [None])[0]
    return Col(*[Row(*nodes[i:i + cols], gap=gap) for i in range(0, len(nodes), cols)], gap=gap)


class Spread(Node):
    """With ``max_w``, a spread wider than that puts its last child on a line of its own,
    right-aligned (a long footer under a narrow frame)."""

    def __init__(self, *children, gap=GAP, name=None, max_w=None):
        self.kids, self.gap, self.name = [c for c in children if c], gap, name
        s = [k.size() for k in self.kids]
        self.wrap = (max_w is not None and len(s) > 1 and
                     sum(w for w, _ in s) + self.gap * (len(s) - 1) > max_w)

    def size(self):
        s = [k.size() for k in self.kids]
        if self.wrap:
            return max(w for w, _ in s), sum(h for _, h in s) + 4 * (len(s) - 1)
        return (sum(w for w, _ in s) + self.gap * max(len(s) - 1, 0), max([h for _, h in s] or [0]))

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + w, y + h)
        n = len(self.kids)
        if self.wrap:                   # one child a line, the last one right-aligned
            for i, k in enumerate(self.kids):
                kw, kh = k.size()
                k.place(x + (w - kw if i == n - 1 else 0), y, kw, kh, out)
                y += kh + 4
            return
        for i, k in enumerate(self.kids):
            kw, kh = k.size()
            if n == 1 or i == 0:
                kx = x
            elif i == n - 1:
                kx = x + w - kw
            else:                       # centred on its share of the width
                kx = x + (w * i) // (n - 1) - kw // 2
            k.place(kx, y + (h - kh) // 2, kw, kh, out)


class Stage(Node):
    """The panels of a frame: side by side when they fit ``max_w``, otherwise the outer
    panels (input, output) side by side and the middle ones (the working) below them, each
    row centred. A frame wider than its embedding is shrunk by the page, and its digits
    with it; one taller frame stays readable."""

    def __init__(self, *children, max_w=MAX_WIDTH - 2 * MARGIN, gap=GAP, name=None):
        kids = [c for c in children if c]
        row = Row(*kids, gap=gap)
        outer = Row(kids[0], kids[-1], gap=gap) if len(kids) >= 3 else None
        if row.size()[0] <= max_w or len(kids) < 2:
            self.inner = row
        elif outer is not None and outer.size()[0] <= max_w:
            self.inner = Col(outer, *kids[1:-1], gap=gap, align="c")
        else:                           # wide and short (a signal): one under the other
            self.inner = Col(*kids, gap=gap, align="c")
        self.kids, self.name = [self.inner], name

    def size(self):
        return self.inner.size()

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + w, y + h)
        self.inner.place(x, y, w, h, out)


class Panel(Node):
    def __init__(self, child, label=None, pad=PAD, min_w=0, min_h=0, name=None,
                 label_size=LABEL_SIZE):
        self.child, self.pad, self.min_w, self.min_h = child, pad, min_w, min_h
        self.name = name or label
        self.label = Text(label, label_size, color=DIM, name=f"label {label}") if label else None
        self.panel_box = None

    def _label_h(self):
        return self.label.size()[1] + LABEL_GAP if self.label else 0

    def size(self):
        cw, ch = self.child.size()
        lw = self.label.size()[0] if self.label else 0
        return (max(cw + 2 * self.pad, lw, self.min_w),
                self._label_h() + max(ch + 2 * self.pad, self.min_h))

    def place(self, x, y, w, h, out):
        self.box = (x, y, x + w, y + h)
        if self.label:
            self.label.place(x, y, *self.label.size(), out)
        top = y + self._label_h()
        self.panel_box = (x, top, x + w, y + h)
        out.append(Placed("panel", str(self.name), self.panel_box))
        cw, ch = self.child.size()
        self.child.place(x + (w - cw) // 2, top + self.pad, cw, ch, out)

    @property
    def content_box(self):
        x0, y0, x1, y1 = self.panel_box
        return x0 + self.pad, y0 + self.pad, x1 - self.pad, y1 - self.pad


def _walk(node):
    yield node
    for k in getattr(node, "kids", []):
        yield from _walk(k)
    if isinstance(node, Panel):
        if node.label:
            yield node.label
        yield from _walk(node.child)


class Layout:
    """Place ``root`` with ``margin`` around it and draw the base frame.

    Raises
    ------
    LayoutError
        When two text or content boxes overlap, two panels overlap, or any box leaves
        the canvas. Text and content inside a panel are expected (that is the panel).
    """

    def __init__(self, root, margin=MARGIN, min_width=0, bg=BG):
        self.root = root
        w, h = root.size()
        self.width, self.height = max(w + 2 * margin, int(min_width)), h + 2 * margin
        self.placed = []
        root.place(margin, margin, self.width - 2 * margin, h, self.placed)
        self.check()
        base = Canvas(self.width, self.height, bg)
        for node in _walk(root):
            if isinstance(node, Panel):
                base.rect(*node.panel_box, PANEL)
        for node in _walk(root):
            if hasattr(node, "paint"):             # static content that draws itself (legends)
                node.paint(base)
            if isinstance(node, Text) and node.s:
                self.write(base, node, node.s)
        self.base = base

    def check(self):
        """Raise :class:`LayoutError` on overlapping leaves or panels, or a box off the canvas."""
        for p in self.placed:
            x0, y0, x1, y1 = p.box
            if x0 < 0 or y0 < 0 or x1 > self.width or y1 > self.height:
                raise LayoutError(f"layout: {p.kind} {p.name!r} at {p.box} leaves the "
                                  f"{self.width}×{self.height} canvas")
        for kinds in (("text", "content"), ("panel",)):
            ps = [p for p in self.placed if p.kind in kinds]
            for i, j in overlaps([p.box for p in ps]):
                raise LayoutError(f"layout: {ps[i].kind} {ps[i].name!r} at {ps[i].box} overlaps "
                                  f"{ps[j].kind} {ps[j].name!r} at {ps[j].box}")

    def boxes(self, kind):
        """Boxes of every placed leaf of ``kind`` ("text", "content" or "panel")."""
        return [p.box for p in self.placed if p.kind == kind]

    def new_frame(self):
        return self.base.copy()

    def write(self, cv, node, s, color=None, face=None):
        """Draw ``s`` in text slot ``node`` (aligned as the slot says); returns the ink box.

        Raises :class:`LayoutError` when ``s`` is wider or taller than the slot."""
        face = face or node.face
        l, t, r, b = text_box(s, node.size_, face)
        x0, y0, x1, y1 = node.box
        if r - l > x1 - x0 or b - t > y1 - y0:
            raise LayoutError(f"layout: text {s!r} ({r - l}×{b - t} px) does not fit its slot "
                              f"{node.name!r} ({x1 - x0}×{y1 - y0} px)")
        x = x0 - l + _offset((x1 - x0) - (r - l), node.align)
        y = y0 - t + ((y1 - y0) - (b - t)) // 2          # centred in a taller slot
        return cv.text(x, y, s, size=node.size_, color=node.color if color is None else color,
                       face=face)
