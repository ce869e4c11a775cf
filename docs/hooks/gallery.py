"""mkdocs hook: the gallery pages' animations, each with its player, maths, command and
downloads, rendered by ``scripts/make_gif.py`` from the very ops that train the networks.

At build time (``mkdocs build`` or ``serve``) the hook runs ``make_gif.py all --format html
png mp4 --steps tour`` once into ``.cache/docs-gallery/<hash of the code>/`` (the MP4s only
where the ``video`` extra is installed), adds those files to the site under
``gallery/media/``, and replaces each ``<!-- gallery: SECTION -->`` line of a page with the
section's entries. A rebuild with unchanged code reuses the cache.
``NUMPY_DL_DOCS_MP4=0`` skips the MP4s (they take most of the first build's time).
"""
import hashlib
import html
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "docs-gallery"
SCRIPT = ROOT / "scripts" / "make_gif.py"
MEDIA = "gallery/media"
log = logging.getLogger("mkdocs.hooks.gallery")

# What each op computes, beside its player (the GIFs' own formula lines carry the numbers).
MATHS = {
    "maxpool": "out[n, c, i, j] = max over (a, b) of x_pad[n, c, i·s + a·d, j·s + b·d]  "
               "(padding is −∞);  o = ⌊(i + 2p − d(k − 1) − 1) / s⌋ + 1",
    "avgpool": "out[n, c, i, j] = (1 / k²) · Σ_(a,b) x_pad[n, c, i·s + a, j·s + b]  "
               "(zero padding counted);  o = ⌊(i + 2p − k) / s⌋ + 1",
    "conv2d": "out[n, f, i, j] = b[f] + Σ_c Σ_(a,b) w[f, c, a, b] · x_pad[n, c, i·s + a·d, "
              "j·s + b·d]  (with groups, c runs over f's group only)",
    "conv_transpose2d": "out[n, f, i·s + a·d, j·s + b·d] += x[n, c, i, j] · w[c, f, a, b], then "
                        "p cropped from each side;  o′ = s(i′ − 1) + d(k − 1) + a + 1 − 2p",
    "conv1d": "out[n, f, t] = b[f] + Σ_c Σ_a w[f, c, a] · x_pad[n, c, t·s + a·d]",
    "maxpool1d": "out[n, c, t] = max over a of x_pad[n, c, t·s + a·d]",
    "avgpool1d": "out[n, c, t] = (1 / k) · Σ_a x_pad[n, c, t·s + a]",
    "relu": "relu(x) = max(x, 0)",
    "sigmoid": "σ(x) = 1 / (1 + e^(−x))",
    "tanh": "tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))",
    "linear": "out[n, o] = Σ_i x[n, i] · W[o, i] + b[o]",
    "flatten": "out[n, c·H·W + i·W + j] = x[n, c, i, j]",
    "softmax": "p_k = e^(z_k − max z) / Σ_j e^(z_j − max z);  loss = −log p_label",
    "maxpool-backward": "∂L/∂x[argmax of window (i, j)] += ∂L/∂out[i, j]; the window's other "
                        "cells get 0",
    "avgpool-backward": "∂L/∂x[every cell of window (i, j)] += ∂L/∂out[i, j] / k²",
    "conv2d-backward-input": "∂L/∂x[window (i, j)] += ∂L/∂out[i, j] · w  (scatter); the same "
                             "as the full correlation of the zero-inserted ∂L/∂out with the "
                             "180°-rotated kernel (gather)",
    "conv2d-backward-weight": "∂L/∂w[c, a, b] = Σ_(i,j) x_pad[c, i·s + a, j·s + b] · "
                              "∂L/∂out[i, j];  ∂L/∂b = Σ_(i,j) ∂L/∂out[i, j]",
    "relu-backward": "∂L/∂x = ∂L/∂out · [x > 0]",
    "linear-backward": "∂L/∂x[n] = Σ_o ∂L/∂out[n, o] · W[o];  ∂L/∂W[o] = Σ_n ∂L/∂out[n, o] · x[n]",
    "training-step": "forward, loss, backward through every layer, then w ← w − lr · ∂L/∂w",
}


def _formats():
    fmts = ["html", "png"]
    if os.environ.get("NUMPY_DL_DOCS_MP4") == "0":     # a quick local build
        log.info("gallery: no MP4s (NUMPY_DL_DOCS_MP4=0)")
        return fmts
    try:
        import imageio_ffmpeg  # noqa: F401
        fmts.append("mp4")
    except ImportError:
        log.info("gallery: no MP4s (the video extra is not installed)")
    return fmts


def _code_hash(fmts):
    """Hash of everything the media depend on: the ops, the renderers, the script, assets."""
    h = hashlib.sha256(" ".join(fmts).encode())
    for top in ("ops", "viz", "recipes", "nn", "training", "mnist", "safeio"):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".npy", ".npz"):
                h.update(p.relative_to(ROOT).as_posix().encode())
                h.update(p.read_bytes())
    h.update(SCRIPT.read_bytes())
    for p in sorted((ROOT / "models").glob("*.npz")):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _media_dir():
    """The cached media folder, rendered first when the code changed."""
    fmts = _formats()
    done = CACHE / _code_hash(fmts)
    if (done / ".complete").is_file():
        return done
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / f".build-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    t0 = time.perf_counter()
    log.info("gallery: rendering %s for every animation (cached for later builds)",
             ", ".join(fmts))
    cmd = [sys.executable, str(SCRIPT), "all", "--out-dir", str(tmp), "--format", *fmts,
           "--steps", "tour"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"gallery: {' '.join(cmd[1:])} failed: {r.stderr.strip()}")
    # the 1998 net's learned C1 filter, and the modern net's, as players
    for net, weights in (("lenet5", "lenet5.npz"), ("lenet5-1998", "lenet5-1998.npz")):
        for fmt in fmts:
            out = tmp / (f"{net}_conv1_filter3" + {"html": ".html", "mp4": ".mp4",
                                                    "png": "_frames"}[fmt])
            args = ["conv2d", "--weights", str(ROOT / "models" / weights), "--filter", "3",
                    "--out", str(out), "--format", fmt] + (["--steps", "tour"] if fmt == "png"
                                                           else [])
            r = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                               text=True)
            if r.returncode:
                raise RuntimeError(f"gallery: make_gif.py {' '.join(args)}: {r.stderr.strip()}")
    (tmp / ".complete").write_text(f"{time.perf_counter() - t0:.1f} s\n")
    if done.exists():
        shutil.rmtree(done)
    os.replace(tmp, done)
    for old in CACHE.iterdir():            # media of older code: no longer reachable
        if old != done and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    log.info("gallery: rendered in %.0f s", time.perf_counter() - t0)
    return done


# -- mkdocs events -----------------------------------------------------------------------------
_state = {}


def on_files(files, config):
    media = _media_dir()
    _state["media"] = media
    for p in sorted(media.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            files.append(File.generated(config, f"{MEDIA}/{p.relative_to(media).as_posix()}",
                                        abs_src_path=str(p)))
    for p in sorted((ROOT / "gifs").rglob("*.gif")):       # the guides link the GIFs
        files.append(File.generated(config, f"gifs/{p.relative_to(ROOT / 'gifs').as_posix()}",
                                    abs_src_path=str(p)))
    return files


def _sections():
    sys.path.insert(0, str(ROOT))           # the checkout's recipes, installed or not
    from recipes.gallery import ARITH_DIR, GALLERY, section_of
    by = {"forward": [], "backward": [], ARITH_DIR: []}
    for name, gif in GALLERY.items():
        if name != "training_step":
            by[section_of(name, gif)].append((name, gif.argv, gif.relation))
    forward, backward, arith = by["forward"], by["backward"], by[ARITH_DIR]
    training = [("training_step", GALLERY["training_step"].argv, None),
                ("lenet5_conv1_filter3", ["conv2d", "--weights", "models/lenet5.npz",
                                          "--filter", "3"], None)]
    lenet1998 = [("lenet5-1998_conv1_filter3", ["conv2d", "--weights", "models/lenet5-1998.npz",
                                                 "--filter", "3"], None)]
    return {"forward": forward, "backward": backward, "arithmetic": arith,
            "training": training, "lenet1998": lenet1998}


PAGES = {"forward": "gallery/forward.md", "backward": "gallery/backward.md",
         "arithmetic": "gallery/arithmetic.md", "training": "gallery/training.md",
         "lenet1998": "gallery/lenet1998.md"}


def _stills(name):
    """The PNG stills of an entry (tour frames, then the hold), relative to the media folder."""
    folder = _state["media"] / f"{name}_frames"
    return [p.relative_to(_state["media"]).as_posix() for p in sorted(folder.glob("*.png"))]


def _size(rel):
    from PIL import Image
    with Image.open(_state["media"] / rel) as im:
        return im.size


def _entry(name, argv, relation, depth):
    """One animation: heading, player, maths, command, downloads (markdown)."""
    up = "../" * depth           # from the page's URL (gallery/PAGE/) back to gallery/
    stills = _stills(name)
    w, h = _size(stills[-1])
    slug = name.replace("/", "-")
    op = argv[0]
    cmd = " ".join(["python scripts/make_gif.py", *argv])
    maths = relation or MATHS.get(op, "")
    has_mp4 = (_state["media"] / f"{name}.mp4").is_file()
    pngs = " · ".join(
        f"[{'complete' if i == len(stills) - 1 else f'tour {i + 1}'}](media/{s})"
        for i, s in enumerate(stills))
    out = [f"### {name.split('/')[-1].replace('_', ' ')} {{#{slug}}}", "",
           f'<iframe class="ndl-embed" src="{up}media/{name}.html" title="{html.escape(name)} '
           f'player" loading="lazy" width="{w + 32}" height="{h + 140}" '
           f'style="aspect-ratio: {w + 32} / {h + 140}"></iframe>', ""]
    if maths:
        out += [f"**Maths:** `{maths}`", ""]
    out += ["**Make it** (add `--format html`, `mp4`, `webp` or `png --steps tour`):", "",
            "```bash", cmd, "```", "",
            "**Download:** " + (f"[MP4](media/{name}.mp4) · " if has_mp4 else "") +
            f"[player (HTML)](media/{name}.html) · PNG: {pngs}", ""]
    return "\n".join(out)


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    # the guides point at ../gifs/ from docs/; in the site the GIFs sit at gifs/
    if "/" not in src:
        markdown = markdown.replace("](../gifs/", "](gifs/")
    sections = None
    for key, path in PAGES.items():
        marker = f"<!-- gallery: {key} -->"
        if src == path and marker in markdown:
            sections = sections or _sections()
            body = "\n".join(_entry(n, a, r, 1) for n, a, r in sections[key])
            markdown = markdown.replace(marker, body)
    if src == "gallery/index.md" and "<!-- gallery: thumbnails -->" in markdown:
        sections = sections or _sections()
        parts = []
        for key, path in PAGES.items():
            title = {"forward": "Forward ops", "backward": "Backward",
                     "arithmetic": "Convolution arithmetic",
                     "training": "Training and watching LeNet-5",
                     "lenet1998": "The 1998 net"}[key]
            parts += [f"## [{title}]({Path(path).name})", "", '<div class="ndl-thumbs" markdown>', ""]
            for n, _, _ in sections[key]:
                still = _stills(n)[-1]
                label = n.split("/")[-1].replace("_", " ")
                parts.append(f"[![{label}](media/{still}){{ loading=lazy }}<br>{label}]"
                             f"({Path(path).name}#{n.replace('/', '-')}){{ .ndl-thumb }}")
            parts += ["", "</div>", ""]
        markdown = markdown.replace("<!-- gallery: thumbnails -->", "\n".join(parts))
    return markdown
