"""The frame skeleton every GIF shares: a title block, three panels side by side, a footer.

::

    +--------------------------------------------------------------+
    | title (the op and its parameters)                            |
    | formula line                                                 |
    |  label 1            label 2              label 3             |
    | +-----------+     +-----------+        +-----------+         |
    | |  panel 1  |     |  panel 2  |        |  panel 3  |         |
    | +-----------+     +-----------+        +-----------+         |
    | subtitle (input, kernel)                     step k / S      |
    +--------------------------------------------------------------+
"""
from .draw import Canvas, text_size
from .palette import BG, DIM, PANEL, TEXT

MARGIN = 16        # around the frame
GAP = 22           # between panels
PAD = 10           # inside a panel, around its content
TITLE_SIZE = 16
FORMULA_SIZE = 14
LABEL_SIZE = 13
FOOT_SIZE = 13
TITLE_H = 52       # title + formula lines
LABEL_H = 22       # panel label above each panel
FOOT_H = 30


class ThreePanels:
    """Positions of the three panels and the static base frame.

    Parameters
    ----------
    sizes : list of 3 (width, height)
        Content size of each panel (the panel adds ``PAD`` on every side).
    labels : list of 3 str
        Panel labels drawn above the panels.
    title : str
        First line (the op call).
    formula : str
        Second line (e.g. the output-size formula with numbers).
    subtitle : str
        Footer text on the left (input and kernel description).
    """

    def __init__(self, sizes, labels, title, formula="", subtitle=""):
        height = max(h for _, h in sizes) + 2 * PAD
        # a panel is at least as wide as its label, so labels never run into each other
        widths = [max(w + 2 * PAD, (text_size(lb, LABEL_SIZE)[0] + 8) if lb else 0)
                  for (w, _), lb in zip(sizes, labels)]
        body_w = sum(widths) + GAP * (len(widths) - 1)
        text_w = max(text_size(title, TITLE_SIZE, "bold")[0],
                     text_size(formula, FORMULA_SIZE)[0] if formula else 0,
                     text_size(subtitle, FOOT_SIZE)[0] + 140 if subtitle else 0)
        width = max(body_w, text_w) + 2 * MARGIN
        x = MARGIN + (width - 2 * MARGIN - body_w) // 2          # centre the panels
        self.top = MARGIN + TITLE_H + LABEL_H
        self.boxes = []                                           # panel outer boxes
        self.extra = [w - (sw + 2 * PAD) for w, (sw, _) in zip(widths, sizes)]
        for w in widths:
            self.boxes.append((x, self.top, x + w, self.top + height))
            x += w + GAP
        self.width, self.height = width, self.top + height + FOOT_H + MARGIN // 2
        self.footer_y = self.top + height + FOOT_H // 2 + 2
        base = Canvas(self.width, self.height, BG)
        base.text(MARGIN, MARGIN, title, size=TITLE_SIZE, color=TEXT, face="bold")
        if formula:
            base.text(MARGIN, MARGIN + 26, formula, size=FORMULA_SIZE, color=TEXT)
        for box, label in zip(self.boxes, labels):
            base.rect(*box, PANEL)
            if label:
                base.text(box[0], box[1] - 7, label, size=LABEL_SIZE, color=DIM, anchor="ld")
        if subtitle:
            base.text(MARGIN, self.footer_y, subtitle, size=FOOT_SIZE, color=DIM, anchor="lm")
        self.base = base

    def origin(self, i):
        """Top-left pixel of panel ``i``'s content area (centred when the panel is wider
        than its content)."""
        return self.boxes[i][0] + PAD + self.extra[i] // 2, self.boxes[i][1] + PAD

    def content_box(self, i):
        x0, y0, x1, y1 = self.boxes[i]
        return x0 + PAD, y0 + PAD, x1 - PAD, y1 - PAD

    def label_box(self, i):
        """Area of panel ``i``'s label (to redraw a label that changes per frame)."""
        x0, y0, x1, _ = self.boxes[i]
        return x0, y0 - LABEL_H, x1, y0 - 1

    def counter(self, canvas, text):
        """Draw the step counter at the right of the footer."""
        canvas.text(self.width - MARGIN, self.footer_y, text, size=FOOT_SIZE, color=TEXT,
                    anchor="rm")

    def new_frame(self):
        return self.base.copy()
