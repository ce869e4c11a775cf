"""One GIF from parsed arguments: check the options, render, write atomically, measure."""
import os
import time

from safeio.paths import output_problem
from viz import export

from .options import MAX_DELAY_MS
from .registry import render
from .window import learned_checks


def _timing(args):
    """The frame delay in ms from --frame-ms or --fps; checks --hold too."""
    frame_ms = args.frame_ms
    if args.fps is not None:
        lo = 1000 / MAX_DELAY_MS
        if not lo <= args.fps <= 50:
            raise ValueError(f"argument --fps: {args.fps:g}, expected {lo:.4f} to 50 frames per "
                             "second (a GIF frame lasts 20 ms to 655 s)")
        frame_ms = int(round(100 / args.fps)) * 10
    for opt, v in (("--frame-ms", frame_ms), ("--hold", args.hold)):
        if v is None:                          # the renderer's own pace
            continue
        if not (20 <= v <= MAX_DELAY_MS and v % 10 == 0):
            raise ValueError(f"argument {opt}: {v}, expected a multiple of 10 ms from 20 to "
                             f"{MAX_DELAY_MS} (GIF delays are whole centiseconds)")
    return frame_ms


WHAT = {"gif": "a GIF", "html": "an HTML player", "mp4": "an MP4 video",
        "webp": "a WebP animation"}


def _check_out(out, parser, fmt="gif"):
    """Refuse an output path that cannot be written, before rendering anything (a device,
    FIFO or /dev/stdout is written in place, never replaced: :mod:`safeio.paths`)."""
    if fmt == "png":                           # a folder of stills, made or replaced whole
        if not out.parent.is_dir():
            parser.error(f"argument --out: folder {str(out.parent)!r} does not exist")
        if not os.access(out.parent, os.W_OK):
            parser.error(f"argument --out: cannot write into folder {str(out.parent)!r} "
                         "(permission denied)")
        return
    problem = output_problem(out, suffixes=(export.SUFFIX[fmt],), what=WHAT[fmt])
    if problem:
        parser.error(f"argument --out: {problem}")


def make(args, parser, gif_dir):
    """Render one GIF from parsed arguments; bad usage ends in ``parser.error`` (exit 2).

    parser – the subcommand's parser (its ``error`` reports bad usage).
    gif_dir – where the file goes without --out: ``gif_dir/OP.gif`` (``.html``, ``.mp4``,
        ``.webp``, or the folder ``OP_frames/`` for the other formats).

    Returns a dict: ``path``, ``frames``, ``play_s``, ``bytes``, ``render_s`` (drawing and
    encoding time), ``tour_frames``, ``tour_s``."""
    try:
        fmt = export.format_of(args.out, getattr(args, "format", None))
    except ValueError as e:
        parser.error(f"argument --format/--out: {e}")
    try:
        steps = getattr(args, "steps", "all")   # a recipe without common() options
        export.require(fmt, steps)
    except export.ExtraMissing as e:
        parser.error(f"argument --format: {e}")
    except ValueError as e:
        parser.error(f"argument --steps: {e}")
    out = args.out or (gif_dir / export.output_name(args.op, fmt))
    if getattr(args, "weights", None) is not None:
        learned_out = learned_checks(args, parser)
        out = args.out or learned_out.with_name(export.output_name(learned_out.stem, fmt))
        if args.out is None:
            out.parent.mkdir(parents=True, exist_ok=True)
    elif args.op == "conv2d" and (args.layer != "conv1" or args.filter != 0):
        parser.error("argument --layer/--filter: only with --weights PATH")
    _check_out(out, parser, fmt)
    if getattr(args, "max_frames", 2) < 2:
        parser.error(f"--max-frames {args.max_frames}: expected at least 2")
    try:
        frame_ms = _timing(args)
        t0 = time.perf_counter()
        anim = render(args)
    except (ValueError, TypeError) as e:       # the ops' and viz's own messages
        parser.error(str(e))
    durations = anim.durations(frame_ms, args.hold)
    try:
        export.save(anim, out, fmt, durations, steps=steps, title=f"{args.op}: numpy_dl",
                    use_gifsicle=not args.no_gifsicle)
    except ValueError as e:
        parser.error(f"argument --out: {e}")
    except OSError as e:                       # the atomic writer left nothing behind
        parser.fail(f"argument --out: cannot write {str(out)!r} ({e.strerror or e})")
    seconds = time.perf_counter() - t0
    tour = anim.tour_frames()
    return {"path": out, "frames": len(anim), "play_s": sum(durations) / 1000,
            "bytes": export.size_of(out), "render_s": seconds, "tour_frames": len(tour),
            "tour_s": sum(durations[i] for i in tour) / 1000}
