"""The one resolver of a hand-chosen ``--tour``: the words a user typed -> what the renderer
takes (trace steps, cells or indices)."""
from viz.tour import parse_tour


def resolve_tour(words, *, parse=parse_tour, steps=None):
    """``--tour`` words -> the renderer's ``tour``; None (no --tour): the renderer picks.

    parse – words -> cells or indices: ``viz.tour.parse_tour`` ('R,C' / 'F,R,C', the
        default), or the 1-D or vector parser of the animation.
    steps – how cells become trace steps: None (the renderer takes the cells), a function
        ``cells -> steps`` (the trace's own lookup, e.g. ``viz.tour.steps_of``), or a grid
        ``(rows, cols)`` whose steps run row-major (the backward traces).
    """
    if words is None:
        return None
    cells = parse(words)
    if steps is None:
        return cells
    if callable(steps):
        return steps(cells)
    return grid_steps(cells, steps)


def grid_steps(cells, grid):
    """Cells 'R,C' (a leading F is ignored) -> step indices of a row-major (rows, cols) trace:
    upstream cells (scatter), padded ∂L/∂x cells (gather), weight cells (∂L/∂w) or elements
    (relu)."""
    rows, cols = grid
    out = []
    for cell in cells:
        r, c = cell[-2:]
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(f"--tour {r},{c}: outside the {rows}×{cols} grid of steps")
        out.append(r * cols + c)
    return out


def parse_cells1d(words):
    """'I' or 'F,I' words -> cells of a 1-D output; 'none' -> []."""
    text = " ".join(words).strip()
    if text.lower() == "none":
        return []
    try:
        return [tuple(int(t) for t in tok.split(",")) for tok in text.split()]
    except ValueError:
        raise ValueError(f"--tour {text!r}: expected I or F,I with integers, or 'none'") from None
