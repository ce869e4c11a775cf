#!/usr/bin/env python
"""Print the figures behind the views' tests: how far conv2d's patch-matrix product and
conv_transpose2d's Cᵀ product are from the ops' own outputs, and how far the chain rule's
sum over all paths is from the backward pass's gradient.

Examples::

    python scripts/view_figures.py
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # run from a checkout without installing

import numpy as np  # noqa: E402

import ops  # noqa: E402
from ops.matrix import conv_patches, transpose_matrix  # noqa: E402
from safeio.cli import ArgumentParser, run_main  # noqa: E402
from training.chain import chain_rule, strongest_target  # noqa: E402
from training.features import prepare_unit_image  # noqa: E402
from training.foreign import load_any  # noqa: E402
from viz.inputs import load_image, toy_image  # noqa: E402
from viz.kernels import make_weight  # noqa: E402


def main(argv=None):
    p = ArgumentParser(prog="view_figures.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=ROOT / "models" / "lenet5.npz",
                   help="the network of the chain rule (default: models/lenet5.npz)")
    args = p.parse_args(argv)
    guide = make_weight(["guide"], 1, (3, 3))
    out, cache = ops.conv2d(toy_image(0, 5)[None, None], guide)
    pp = conv_patches(cache)
    print(f"im2col (toy 5×5, guide kernel, float32): max |W·P − conv2d| = "
          f"{np.abs(pp.weight @ pp.patches - pp.out).max():.3g}")
    digit = load_image("default").image.astype(np.float64)[None, None]
    w = np.random.default_rng(0).normal(size=(6, 1, 5, 5))
    out, cache = ops.conv2d(digit, w, None, 1, 2)
    pp = conv_patches(cache)
    print(f"im2col (the digit 7, 6 random 5×5 filters, float64): max |W·P − conv2d| = "
          f"{np.abs(pp.weight @ pp.patches - pp.out).max():.3g}")
    y, cache = ops.conv_transpose2d(toy_image(0, 3)[None, None], guide, None, 2, 1, 1)
    C = transpose_matrix(cache)
    print(f"Cᵀ (toy 3×3, stride 2, padding 1, output_padding 1): C is {C.shape[0]}×"
          f"{C.shape[1]}, max |Cᵀ·x − conv_transpose2d| = "
          f"{np.abs(C.T @ toy_image(0, 3).ravel() - y.ravel()).max():.3g}")
    model, config = load_any(str(args.weights), dtype=np.float64)
    src = load_image("default")
    x = prepare_unit_image(src.image, config.normalize).astype(np.float64)
    for what in ("weight", "pixel"):
        t = strongest_target(model, x, src.label, what)
        tr = chain_rule(model, x, src.label, (what, t))
        print(f"chain rule to the {what} {t} (float64): sum over all paths {tr.end_value:.17g}, "
              f"backward {tr.backward:.17g}, |difference| {abs(tr.end_value - tr.backward):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
