"""make_gif.py's backward subcommands: parse, build the upstream gradient, call viz.

By default (``--dout lenet5``) the op is the shipped LeNet-5's own layer on the input digit
and the upstream gradient is the one its loss really sends back to that layer
(``training.gradients``). Options that change the layer's geometry or kernel (or an input
that is not a 28×28 digit) make a hand-made op as the forward GIFs do; LeNet-5's gradient
does not exist for it, so ``--dout lenet5`` then falls back to ``random`` with a note.
"""
import sys
from pathlib import Path

import numpy as np

import ops
from mnist.images import load_input
from viz.backward_gif import (render_dweight, render_elementwise_backward, render_gather,
                              render_linear_backward, render_scatter)
from viz.kernels import NAMES as KERNELS, make_weight
from viz.tour import parse_tour

ROOT = Path(__file__).resolve().parents[1]
LENET = ROOT / "models" / "lenet5.npz"
BACKWARD_OPS = ("maxpool-backward", "avgpool-backward", "conv2d-backward-input",
                "conv2d-backward-weight", "relu-backward", "linear-backward")
DOUTS = ("lenet5", "random", "ones")
MAX_FRAMES = 150        # a 28×28 map's sweep at 60 ms, the tour and the hold stay under 20 s
CONV_FRAMES = 100


def _pair2(v):
    return v if isinstance(v, tuple) else (v, v)


def _backward_parsers(add, mg):
    """Add the backward subcommands; ``mg`` is make_gif's namespace (its argument types)."""
    pair, ppair, positive = mg["_pair"], mg["_positive_pair"], mg["_positive"]

    def dout_opts(p, index):
        p.add_argument("--dout", choices=DOUTS, default="lenet5",
                       help="the upstream gradient ∂L/∂out: 'lenet5' (the loss gradient the "
                            "shipped LeNet-5 sends back to this layer on the input digit; "
                            "hand-made geometry or kernels fall back to 'random'), 'random' "
                            "(N(0, 1), --seed) or 'ones'")
        p.add_argument("--label", type=int, default=None,
                       help="with --dout lenet5: the class the loss is taken against (default: "
                            "the digit's true label, else the predicted class)")
        if index:
            p.add_argument(f"--{index}", type=int, default=None, metavar="INDEX",
                           help=f"with LeNet-5's layer: which {index} to show (default: the one "
                                "with the largest Σ|∂L/∂out|)")
        p.add_argument("--weights", dest="net_weights", type=Path, default=LENET, metavar="PATH",
                       help="the trained network for --dout lenet5 (default: models/lenet5.npz)")
        p.add_argument("--seed", type=int, default=0,
                       help="seed of --dout random (and of the 'random' kernel)")

    def geometry(p, what, dilation=True):
        p.add_argument("--kernel-size", type=ppair, default=None, metavar="K",
                       help=f"window size, K or 'KH,KW' (default: {what})")
        p.add_argument("--stride", type=ppair, default=None, metavar="S",
                       help=f"step between windows (default: {what})")
        p.add_argument("--padding", type=pair, default=None, metavar="P",
                       help=f"padding on each side (default: {what})")
        if dilation:
            p.add_argument("--dilation", type=ppair, default=None, metavar="D",
                           help="spacing between the sampled cells (default: 1)")

    def common(p, name, frame_ms=60, hold=2500, max_frames=MAX_FRAMES):
        mg["_frames_opts"](p)
        p.set_defaults(max_frames=max_frames)
        mg["_tour_opt"](p)
        mg["_common"](p, name, frame_ms, hold)

    for name, op, what in (("maxpool-backward", "max_pool2d",
                            "each upstream cell flows to its window's max"),
                           ("avgpool-backward", "avg_pool2d",
                            "each upstream cell is shared equally over its window")):
        p = add(name, f"{op} backward: {what}")
        geometry(p, "LeNet-5's first pooling layer, 2 with stride 2; hand-made: 2, stride = "
                    "kernel, padding 0", dilation=op == "max_pool2d")
        dout_opts(p, "channel")
        common(p, name)

    for name, what in (("conv2d-backward-input", "∂L/∂x: each upstream cell stamps "
                        "∂L/∂out · w into its window (--view scatter), or the full correlation "
                        "of the zero-inserted ∂L/∂out with the 180°-rotated kernel (gather)"),
                       ("conv2d-backward-weight", "∂L/∂w: each weight cell is Σ x · ∂L/∂out "
                        "over the positions where that tap was used; ∂L/∂b = Σ ∂L/∂out")):
        p = add(name, f"conv2d backward, {what}")
        geometry(p, "LeNet-5's conv1, 5×5, stride 1, padding 2; hand-made: 3, 1, 1")
        p.add_argument("--kernel", default=None,
                       help=f"a hand-made kernel instead of LeNet-5's learned one: "
                            f"{', '.join(KERNELS)} (3×3 ones need --kernel-size 3)")
        if name.endswith("input"):
            p.add_argument("--view", choices=("scatter", "gather"), default="scatter",
                           help="scatter: stamps that add up; gather: a full correlation")
        dout_opts(p, "filter")
        # scatter stamps change a 5×5 block a step: fewer frames keep the GIF under 500 KB
        common(p, name, hold=2500 if name.endswith("input") else 3000,
               max_frames=CONV_FRAMES if name.endswith("input") else MAX_FRAMES)

    p = add("relu-backward", "relu backward: ∂L/∂x = ∂L/∂out where x > 0, else 0")
    p.add_argument("--kernel", default=None,
                   help="hand-made: x = conv2d(image, KERNEL, padding=1) as in 'relu' "
                        f"({', '.join(KERNELS)}); default: LeNet-5's conv1 output")
    dout_opts(p, "channel")
    common(p, "relu-backward")

    p = add("linear-backward", "linear backward, one output neuron at a time: "
                               "∂L/∂x += ∂L/∂out[o] · W[o] (--wrt x) or ∂L/∂W[o] = ∂L/∂out[o] · x")
    p.add_argument("--wrt", choices=("x", "weight"), default="x", help="which gradient")
    p.add_argument("--pool", type=positive, default=None,
                   help="hand-made: x = flatten(avg_pool2d(image, POOL)) with random weights "
                        "(as 'linear'); default: LeNet-5's last layer (84 → 10)")
    p.add_argument("--out-features", type=positive, default=10,
                   help="hand-made: output neurons (at most 32)")
    dout_opts(p, None)
    mg["_frames_opts"](p, scale=False)
    mg["_common"](p, "linear-backward", 800, 3000)


# -- the upstream gradient -----------------------------------------------------------------
def _label_of(spec):
    got = load_input(spec)
    return got.labels[0]


def _lenet(args, image, kind, index=None):
    from training import load_model
    from training.gradients import lenet_layer_case
    model, config = load_model(str(args.net_weights))
    label = args.label
    if label is None:
        label = _label_of(args.input) if not str(args.input).startswith(("toy",)) else None
    if label is not None and not 0 <= label < 10:
        raise ValueError(f"argument --label: {label}, expected a class 0 to 9")
    case = lenet_layer_case(model, config, image, kind, label, index)
    g = case["grads"]
    case["note"] = (f"∂L/∂out: LeNet-5's loss (label {g.label}, loss {g.loss:.2g}) at "
                    f"{case['layer']}'s output")
    return case


def _other_dout(args, shape, dtype, why=""):
    """--dout random or ones (or lenet5 falling back to random, with ``why``)."""
    if args.dout == "ones":
        return np.ones(shape, dtype), "∂L/∂out: ones"
    rng = np.random.default_rng(args.seed)
    note = f"∂L/∂out: random N(0, 1), seed {args.seed}"
    if args.dout == "lenet5":
        note += f" ({why})"
        print(f"note: --dout lenet5: {why}; using --dout random", file=sys.stderr)
    return rng.standard_normal(shape).astype(dtype), note


def _use_lenet(args, image, hand):
    """Whether the op is LeNet-5's own layer; else the reason it cannot be."""
    if hand:
        return False, ("LeNet-5 has no layer with " + ", ".join("--" + h.replace("_", "-")
                                                              for h in hand) + " as given")
    if image.shape != (28, 28):
        return False, f"LeNet-5 reads 28×28 digits, the input is {image.shape[0]}×{image.shape[1]}"
    return True, ""


def _given(args, names):
    return [n for n in names if getattr(args, n, None) is not None]


def _tour_steps(args, trace_cells, n_cells):
    """--tour cells 'R,C' -> step indices in a row-major (rows, cols) trace."""
    if args.tour is None:
        return None
    rows, cols = n_cells
    out = []
    for cell in parse_tour(args.tour):
        r, c = cell[-2:]
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(f"--tour {r},{c}: outside the {rows}×{cols} grid of steps")
        out.append(r * cols + c)
    return out


# -- the commands --------------------------------------------------------------------------
def _pool(args, image, desc):
    op = "max_pool2d" if args.op.startswith("max") else "avg_pool2d"
    lenet, why = _use_lenet(args, image, _given(args, ("kernel_size", "stride", "padding",
                                                       "dilation")))
    if lenet:
        case = _lenet(args, image, "pool", args.channel)
        x, k, st, pd, dl = case["x"], case["kernel_size"], case["stride"], case["padding"], 1
        before = case["grads"].names[:case["grads"].names.index(case["layer"])]
        src = f"input: {desc} → LeNet-5 {' → '.join(before)}, channel {case['index']}"
        if case["op"] != ("MaxPool2d" if op == "max_pool2d" else "AvgPool2d"):
            src = src.replace(", channel", f" ({case['op']} there), channel")
    else:
        x = image[None, None].astype(np.float32)
        k = args.kernel_size or 2
        st, pd, dl = args.stride or k, args.padding or 0, getattr(args, "dilation", None) or 1
        src = f"input: {desc}"
    if op == "max_pool2d":
        out, cache = ops.max_pool2d(x, k, st, pd, dl)
        fwd = cache.trace(sample=0).padded[0, 0]
    else:
        out, cache = ops.avg_pool2d(x, k, st, pd)
        fwd = None
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    tr = cache.backward_trace(dout)
    geo = f"kernel_size={k}, stride={st}, padding={pd}" + (f", dilation={dl}"
                                                            if op == "max_pool2d" else "")
    rule = ("∂L/∂x[argmax of window (i, j)] += ∂L/∂out[i, j]; the window's other cells get 0"
            if op == "max_pool2d" else
            "∂L/∂x[every cell of window (i, j)] += ∂L/∂out[i, j] / k²")
    if lenet and case["op"] != ("MaxPool2d" if op == "max_pool2d" else "AvgPool2d"):
        rule += f"   (LeNet-5 uses {case['op']} here: this is how {op} would route its ∂L/∂out)"
    return render_scatter(tr, x=fwd, max_frames=args.max_frames,
                          title=f"{op} backward ({geo})", subtitle=f"{src}  ·  {note}",
                          tour=_tour_steps(args, None, out.shape[2:]),
                          names={"formula": rule})


def _conv_case(args, image, desc):
    """x (1, 1, H, W), w (1, 1, kh, kw), geometry, dout, subtitle, weight label."""
    hand = _given(args, ("kernel_size", "stride", "padding", "dilation", "kernel"))
    lenet, why = _use_lenet(args, image, hand)
    if lenet:
        case = _lenet(args, image, "conv", args.filter)
        x, w, b = case["x"], case["weight"], case["bias"]
        st, pd, dl = case["stride"], case["padding"], 1
        src = f"input: {desc}, normalised  ·  LeNet-5 {case['layer']} filter {case['index']}"
        wl = (f"w[{case['index']}] of {case['layer']} ({case['channels']}×"
              f"{'×'.join(map(str, w.shape[1:]))})")
    else:
        x = image[None, None].astype(np.float32)
        ks = _pair2(args.kernel_size or 3)
        name = args.kernel or "sobel-x"
        w = make_weight([name], 1, ks, args.seed)
        b = None
        st, pd, dl = args.stride or 1, args.padding if args.padding is not None else 1, \
            args.dilation or 1
        src = f"input: {desc}  ·  kernel {name}"
        wl = f"w ({name}, {ks[0]}×{ks[1]})"
    out, cache = ops.conv2d(x, w, b, st, pd, dl)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    geo = f"kernel_size={w.shape[2]}, stride={st}, padding={pd}, dilation={dl}"
    return x, w, cache, dout, f"{src}  ·  {note}", wl, geo, out.shape


def _conv(args, image, desc):
    x, w, cache, dout, sub, wl, geo, oshape = _conv_case(args, image, desc)
    if args.op == "conv2d-backward-weight":
        tr = cache.backward_trace(dout, wrt="weight")
        kh, kw = w.shape[2:]
        return render_dweight(tr, cache.trace(sample=0).padded[0, 0], max_frames=args.max_frames,
                              title=f"conv2d backward, ∂L/∂w ({geo})", subtitle=sub,
                              weight_label=wl, stride=_pair2(cache.geom.stride),
                              dilation=_pair2(cache.geom.dilation),
                              tour=_tour_steps(args, None, (kh, kw)))
    if args.view == "gather":
        tr = cache.backward_trace(dout, view="gather")
        return render_gather(tr, max_frames=args.max_frames,
                             title=f"conv2d backward, ∂L/∂x as a full correlation ({geo})",
                             subtitle=sub, weight_label=wl,
                             tour=_tour_steps(args, None, tr.inserted.shape[2:]) and None)
    tr = cache.backward_trace(dout)
    return render_scatter(tr, weight=w[0, 0], max_frames=args.max_frames,
                          title=f"conv2d backward, ∂L/∂x by scatter ({geo})", subtitle=sub,
                          tour=_tour_steps(args, None, oshape[2:]),
                          names={"formula": "∂L/∂x[window (i, j)] += ∂L/∂out[i, j] · w   "
                                            "(summed over every upstream cell)", "w": wl})


def _relu(args, image, desc):
    lenet, why = _use_lenet(args, image, _given(args, ("kernel",)))
    if lenet:
        case = _lenet(args, image, "relu", args.channel)
        x = case["x"]
        src = (f"input: {desc} → LeNet-5 {case['grads'].names[0]}, channel {case['index']}")
    else:
        k = args.kernel or "sobel-x"
        if k == "none":
            x = image[None, None].astype(np.float32)
        else:
            x, _ = ops.conv2d(image[None, None], make_weight([k], 1, (3, 3), args.seed), None, 1, 1)
        src = f"input: conv2d({desc}, {k}, padding=1)"
    out, cache = ops.relu(x)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    tr = cache.backward_trace(dout)
    return render_elementwise_backward(tr, max_frames=args.max_frames,
                                       title="relu backward: ∂L/∂x = ∂L/∂out · [x > 0]",
                                       subtitle=f"{src}  ·  {note}",
                                       tour=_tour_steps(args, None, x.shape[2:]))


def _linear(args, image, desc):
    lenet, why = _use_lenet(args, image, _given(args, ("pool",)))
    if lenet:
        case = _lenet(args, image, "linear")
        x, w, b = case["x"], case["weight"], case["bias"]
        src = f"input: {desc} → LeNet-5 up to {case['layer']} ({x.shape[1]} → {w.shape[0]})"
    else:
        pool = args.pool or 7
        xx = image[None, None].astype(np.float32)
        if pool > 1:
            xx, _ = ops.avg_pool2d(xx, pool)
        x, _ = ops.flatten(xx)
        if x.shape[1] > 64:
            raise ValueError(f"--pool {pool} gives {x.shape[1]} features, expected at most 64")
        if args.out_features > 32:
            raise ValueError(f"--out-features {args.out_features}: expected at most 32")
        rng = np.random.default_rng(args.seed)
        w = rng.normal(0, 1 / np.sqrt(x.shape[1]), (args.out_features, x.shape[1])).astype(np.float32)
        b = rng.normal(0, 0.1, args.out_features).astype(np.float32)
        src = f"input: flatten(avg_pool2d({desc}, {pool}))  ·  random weights (seed {args.seed})"
    out, cache = ops.linear(x, w, b)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    tr = cache.backward_trace(dout, wrt=args.wrt)
    return render_linear_backward(tr, max_frames=args.max_frames,
                                  subtitle=f"{src}  ·  {note}")


def render_backward(args, image, desc):
    """Run the op and its instrumented backward; returns a ``viz.frames.Animation``."""
    if args.op in ("maxpool-backward", "avgpool-backward"):
        return _pool(args, image, desc)
    if args.op.startswith("conv2d"):
        return _conv(args, image, desc)
    if args.op == "relu-backward":
        return _relu(args, image, desc)
    return _linear(args, image, desc)
