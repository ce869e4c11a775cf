"""viz.layout: boxes are measured, stacked without overlap, and bad frames are refused."""
import pytest

from viz.fonts import font
from viz.layout import (Box, Col, Layout, LayoutError, Panel, Row, Space, Spread, Text, measure,
                        overlaps)


def test_text_is_measured_with_its_font():
    w, h = measure("conv2d(x, w)", 16, "bold")
    asc, desc = font(16, "bold").getmetrics()
    assert h == asc + desc
    assert abs(w - font(16, "bold").getlength("conv2d(x, w)")) <= 2
    assert measure("a" * 20, 12)[0] > measure("a" * 10, 12)[0]


def test_stacked_boxes_touch_nothing_and_sit_in_the_canvas():
    a, b, c = Box(50, 40, "a"), Box(30, 90, "b"), Text("a label", 13)
    slot = Text(widest=["step 888 / 888"], align="r", name="counter")
    lay = Layout(Col(Text("title", 16, "bold"), Row(Panel(a, "first panel"), Panel(b, "second")),
                     Spread(c, slot), gap=5))
    assert not overlaps(lay.boxes("text") + lay.boxes("content"))
    for box in lay.boxes("text") + lay.boxes("content") + lay.boxes("panel"):
        assert 0 <= box[0] < box[2] <= lay.width and 0 <= box[1] < box[3] <= lay.height
    assert a.box[3] - a.box[1] == 40 and b.box[2] - b.box[0] == 30
    assert slot.box[2] == lay.width - 16                       # flush right at the margin
    cv = lay.new_frame()
    ink = lay.write(cv, slot, "step 3 / 10")
    assert ink[2] <= slot.box[2] and ink[0] >= slot.box[0]
    assert (cv.px != lay.base.px).any()


def test_text_wider_than_its_slot_is_refused():
    slot = Text(widest=["88"], name="n")
    lay = Layout(Col(slot))
    with pytest.raises(LayoutError, match="does not fit"):
        lay.write(lay.new_frame(), slot, "8888")


class _At(Space):
    """A node that places a leaf where the test says (what hand arithmetic would do)."""

    def __init__(self, leaf, dx, dy):
        super().__init__(10, 10)
        self.leaf, self.dx, self.dy = leaf, dx, dy

    def place(self, x, y, w, h, out):
        self.leaf.place(x + self.dx, y + self.dy, 0, 0, out)


@pytest.mark.parametrize("dx, dy, match", [(5, 5, "overlaps"), (500, 0, "leaves")])
def test_overlaps_and_boxes_off_the_canvas_are_refused(dx, dy, match):
    with pytest.raises(LayoutError, match=match):
        Layout(Col(Box(100, 20, "grid"), _At(Text("x = 1"), dx, dy - 24)))


def test_overlap_pairs():
    assert overlaps([(0, 0, 10, 10), (9, 9, 12, 12), (12, 0, 20, 10)]) == [(0, 1)]
    assert overlaps([(0, 0, 10, 10), (5, 5, 5, 20)]) == []     # empty boxes cover nothing
