"""linear and flatten: one output neuron (or vector element) per step (``viz.linear_gif``,
``viz.flatten_gif``)."""
import numpy as np

import ops
from viz.dense import parse_indices
from viz.flatten_gif import render_flatten
from viz.inputs import stack_channels
from viz.linear_gif import render_linear

from .options import common, frames_opts, positive
from .registry import register
from .tour import resolve_tour


def pooled(image, pool, channels=1):
    """The (1, C, H, W) input of the vector animations: avg_pool2d(image, pool)."""
    x = stack_channels(image, channels)[None]
    if pool > 1:
        x, _ = ops.avg_pool2d(x, pool)
    return x


def _linear_options(p, paths):
    p.add_argument("--pool", type=positive, default=7,
                   help="x = flatten(avg_pool2d(image, POOL)): 28×28 with 7 gives 16 features "
                        "(at most 64 allowed)")
    p.add_argument("--out-features", type=positive, default=10, help="output neurons (at most 32)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random weights N(0, 1/in) and biases N(0, 0.1²)")
    frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="NEURON",
                   help="output neurons to show slowly first (e.g. '3 7'), or 'none'; default: "
                        "3 or 4 chosen from the values (largest |y|, the other sign, the "
                        "largest product)")
    common(p, "linear", None)


@register("linear", "linear: one output neuron per step, inputs × weights summed plus bias",
          _linear_options)
def linear(args, source):
    x = pooled(source.image, args.pool)
    flat, _ = ops.flatten(x)
    n_in = flat.shape[1]
    if n_in > 64:
        raise ValueError(f"--pool {args.pool} gives {n_in} features, expected at most 64 "
                         f"(use a larger --pool)")
    if args.out_features > 32:
        raise ValueError(f"--out-features {args.out_features}: expected at most 32")
    rng = np.random.default_rng(args.seed)
    w = rng.normal(0, 1 / np.sqrt(n_in), (args.out_features, n_in)).astype(np.float32)
    b = rng.normal(0, 0.1, args.out_features).astype(np.float32)
    _, cache = ops.linear(flat, w, b)
    tour = resolve_tour(args.tour, parse=lambda words: parse_indices(words, "a neuron"))
    return render_linear(cache.trace(sample=0), args.max_frames,
                         subtitle=f"input: {source.description}  ·  random weights "
                                  f"(seed {args.seed})",
                         input_name=f"flatten(avg_pool2d(image, {args.pool}))", tour=tour)


def _flatten_options(p, paths):
    p.add_argument("--pool", type=positive, default=7,
                   help="x = avg_pool2d(image, POOL): 28×28 with 7 gives 4×4 (at most 256 cells)")
    p.add_argument("--channels", type=positive, default=1,
                   help="input channels (1-4), made as for conv2d")
    frames_opts(p, scale=False)
    p.add_argument("--tour", default=None, nargs="+", metavar="K",
                   help="output indices to show slowly first (e.g. '5 17'), or 'none'; "
                        "default: 3 or 4 chosen from the values (the largest, one per later "
                        "channel, one deep inside a channel)")
    common(p, "flatten", None)


@register("flatten", "flatten: where each cell of a (C, H, W) input goes in the vector",
          _flatten_options)
def flatten(args, source):
    x = pooled(source.image, args.pool, args.channels)
    _, cache = ops.flatten(x)
    tour = resolve_tour(args.tour, parse=lambda words: parse_indices(words, "an output"))
    return render_flatten(cache.trace(sample=0), args.max_frames,
                          subtitle=f"input: {source.description}",
                          input_name=f"avg_pool2d(image, {args.pool})", tour=tour)
