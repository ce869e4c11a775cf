"""The backward animations (``viz.backward_gif``) and one training step
(``viz.training_step_gif``).

By default (--dout lenet5) the op is the shipped LeNet-5's own layer on the input digit and
the upstream gradient the one its loss really sends back to that layer (training.gradients).
Options that change the layer's geometry or kernel (or an input that is not a 28×28 digit)
make a hand-made op as the forward GIFs do; LeNet-5's gradient does not exist for it, so
--dout lenet5 then falls back to random with a note.
"""
import sys
from pathlib import Path

import numpy as np

import ops
from viz.backward_gif import (render_dweight, render_elementwise_backward, render_gather,
                              render_linear_backward, render_scatter)
from viz.kernels import NAMES as KERNELS, make_weight

from .options import (check_scale, common, frames_opts, pair, pair2, positive, positive_pair,
                      tour_opt)
from .registry import register
from .tour import resolve_tour

DOUTS = ("lenet5", "random", "ones")
MAX_FRAMES = 150        # a 28×28 map's sweep at 60 ms, the tour and the hold stay under 20 s
CONV_FRAMES = 100


# -- options -------------------------------------------------------------------------------
def _dout_opts(p, index, lenet):
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
    p.add_argument("--weights", dest="net_weights", type=Path, default=lenet, metavar="PATH",
                   help="the trained network for --dout lenet5 (default: models/lenet5.npz)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of --dout random (and of the 'random' kernel)")


def _geometry(p, what, dilation=True):
    p.add_argument("--kernel-size", type=positive_pair, default=None, metavar="K",
                   help=f"window size, K or 'KH,KW' (default: {what})")
    p.add_argument("--stride", type=positive_pair, default=None, metavar="S",
                   help=f"step between windows (default: {what})")
    p.add_argument("--padding", type=pair, default=None, metavar="P",
                   help=f"padding on each side (default: {what})")
    if dilation:
        p.add_argument("--dilation", type=positive_pair, default=None, metavar="D",
                       help="spacing between the sampled cells (default: 1)")


def _common(p, name, max_frames=MAX_FRAMES):
    frames_opts(p)
    p.set_defaults(max_frames=max_frames)
    tour_opt(p)
    common(p, name, None)


def _pool_options(name, op):
    def options(p, paths):
        _geometry(p, "LeNet-5's first pooling layer, 2 with stride 2; hand-made: 2, stride = "
                     "kernel, padding 0", dilation=op == "max_pool2d")
        _dout_opts(p, "channel", paths.lenet)
        _common(p, name)
    return options


def _conv_options(name):
    def options(p, paths):
        _geometry(p, "LeNet-5's conv1, 5×5, stride 1, padding 2; hand-made: 3, 1, 1")
        p.add_argument("--kernel", default=None,
                       help=f"a hand-made kernel instead of LeNet-5's learned one: "
                            f"{', '.join(KERNELS)} (3×3 ones need --kernel-size 3)")
        if name.endswith("input"):
            p.add_argument("--view", choices=("scatter", "gather"), default="scatter",
                           help="scatter: stamps that add up; gather: a full correlation")
        _dout_opts(p, "filter", paths.lenet)
        # scatter stamps change a 5×5 block a step: fewer frames keep the GIF under 500 KB
        _common(p, name, max_frames=CONV_FRAMES if name.endswith("input") else MAX_FRAMES)
    return options


def _relu_options(p, paths):
    p.add_argument("--kernel", default=None,
                   help="hand-made: x = conv2d(image, KERNEL, padding=1) as in 'relu' "
                        f"({', '.join(KERNELS)}); default: LeNet-5's conv1 output")
    _dout_opts(p, "channel", paths.lenet)
    _common(p, "relu-backward")


def _training_step_options(p, paths):
    p.add_argument("--label", type=int, default=None,
                   help="the class the loss is taken against (default: the digit's label)")
    p.add_argument("--lr", type=float, default=0.1, help="the SGD learning rate")
    p.add_argument("--seed", type=int, default=1, help="seed of the tiny net's initial weights")
    common(p, "training-step", 1500, 4000)


def _linear_options(p, paths):
    p.add_argument("--wrt", choices=("x", "weight"), default="x", help="which gradient")
    p.add_argument("--pool", type=positive, default=None,
                   help="hand-made: x = flatten(avg_pool2d(image, POOL)) with random weights "
                        "(as 'linear'); default: LeNet-5's last layer (84 → 10)")
    p.add_argument("--out-features", type=positive, default=10,
                   help="hand-made: output neurons (at most 32)")
    _dout_opts(p, None, paths.lenet)
    frames_opts(p, scale=False)
    common(p, "linear-backward", None)


# -- the upstream gradient -----------------------------------------------------------------
def _lenet(args, source, kind, index=None):
    from training import load_model
    from training.gradients import lenet_layer_case
    model, config = load_model(str(args.net_weights))
    label = args.label
    if label is None:
        label = source.label
    if label is not None and not 0 <= label < 10:
        raise ValueError(f"argument --label: {label}, expected a class 0 to 9")
    case = lenet_layer_case(model, config, source.image, kind, label, index)
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


# -- the animations ------------------------------------------------------------------------
def pool_backward(args, source):
    image, desc = source.image, source.description
    op = "max_pool2d" if args.op.startswith("max") else "avg_pool2d"
    lenet, why = _use_lenet(args, image, _given(args, ("kernel_size", "stride", "padding",
                                                       "dilation")))
    if lenet:
        case = _lenet(args, source, "pool", args.channel)
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
    check_scale(args.scale, tr.padded_size())
    return render_scatter(tr, x=fwd, max_frames=args.max_frames, scale=args.scale,
                          title=f"{op} backward ({geo})", subtitle=f"{src}  ·  {note}",
                          tour=resolve_tour(args.tour, steps=out.shape[2:]),
                          names={"formula": rule})


def _conv_case(args, source):
    """x (1, 1, H, W), w (1, 1, kh, kw), geometry, dout, subtitle, weight label."""
    image, desc = source.image, source.description
    hand = _given(args, ("kernel_size", "stride", "padding", "dilation", "kernel"))
    lenet, why = _use_lenet(args, image, hand)
    if lenet:
        case = _lenet(args, source, "conv", args.filter)
        x, w, b = case["x"], case["weight"], case["bias"]
        st, pd, dl = case["stride"], case["padding"], 1
        src = f"input: {desc}, normalised  ·  LeNet-5 {case['layer']} filter {case['index']}"
        wl = (f"w[{case['index']}] of {case['layer']} ({case['channels']}×"
              f"{'×'.join(map(str, w.shape[1:]))})")
        # one filter's stamps: the layer's own ∂L/∂x sums the parts of all its filters
        part = f", filter {case['index']}'s part" if case["channels"] > 1 else ""
    else:
        x = image[None, None].astype(np.float32)
        ks = pair2(args.kernel_size or 3)
        name = args.kernel or "sobel-x"
        w = make_weight([name], 1, ks, args.seed)
        b = None
        st, pd, dl = args.stride or 1, args.padding if args.padding is not None else 1, \
            args.dilation or 1
        src = f"input: {desc}  ·  kernel {name}"
        wl = f"w ({name}, {ks[0]}×{ks[1]})"
        part = ""
    out, cache = ops.conv2d(x, w, b, st, pd, dl)
    if lenet and args.dout == "lenet5":
        dout, note = case["dout"], case["note"]
    else:
        dout, note = _other_dout(args, out.shape, out.dtype, why)
    geo = f"kernel_size={w.shape[2]}, stride={st}, padding={pd}, dilation={dl}"
    return x, w, cache, dout, f"{src}  ·  {note}", wl, geo, out.shape, part


def conv_backward(args, source):
    x, w, cache, dout, sub, wl, geo, oshape, part = _conv_case(args, source)
    if args.op == "conv2d-backward-weight":
        tr = cache.backward_trace(dout, wrt="weight")
        kh, kw = w.shape[2:]
        check_scale(args.scale, cache.geom.padded_size())
        return render_dweight(tr, cache.trace(sample=0).padded[0, 0], max_frames=args.max_frames,
                              scale=args.scale,
                              title=f"conv2d backward, ∂L/∂w ({geo})", subtitle=sub,
                              weight_label=wl, stride=pair2(cache.geom.stride),
                              dilation=pair2(cache.geom.dilation),
                              tour=resolve_tour(args.tour, steps=(kh, kw)))
    if args.view == "gather":
        tr = cache.backward_trace(dout, view="gather")
        check_scale(args.scale, tr.inserted.shape[2:])
        return render_gather(tr, max_frames=args.max_frames, scale=args.scale,
                             title=f"conv2d backward, ∂L/∂x as a full correlation ({geo})",
                             subtitle=sub, weight_label=wl, part=part,
                             tour=resolve_tour(args.tour, steps=tuple(int(v) + 1 for v in
                                                                      tr.out_index[-1, 2:])))
    tr = cache.backward_trace(dout)
    check_scale(args.scale, tr.padded_size())
    return render_scatter(tr, weight=w[0, 0], max_frames=args.max_frames, scale=args.scale,
                          title=f"conv2d backward, ∂L/∂x by scatter ({geo})", subtitle=sub,
                          tour=resolve_tour(args.tour, steps=oshape[2:]),
                          names={"formula": "∂L/∂x[window (i, j)] += ∂L/∂out[i, j] · w   "
                                            "(summed over every upstream cell)", "w": wl,
                                 "grad": f"∂L/∂x{part}",
                                 "p3": f"∂L/∂x{part} (padded {tr.padded_size()[0]}×"
                                       f"{tr.padded_size()[1]})"})


def relu_backward(args, source):
    image, desc = source.image, source.description
    lenet, why = _use_lenet(args, image, _given(args, ("kernel",)))
    if lenet:
        case = _lenet(args, source, "relu", args.channel)
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
    check_scale(args.scale, x.shape[2:])
    return render_elementwise_backward(tr, max_frames=args.max_frames, scale=args.scale,
                                       title="relu backward: ∂L/∂x = ∂L/∂out · [x > 0]",
                                       subtitle=f"{src}  ·  {note}",
                                       tour=resolve_tour(args.tour, steps=x.shape[2:]))


def training_step(args, source):
    from training.step_record import digit_step
    from viz.training_step_gif import render_training_step
    label = source.label if args.label is None else args.label
    if label is None or not 0 <= label < 10:
        raise ValueError(f"argument --label: {label}, expected a class 0 to 9 (a picture or "
                         "the toy input has no label of its own)")
    if not (np.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"argument --lr: {args.lr:g}, expected a positive number")
    rec = digit_step(source.image, label, args.lr, args.seed)
    return render_training_step(rec, subtitle=f"input: {source.description}  ·  label {label}  ·  "
                                              f"tiny net seed {args.seed}, lr {args.lr:g}")


def linear_backward(args, source):
    image, desc = source.image, source.description
    lenet, why = _use_lenet(args, image, _given(args, ("pool",)))
    if lenet:
        case = _lenet(args, source, "linear")
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
        w = rng.normal(0, 1 / np.sqrt(x.shape[1]), (args.out_features, x.shape[1]))
        w = w.astype(np.float32)
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


# registered in the order --help lists them
for _name, _op, _what in (("maxpool-backward", "max_pool2d",
                           "each upstream cell flows to its window's max"),
                          ("avgpool-backward", "avg_pool2d",
                           "each upstream cell is shared equally over its window")):
    register(_name, f"{_op} backward: {_what}", _pool_options(_name, _op),
             section="backward")(pool_backward)
for _name, _what in (("conv2d-backward-input", "∂L/∂x: each upstream cell stamps "
                      "∂L/∂out · w into its window (--view scatter), or the full correlation "
                      "of the zero-inserted ∂L/∂out with the 180°-rotated kernel (gather)"),
                     ("conv2d-backward-weight", "∂L/∂w: each weight cell is Σ x · ∂L/∂out "
                      "over the positions where that tap was used; ∂L/∂b = Σ ∂L/∂out")):
    register(_name, f"conv2d backward, {_what}", _conv_options(_name),
             section="backward")(conv_backward)
register("relu-backward", "relu backward: ∂L/∂x = ∂L/∂out where x > 0, else 0", _relu_options,
         section="backward")(relu_backward)
register("training-step", "one SGD step of a tiny conv → relu → maxpool → linear → "
                          "cross-entropy net on one digit: forward, backward, update",
         _training_step_options, section="training")(training_step)
register("linear-backward", "linear backward, one output neuron at a time: "
                            "∂L/∂x += ∂L/∂out[o] · W[o] (--wrt x) or ∂L/∂W[o] = ∂L/∂out[o] · x",
         _linear_options, section="backward")(linear_backward)
