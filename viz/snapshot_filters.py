"""A run's conv filters while training, from its snapshot series: what
``scripts/animate_filters.py`` draws.

The snapshots (``training.snapshots.load_snapshots``) are a dict of arrays; this module
only picks a layer, applies the display reductions the command line asks for (summed
channels, change since the first snapshot) and hands the weights to
:func:`viz.filters_gif.render_filters`.
"""
import json

from .filters_gif import CHANGE_NOTE, NOTE, render_filters


def render_snapshot_filters(data, layer, sum_channels=False, change=False, net="net",
                            run_name="run", scale=None, progress=None, connections=None):
    """The animation of one layer of a snapshot series (``viz.frames.Animation``).

    Parameters
    ----------
    data : dict
        ``load_snapshots``' arrays: ``data[layer]`` (K, F, C, kh, kw), ``step``, ``epoch``,
        ``loss``, ``test_error`` (K,), and optionally ``meta/layers`` (JSON: layer ->
        parameter name).
    layer : str
        ``"conv1"`` or ``"conv2"``.
    sum_channels : bool
        Each filter summed over its input channels (one kernel each).
    change : bool
        Each filter's change since the first snapshot instead of its weights.
    net, run_name : str
        Named in the title and the subtitle.
    scale : int, optional
        Screen pixels per weight (default: a grid about 560 px wide).
    progress : callable, optional
        Wraps the frame iterator (a progress bar).
    connections : ndarray (F, C) bool, optional
        The kernels the layer has (others are drawn as empty slots).
    """
    w = data[layer]
    K, F, C, kh, kw = w.shape
    param = json.loads(str(data["meta/layers"])).get(layer, layer) \
        if "meta/layers" in data else layer
    what = f"{param} {F}×{C}×{kh}×{kw}"
    note = CHANGE_NOTE if change else NOTE
    if connections is not None:
        what += f", {int(connections.sum())} of its {F * C} kernels connected"
        note += "; dark: an input map the filter does not read (Table I)"
    if sum_channels:
        w = w.sum(axis=2, keepdims=True)      # display reductions, not ops
        what += ", summed over the input channels it reads" if connections is not None \
            else f", summed over the {C} input channels"
        connections = None
    if change:
        w = w - w[:1]
        what += f", change since step {int(data['step'][0])}"
    return render_filters(w, data["step"], data["epoch"], data["loss"], data["test_error"],
                          f"{net} {layer} filters: how far each weight moved from its start "
                          f"({K} snapshots)" if change else
                          f"{net} {layer} filters while training ({K} snapshots)",
                          f"{what}  ·  run {run_name}", scale, progress=progress,
                          note=note, connections=connections, change=change)
