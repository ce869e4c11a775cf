"""softmax and the cross-entropy loss of a vector of logits (``viz.softmax_gif``)."""
import numpy as np

import ops
from viz.softmax_gif import render_softmax

from .options import MAX_LOGITS, common, logits
from .registry import register

DEFAULT_LOGITS = "-1.2,0.3,1.1,0.4,-0.8,-0.2,-1.5,3.1,0.2,0.9"


def _options(p, paths):
    p.add_argument("--logits", type=logits, default=logits(DEFAULT_LOGITS),
                   help=f"comma-separated logits (2 to {MAX_LOGITS}) (default: illustrative "
                        f"scores of a classifier that favours 7: {DEFAULT_LOGITS})")
    p.add_argument("--label", type=int, default=7,
                   help="true class for the loss (-1: no loss)")
    common(p, "softmax", None, image=False)


@register("softmax", "softmax of logits (exp, sum, normalise) and the cross-entropy loss",
          _options, image=False)
def softmax(args, source):
    k = len(args.logits)
    if not -1 <= args.label < k:
        raise ValueError(f"argument --label: {args.label} is not a class of the {k} logits, "
                         f"expected 0 to {k - 1} (or -1: no loss)")
    label = None if args.label == -1 else args.label
    tr = ops.trace_softmax(np.array(args.logits, dtype=np.float32), label)
    return render_softmax(tr, subtitle="logits: " + ", ".join(f"{v:g}" for v in args.logits))
