"""network: one digit through a trained network, stage by stage, a zoom into one cell of
each stage, then the class scores (``training.network``, ``viz.network_gif``)."""
from pathlib import Path

from training.network import network_stages
from viz.network_gif import PACE_MS, render_network

from .options import common, titles
from .registry import register
from .trained import trained_input, weights_option


def _options(p, paths):
    weights_option(p, paths)
    common(p, "network", PACE_MS, hold_ms=6000)


@register("network", "one digit through the network: its feature maps appear layer by layer, "
                     "then a zoom into one cell of each layer, then the class scores",
          _options)
def network(args, source):
    model, config, x = trained_input(args, source)
    stages, probs = network_stages(model, x)
    sub = (f"input: {source.description}, normalised  ·  {Path(args.model).name} "
           f"({config.net})")
    return render_network(x[0, 0], stages, probs, subtitle=sub, label=source.label,
                          **titles(args))
