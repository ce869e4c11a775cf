"""Every gallery GIF, written and decoded: on every tour frame, each product, quotient and sum
the frame prints follows from the operands printed beside it at the precision they are
printed with, or says ≈ with a reason on the frame.

The text is read back from the decoded pixels: :class:`viz.readback.TextLog` knows where each
string was drawn, and :func:`viz.readback.printed` keeps only the strings whose glyphs, in
the real font at their size, are exactly the decoded pixels there (a covered, clipped or
different string is not read). The arithmetic then uses only what is read, laid out as a
viewer reads it:

* a line of text: "−0.93 + 0.00 = −0.93", "p[9] = 0.11 / 1.51 = 0.07", a working broken
  over lines that go on with "+ …" or "= …";
* a row of grids and numbers around a lone "=": ``[x] × [w] = [x·w]``, ``[w] × 4.32 = [adds]``,
  ``−4.55 / 4 = [share]``, cell by cell;
* a column of labelled rows (the 1-D GIFs): ``[x]``, "× w", ``[w]``, "= x · w", ``[p]``;
* "Σ = s" beside the grid it sums, and the lines under it that add to it ("+ b[8] = …",
  "y[8] ≈ …").
"""
import re
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest

from recipes import GALLERY, gallery_args, render
from viz.encode import write_gif
from viz.readback import (OPERATORS, TextLog, evaluate, follows, is_number, printed,
                          read_gif, tokens)
from conftest import gif_parser

APPROX = "\u2248"
GAP = 120           # px: the most between the items of one equation in a row


@pytest.fixture(scope="module")
def parser():
    return gif_parser()[0]


# -- what a frame prints -------------------------------------------------------------------
class Page:
    """What one decoded frame prints: ``grids`` (cells read back, by (r, c)), ``inks`` (the
    other strings read back), and the checks made on them."""

    def __init__(self, frame, inks, grids):
        cells = {id(k) for g in grids for k in g.cells.values()}
        self.inks = [k for k in inks if id(k) not in cells and k.s.strip() and printed(frame, k)]
        self.grids = []
        for g in grids:
            got = {rc: k.s for rc, k in g.cells.items() if k.s and printed(frame, k)}
            # a cell's number written again on top of it (an inserted zero, boxed) is its number
            (x0, y0, x1, y1), (rows, cols) = g.box, g.shape
            for k in [k for k in self.inks if x0 <= k.middle[0] < x1 and y0 <= k.middle[1] < y1]:
                rc = (int((k.middle[1] - y0) * rows // (y1 - y0)),
                      int((k.middle[0] - x0) * cols // (x1 - x0)))
                if rc not in got and tokens(k.s) and is_number(tokens(k.s)):
                    got[rc] = k.s
                    self.inks.remove(k)
            if got:
                self.grids.append((g.box, g.shape, got))
        self.checked = []       # (what, ok)
        self.approx = []        # what says ≈
        self.used = set()       # ids of inks a rule read
        self.results = []       # boxes of grids that are a product's result
        self.cells = 0          # result cells checked against their operands
        self.kinds = Counter()  # statements read: "product", "quotient", "sum"
        self.texts = _statements(self.inks)
        self.reason = any(k.s.lstrip().startswith(APPROX) and ":" in k.s[:3] for k in self.inks)

    def check(self, what, ok, kinds):
        self.checked.append((what, bool(ok)))
        self.kinds.update(kinds)

    def says_approx(self, what, kinds):
        self.approx.append(what)
        self.kinds.update(kinds)

    def failures(self):
        return [w for w, ok in self.checked if not ok]


class Text:
    """One statement as printed: one ink, or a label ending in "=" and the number printed
    right of it ("Σ x·W =" "−0.0426")."""

    def __init__(self, parts):
        self.parts = parts
        self.s = " ".join(k.s for k in parts)
        self.box = (min(k.box[0] for k in parts), min(k.box[1] for k in parts),
                    max(k.box[2] for k in parts), max(k.box[3] for k in parts))


def _statements(inks):
    out, taken = [], set()
    for k in inks:
        if id(k) in taken:
            continue
        s = k.s.strip()
        if s[-1:] in ("=", APPROX) and len(s) > 1:
            y = (k.box[1] + k.box[3]) / 2
            right = [j for j in inks if j is not k and _vband(j.box, y) and
                     0 <= j.box[0] - k.box[2] <= 30 and is_number(tokens(j.s))]
            if right:
                j = min(right, key=lambda j: j.box[0])
                taken.update((id(k), id(j)))
                out.append(Text([k, j]))
                continue
        out.append(Text([k]))
    return [t for t in out if not any(id(k) in taken for k in t.parts) or len(t.parts) == 2]


def _literal(toks):
    return "".join(toks).replace("-", "\u2212")


def _kinds(*toks):
    """What printed arithmetic ``toks`` does: "product" (× ·), "quotient" (/), "sum" (+, or
    − between two operands)."""
    out = set()
    for t in toks:
        for k, u in enumerate(t or []):
            if u in ("\u00d7", "\u00b7"):
                out.add("product")
            elif u == "/":
                out.add("quotient")
            elif u == "+" or (u in ("-", "\u2212") and k and (t[k - 1][0].isdigit() or
                                                              t[k - 1] in (")", "\u230b"))):
                out.add("sum")
    return out


def _vband(box, y):
    return box[1] <= y < box[3]


def _hover(a, b):
    return a[0] < b[2] and b[0] < a[2]


# -- a line of text ------------------------------------------------------------------------
_CONT = re.compile(r"^[+\u2212\u00d7\u00b7/=\u2248)] ")


def _mathy(s):
    """Text that is arithmetic only (a working line, even with a bracket still open)."""
    return tokens(re.sub("[=\u2248]", " ", s)) is not None and any(ch.isdigit() for ch in s)


def _lines(page):
    """The page's free texts, a line that goes on from the one above ("+ 0.95 …", "= 0.73")
    joined to it."""
    inks = sorted(page.texts, key=lambda k: (k.box[1], k.box[0]))
    joined, of = [], {}
    for k in inks:
        if _CONT.match(k.s):
            above = [j for j in inks if j.box[3] <= k.box[1] + 1 and _hover(j.box, k.box)
                     and k.box[1] - j.box[3] <= 3 * (k.box[3] - k.box[1]) + 10
                     and _mathy(j.s) and id(j) in of]
            if above:
                head = of[id(max(above, key=lambda j: j.box[3]))]
                joined[head][0] += " " + k.s
                joined[head][1].extend(k.parts)
                of[id(k)] = head
                continue
        of[id(k)] = len(joined)
        joined.append([k.s, list(k.parts)])
    return joined


def _chains(page):
    """Every line's chain of "=" / "≈": each step whose two sides are arithmetic follows."""
    for text, inks in _lines(page):
        if "=" not in text and APPROX not in text:
            continue
        # clauses two spaces apart are separate statements, unless one goes on with = or ≈
        for clause in re.split(r"\s{2,}(?![=\u2248])", text):
            parts = re.split(r"\s*([=\u2248])\s*", clause)
            sides, rels = parts[::2], parts[1::2]
            toks = [tokens(s) for s in sides]
            vals = [evaluate(t) if t else None for t in toks]
            for j, rel in enumerate(rels):
                a, b = (toks[j], vals[j]), (toks[j + 1], vals[j + 1])
                if a[1] is None or b[1] is None or (is_number(a[0]) and is_number(b[0])):
                    continue
                for k in inks:
                    page.used.add(id(k))
                what, kinds = f"{sides[j]} {rel} {sides[j + 1]}", _kinds(a[0], b[0])
                if rel == APPROX:
                    page.says_approx(what, kinds)
                elif is_number(b[0]):
                    page.check(what, follows(a[1], _literal(b[0])), kinds)
                elif is_number(a[0]):
                    page.check(what, follows(b[1], _literal(a[0])), kinds)
                else:               # one working rewritten: a part of it replaced by its value
                    page.check(what, _rewrites(a[0], b[0]), kinds)


def _rewrites(a, b):
    """Whether tokens ``b`` are ``a`` with one part replaced by that part's printed value
    ("1 / (1 + exp(−1.00))" → "1 / (1 + 0.37)"; "(0.52 + … + 0.86) / 9" → "8.31 / 9")."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    part, value = a[i:len(a) - j], b[i:len(b) - j]
    v = evaluate(part) if part else None
    return v is not None and is_number(value) and follows(v, _literal(value))


# -- rows and columns of grids -------------------------------------------------------------
def _units(item):
    """An item of a row as operands and operators in reading order: a grid is one operand
    ``("grid", cells)``; printed text such as "× −4.55" is an operator and a number
    ``("num", "−4.55")``; None for text that is not arithmetic."""
    if item[0] == "grid":
        return [("grid", item[1], item[3])]
    toks = tokens(item[1].s)
    if toks is None:
        return None
    out, i = [], 0
    while i < len(toks):
        t = toks[i]
        operand_next = not out or out[-1][0] == "op"
        if operand_next and t in ("-", "\u2212") and i + 1 < len(toks) and toks[i + 1][0].isdigit():
            out.append(("num", _literal(toks[i:i + 2])))
            i += 2
        elif t[0].isdigit():
            out.append(("num", t))
            i += 1
        elif t in OPERATORS:
            out.append(("op", t))
            i += 1
        else:
            return None
    return out


def _cellwise(page, what, operands, ops, result):
    """``operands`` (grids or numbers) joined by ``ops`` equal grid/number ``result`` cell by
    cell: a result cell printed without its operands printed beside it fails."""
    cells = {(0, 0): result[1]} if result[0] == "num" else result[1]
    page.cells += len(cells)
    for rc, shown in cells.items():
        toks = []
        for k, opd in enumerate(operands):
            if k:
                toks.append(ops[k - 1])
            v = opd[1] if opd[0] == "num" else opd[1].get(rc)
            if v is None:
                page.check(f"{what} at {rc}: {shown} without its operand", False, ())
                break
            toks += ["("] + tokens(v) + [")"]
        else:
            st = tokens(shown)
            exact = evaluate(toks)
            page.check(f"{what} at {rc}: {' '.join(toks)} = {shown}",
                       exact is not None and is_number(st) and follows(exact, _literal(st)),
                       _kinds(ops))


def _rows(page):
    """Equations laid out in a row around a lone "=": operands and operators left of it, the
    result right of it (a grid, cell by cell, or a number)."""
    for eq in page.inks:
        if eq.s.strip() != "=":
            continue
        y = (eq.box[1] + eq.box[3]) / 2
        items = [("grid", cells, box, shape) for box, shape, cells in page.grids
                 if _vband(box, y)]
        items += [("ink", k, k.box) for k in page.inks if k is not eq and _vband(k.box, y)]
        left = sorted((it for it in items if it[2][2] <= eq.box[0]), key=lambda it: -it[2][2])
        right = sorted((it for it in items if it[2][0] >= eq.box[2]), key=lambda it: it[2][0])
        if not right or right[0][2][0] - eq.box[2] > GAP:
            # "=" before nothing yet (built up later): its row's signs stand alone
            page.used.update(id(it[1]) for it in items + [("ink", eq)]
                             if it[0] == "ink" and it[1].s.strip() in OPERATORS | {"="})
            continue
        res = _units(right[0])
        if res is None or len(res) != 1 or res[0][0] == "op":
            continue
        # walk left from "=": operand (operator operand)*, up to the first thing that breaks it
        seq, used, edge = [], [eq], eq.box[0]
        for it in left:
            units = _units(it)
            if edge - it[2][2] > GAP or units is None:
                break
            grown = list(seq)
            for u in reversed(units):
                if (u[0] != "op") != (not grown or grown[0][0] == "op"):
                    break
                grown.insert(0, u)
            else:
                seq = grown
            if seq is not grown:
                break
            used.append(it[1])
            edge = it[2][0]
        while seq and seq[0][0] == "op":
            seq.pop(0)
        if len(seq) < 3:
            continue
        page.used.update(id(k) for k in used if not isinstance(k, dict))
        if res[0][0] == "grid":
            page.results.append(right[0][2])
        opds, ops = seq[::2], [u[1] for u in seq[1::2]]
        if ops == ["\u00b7"] and all(o[0] == "grid" for o in opds) and \
                opds[0][2][1] == opds[1][2][0] and opds[0][2] != opds[1][2]:
            _matmul(page, opds[0], opds[1], res[0])
        else:
            _cellwise(page, "row", opds, ops, res[0])


def _matmul(page, a, b, result):
    """Grid ``a`` · grid ``b`` as a matrix product: each result cell is a row of ``a`` times
    a column of ``b``, summed; every factor it needs must be printed."""
    page.cells += len(result[1])
    for (r, c), shown in result[1].items():
        pairs = [(a[1].get((r, k)), b[1].get((k, c))) for k in range(a[2][1])]
        if any(x is None or y is None for x, y in pairs):
            page.check(f"matrix product at {(r, c)}: {shown} without its factors", False, ())
            continue
        exact = sum(evaluate(tokens(x)) * evaluate(tokens(y)) for x, y in pairs)
        page.check(f"matrix product at {(r, c)} = {shown}", follows(exact, shown),
                   ("product", "sum"))


def _columns(page):
    """The 1-D GIFs' working: rows stacked with labels, ``[x]``, "× w…", ``[w]``, "= x · w",
    ``[p]``: p = x × w cell by cell."""
    def above(box, pool):
        got = [it for it in pool if it[1][3] <= box[1] + 1 and _hover(it[1], box)
               and box[1] - it[1][3] <= 16]
        return max(got, key=lambda it: it[1][3]) if got else None

    grids = [("grid", box, shape, cells) for box, shape, cells in page.grids]
    inks = [("ink", k.box, k) for k in page.inks]
    for g in grids:
        lab = above(g[1], inks)
        if lab is None or not lab[2].s.startswith("= "):
            continue
        b = above(lab[1], grids)
        lab_b = above(b[1], inks) if b else None
        if lab_b is None or not lab_b[2].s.startswith("\u00d7 "):
            continue
        a = above(lab_b[1], grids)
        if a is None:
            continue
        page.used.update({id(lab[2]), id(lab_b[2])})
        page.results.append(g[1])
        _cellwise(page, "column", [("grid", a[3]), ("grid", b[3])], ["\u00d7"],
                  ("grid", g[3]))


# -- Σ and what adds to it -----------------------------------------------------------------
_SIGMA = re.compile(r"^(?:sum\s+)?\u03a3\S*(?:\s+[^=\u2248]*?)?\s*([=\u2248])\s*(\S+)$")
_ADD = re.compile(r"^\+\s+[^=\u2248]*?\s*=\s*(\S+)$")
_TOTAL = re.compile(r"^[^=\u2248+]*?\s*([=\u2248])\s*(\S+)$")


def _dist(a, b):
    dx = max(a[0] - b[2], b[0] - a[2], 0)
    dy = max(a[1] - b[3], b[1] - a[3], 0)
    return dx + dy


def _sums(page):
    """"Σ = s" sums the result grid nearest it; lines under it that begin with "+" add to it,
    and the line after them is the total."""
    for k in page.texts:
        m = _SIGMA.match(k.s.strip())
        if not m or tokens(m.group(2)) is None or not is_number(tokens(m.group(2))):
            continue
        rel, total = m.group(1), _literal(tokens(m.group(2)))
        page.used.update(id(p) for p in k.parts)
        pool = [(box, shape, cells) for box, shape, cells in page.grids if box in page.results]
        if pool:
            box, shape, cells = min(pool, key=lambda g: _dist(g[0], k.box))
            what = f"{k.s!r}: the sum of {sorted(cells.values())}"
            if rel == APPROX:
                page.says_approx(what, ["sum"])
            else:
                terms = [tokens(v) for v in cells.values()]
                page.check(what, len(cells) == shape[0] * shape[1] and
                           follows(sum(evaluate(t) for t in terms), total), ["sum"])
        elif rel == APPROX:
            page.says_approx(k.s, ["sum"])
        else:
            page.check(f"{k.s!r}: a sum with no products read beside it", False, ())
        # what adds to it, line by line below
        value, col = Decimal(total.replace("\u2212", "-")), k
        for nxt in sorted(page.texts, key=lambda j: j.box[1]):
            if nxt.box[1] < col.box[3] or abs(nxt.box[2] - k.box[2]) > 3 or \
                    nxt.box[1] - col.box[3] > 20:
                continue
            add, tot = _ADD.match(nxt.s.strip()), _TOTAL.match(nxt.s.strip())
            page.used.update(id(p) for p in nxt.parts)
            if add and is_number(tokens(add.group(1))):
                value += evaluate(tokens(add.group(1)))
                col = nxt
                continue
            if tot and is_number(tokens(tot.group(2))):
                what = f"{k.s!r} and the lines under it: {nxt.s!r}"
                if tot.group(1) == APPROX:
                    page.says_approx(what, ["sum"])
                else:
                    page.check(what, follows(value, _literal(tokens(tot.group(2)))), ["sum"])
            break


def read_page(frame, drawn):
    page = Page(frame, *drawn)
    _rows(page)
    _columns(page)
    _sums(page)
    _chains(page)
    return page


_N = r"[\u2212-]?\d+(?:\.\d+)?"
_LOOSE = re.compile(rf"\d\.\d+\s*[\u00d7\u00b7/]\s*{_N}|{_N}\s*[\u00d7\u00b7/]\s*[\u2212-]?\d+\.\d|"
                    rf"{_N}\s*[\u00d7\u00b7/+\u2212]\s*{_N}\s*[=\u2248]\s*{_N}")


def _unread(page):
    """Printed arithmetic no rule read: a lone operator, or a product or quotient of printed
    decimals, or an equation between numbers, anywhere in a text ("x·w: 2.81 × 0.03")."""
    out = []
    for k in page.inks:
        s = k.s.strip()
        if id(k) not in page.used and (s in ("\u00d7", "\u00b7", "/", "=", "+", "\u2212") or
                                       _LOOSE.search(s)):
            out.append(s)
    return out


# -- the gallery ---------------------------------------------------------------------------
def _read_gallery_gif(parser, tmp_path, name):
    """Render gallery entry ``name`` as make_gif.py does, recording the text it draws; write
    its tour frames as a GIF and decode them. Returns ``(anim, log, frames)``."""
    path = tmp_path / "g.gif"
    with TextLog() as log:
        anim = render(gallery_args(parser, GALLERY[name], path))
    tour = anim.tour_frames()
    if not tour:
        return anim, log, []
    n = max(tour) + 1
    write_gif(path, anim.frames[:n], anim.delays()[:n], use_gifsicle=False)
    frames, _, _ = read_gif(path)
    assert len(frames) == n
    return anim, log, frames


@pytest.mark.parametrize("name", list(GALLERY))
def test_every_printed_product_quotient_and_sum_follows(tmp_path, parser, name):
    anim, log, frames = _read_gallery_gif(parser, tmp_path, name)
    if not frames:
        pytest.skip(f"{name} has no tour frames (no working to read)")
    for i in anim.tour_frames():
        drawn = log.of(anim.frames[i])
        assert drawn is not None, f"frame {i}: drawn on no recorded canvas"
        page = read_page(frames[i], drawn)
        assert page.failures() == [], f"frame {i}"
        assert not page.approx or page.reason, f"frame {i}: ≈ without a reason: {page.approx}"
        assert _unread(page) == [], f"frame {i}: arithmetic no rule reads"
        # once a stop's working is complete, every product the renderer says it shows is read
        t = anim.texts[i] if anim.texts else {}
        parts = t.get("parts", 1)
        if not isinstance(parts, int) or t.get("part", 0) == parts - 1:
            declared = sum(np.size(g) for g in t.get("p", [])) + \
                (len(t["terms"]) if isinstance(t.get("w"), list) and "terms" in t else 0)
            assert page.cells >= declared, f"frame {i}: {page.cells} of {declared} products read"
            sums = sum(len(terms) > 1 for terms, _, _ in t.get("equations", []))
            assert page.kinds["sum"] >= sums, f"frame {i}: {page.kinds['sum']} of {sums} sums read"
            assert page.kinds["quotient"] >= ("divide" in t), f"frame {i}: its division unread"


# -- the reader itself, on frames made to be wrong -----------------------------------------
def _decoded(tmp_path, draw):
    """``draw(canvas)`` on a blank frame while recording; returns the decoded frame and what
    was drawn on it."""
    from viz.draw import Canvas
    with TextLog() as log:
        cv = Canvas(320, 120)
        draw(cv)
    write_gif(tmp_path / "t.gif", [cv.px], [100], use_gifsicle=False)
    frames, _, _ = read_gif(tmp_path / "t.gif")
    return frames[0], log.of(cv.px)


def _equation(x, w, p, tail=None):
    """``[x] × [w] = [p]`` as one-cell grids in a row, and ``tail`` under it."""
    from viz.draw import cell_grid
    from viz.palette import PANEL

    def draw(cv):
        for gx, v in ((10, x), (90, w), (170, p)):
            cell_grid(cv, gx, 10, np.full((1, 1), PANEL, np.uint8), 41,
                      labels=np.array([[v]]), label_size=12)
        cv.text(63, 31, "\u00d7", size=15, anchor="lm")
        cv.text(143, 31, "=", size=15, anchor="lm")
        for k, line in enumerate(tail or []):
            cv.text(10, 70 + 18 * k, line, size=13, face="mono")
    return draw


def test_printed_reads_the_string_drawn_and_nothing_else(tmp_path):
    frame, (inks, grids) = _decoded(tmp_path, _equation("0.93", "2", "1.86"))
    assert len(grids) == 3 and all(printed(frame, k) for k in inks)
    # the same place holding another string, or one pixel of it covered, is not read
    other, (inks2, _) = _decoded(tmp_path, _equation("0.93", "2", "1.87"))
    p86 = [k for k in inks if k.s == "1.86"][0]
    assert not printed(other, p86)
    covered = frame.copy()
    x0, y0, x1, y1 = p86.box
    covered[(y0 + y1) // 2, x0:x1] = covered[0, 0]
    assert not printed(covered, p86)
    # one recorder at a time, and none once it is done
    from viz import draw
    with TextLog():
        with pytest.raises(RuntimeError, match="already recording"):
            TextLog().__enter__()
    assert draw._INK is None


@pytest.mark.parametrize("p, tail, checks, wrong", [
    ("1.86", ["0.07 / 1.51 = 0.05", "(0.93 + 0.93", "+ 0.01) / 3 = 0.62"], 3, []),
    ("1.87", [], 1, ["row at (0, 0): ( 0.93 ) \u00d7 ( 2 ) = 1.87"]),
    ("1.86", ["0.07 / 1.51 = 0.04"], 2, ["0.07 / 1.51 = 0.04"]),
    ("1.86", ["(0.93 + 0.93", "+ 0.01) / 3 = 0.63"], 2, ["(0.93 + 0.93 + 0.01) / 3 = 0.63"]),
    ("1.86", ["1 / (1 + exp(\u22121.00))", "= 1 / (1 + 0.36)"], 2, [
        "1 / (1 + exp(\u22121.00)) = 1 / (1 + 0.36)"]),
])
def test_a_product_quotient_or_sum_that_does_not_follow_fails(tmp_path, p, tail, checks, wrong):
    page = read_page(*_decoded(tmp_path, _equation("0.93", "2", p, tail)))
    assert page.failures() == wrong
    assert len(page.checked) == checks
    assert _unread(page) == []


def test_approx_needs_its_reason_and_loose_arithmetic_is_unread(tmp_path):
    def page(*tail):
        return read_page(*_decoded(tmp_path, _equation("0.93", "2", "1.86", list(tail))))

    approx = "0.07 / 1.51 \u2248 0.04"
    assert page(approx).approx == [approx] and not page(approx).reason
    assert page(approx, "\u2248: the e shown are rounded").reason
    assert _unread(page("2.81 \u00d7 0.03 here")) == ["2.81 \u00d7 0.03 here"]
