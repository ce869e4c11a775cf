"""The command line of make_gif.py, built from the registry: one subcommand per animation,
plus ``all``."""
from pathlib import Path

from safeio.cli import ArgumentParser, HelpFormatter

from .registry import RECIPES


def build_parser(description, paths):
    """``(parser, subs)``: the parser and each subcommand's parser by name.

    description – the top-level ``--help`` text (the script's docstring).
    paths – :class:`recipes.registry.Paths`, the checkout's defaults (gifs/, models/lenet5.npz).
    """
    forward = [r.name for r in RECIPES.values() if r.section == "forward"]
    backward = [r.name for section in ("backward", "training") for r in RECIPES.values()
                if r.section == section]
    parser = ArgumentParser(prog="make_gif.py", description=description,
                            formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="op", required=True, metavar="OP",
                                help=f"{', '.join(forward)}, their backward passes "
                                     f"({', '.join(backward)}) or all (OP --help for its "
                                     "options)")
    subs = {}
    for r in RECIPES.values():
        subs[r.name] = sub.add_parser(r.name, help=r.help, description=r.help,
                                      formatter_class=HelpFormatter)
        r.options(subs[r.name], paths)
    p = subs["all"] = sub.add_parser("all", help="render the whole gallery into gifs/",
                                     description="render the whole gallery into gifs/",
                                     formatter_class=HelpFormatter)
    p.add_argument("--out-dir", type=Path, default=paths.gifs, help="folder of the gallery")
    p.add_argument("--no-gifsicle", action="store_true", help="skip the gifsicle -O3 pass")
    return parser, subs
