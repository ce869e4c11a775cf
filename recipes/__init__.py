"""recipes: the animations of ``scripts/make_gif.py`` as a library: how each GIF is made
from an op's trace (build the input, run the op, ask its cache for the trace, hand it to a
renderer), the command line built from them, and the gallery.

Each animation registers itself beside its code (:func:`recipes.registry.register`): its
name, its help line, its options and its build function. The parser (:func:`build_parser`),
the dispatch (:func:`render`) and ``make_gif.py all`` read the registry; the gallery is one
table of command lines (:data:`GALLERY`). A new animation is one ``register`` in the module
of its kind; a new gallery GIF is one line in ``recipes/gallery.py``.

Why a package of its own, and not ``viz/recipes``: a recipe runs the ops (``ops``) to get
the trace and loads trained networks (``training``), and ``viz`` imports no op and no
trainer. So the arrows run ``scripts -> recipes -> training -> nn -> ops``, and
``recipes -> viz`` (which stays standalone); nothing in the library imports ``recipes``.
"""
# the modules register their animations on import, in the order --help lists them
from . import window, transpose, signal, elementwise, dense, softmax, backward  # noqa: F401
from . import matrix, chain, field, network  # noqa: F401  (the views that tie the ops together)
from .gallery import ARITH_DIR, GALLERY, Gif, gallery_args, gallery_jobs
from .maker import make
from .options import MAX_PANEL_PX
from .parser import build_parser
from .registry import RECIPES, Paths, Recipe, register, render
from .tour import resolve_tour

__all__ = ["ARITH_DIR", "GALLERY", "Gif", "MAX_PANEL_PX", "Paths", "RECIPES", "Recipe",
           "build_parser", "gallery_args", "gallery_jobs", "make", "register", "render",
           "resolve_tour"]
