"""The registry of animations: each registers its name, help, options and build function
beside its code, and the command line, the dispatch and the gallery all read it from here."""
from dataclasses import dataclass
from typing import Callable, NamedTuple

from viz.inputs import load_image


class Paths(NamedTuple):
    """The checkout's files that options default to (the script passes them in)."""
    gifs: object        # the gallery folder, gifs/
    lenet: object       # the shipped network, models/lenet5.npz


@dataclass(frozen=True)
class Recipe:
    """One animation: ``make_gif.py NAME`` runs ``build``.

    name – the subcommand.
    help – one line for ``--help``: what the animation shows.
    options – ``options(parser, paths)`` adds the subcommand's arguments.
    build – ``build(args, source)`` returns a :class:`viz.frames.Animation`; ``source`` is the
        loaded ``--input`` (:class:`viz.inputs.Loaded`), or None for ``image=False``.
    section – ``"forward"``, ``"backward"`` (a backward pass) or ``"training"`` (a whole
        training step): where ``--help``'s summary lists it (the backward passes, then the
        training step) and the gallery section it belongs to (the training step: backward).
    image – whether the animation reads an ``--input`` image.
    """
    name: str
    help: str
    options: Callable
    build: Callable
    section: str = "forward"
    image: bool = True


RECIPES = {}        # name -> Recipe, in registration order (the order --help lists them)


def register(name, help, options, *, section="forward", image=True):
    """Decorator: register the decorated build function as animation ``name``."""
    def add(build):
        if name in RECIPES:
            raise ValueError(f"animation {name!r} is registered twice")
        RECIPES[name] = Recipe(name, help, options, build, section, image)
        return build
    return add


def render(args):
    """Build the input, run the op, render its trace. Returns a ``viz.frames.Animation``."""
    recipe = RECIPES[args.op]
    if not recipe.image:
        return recipe.build(args, None)
    return recipe.build(args, load_image(args.input, invert=getattr(args, "invert", False)))
