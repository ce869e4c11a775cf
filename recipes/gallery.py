"""The gallery as data: every GIF ``make_gif.py all`` renders, as the command line that makes
it. Adding a GIF to the gallery is one line here."""
from pathlib import Path
from typing import NamedTuple

from viz import export

from .registry import RECIPES

ARITH_DIR = "arithmetic"


class Gif(NamedTuple):
    """A gallery entry: the command line (make_gif.py's arguments, split on spaces) and, in
    the arithmetic section, the guide's relationship with the numbers filled in (drawn as the
    GIF's formula line, at the renderer's own pace)."""
    command: str
    relation: str | None = None

    @property
    def argv(self):
        return self.command.split()


_C = "conv2d --kernel guide --no-bias --padding"      # the guide's convolutions; + P
_T = "conv_transpose2d --view direct --kernel"        # the guide's transposed ones; + KERNEL

# name (the file under gifs/, without .gif) -> Gif. The main section, then the backward one
# (each shows the gradient the shipped LeNet-5 really routes), then the "convolution
# arithmetic" section (gifs/arithmetic/): every animation of Dumoulin & Visin's guide with its
# input and kernel sizes, on whole numbers, titled by the guide's relationship with the
# numbers filled in; then what the guide does not show. The transposed ones take toy seeds
# whose inputs have no zero row or column (a zero row of x leaves output rows at 0, and its
# data zeros would stand beside the inserted and the padding zeros).
GALLERY = {
    "maxpool": Gif("maxpool"),
    "maxpool_dilated": Gif("maxpool --kernel-size 3 --stride 2 --padding 1 --dilation 2"),
    "avgpool": Gif("avgpool --kernel-size 3 --stride 3 --padding 1"),
    "conv2d": Gif("conv2d"),
    "conv2d_toy": Gif("conv2d --input toy"),
    "conv2d_channels": Gif("conv2d --channels 2 --kernel sobel-x,sobel-y --stride 2 "
                           "--max-frames 100"),
    "relu": Gif("relu"),
    "sigmoid": Gif("sigmoid"),
    "tanh": Gif("tanh"),
    "linear": Gif("linear"),
    "flatten": Gif("flatten --channels 2"),
    "softmax": Gif("softmax"),
    "conv2d_groups": Gif("conv2d --input toy:0:5 --channels 4 --filters 4 --groups 2 "
                         "--kernel ints --no-bias --max-frames 60"),
    "conv2d_same": Gif("conv2d --input toy:0:5 --kernel ints --kernel-size 4 --padding same "
                       "--no-bias"),
    "conv_transpose2d": Gif("conv_transpose2d"),
    "conv_transpose2d_direct": Gif("conv_transpose2d --view direct"),
    "conv1d": Gif("conv1d"),
    "maxpool1d": Gif("maxpool1d --kernel-size 3 --stride 2 --padding 1"),
    "avgpool1d": Gif("avgpool1d --kernel-size 3 --stride 2"),
    "im2col": Gif("im2col"),
    "im2col_transposed": Gif("im2col --view transposed"),
    "receptive_field": Gif("receptive-field --layer c3 --unit 5,3,3"),
    "network": Gif("network"),
    # backward
    "maxpool_backward": Gif("maxpool-backward"),
    "avgpool_backward": Gif("avgpool-backward"),
    "conv2d_backward_input": Gif("conv2d-backward-input"),
    "conv2d_backward_input_gather": Gif("conv2d-backward-input --view gather"),
    "conv2d_backward_input_stride2": Gif("conv2d-backward-input --view gather --input toy "
                                         "--kernel sobel-x --stride 2 --dout ones"),
    "conv2d_backward_weight": Gif("conv2d-backward-weight"),
    "relu_backward": Gif("relu-backward"),
    "linear_backward": Gif("linear-backward"),
    "training_step": Gif("training-step"),
    "chain_rule": Gif("chain-rule"),
    # convolution arithmetic
    f"{ARITH_DIR}/no_padding_no_strides": Gif(
        f"{_C} 0 --input toy:0:4",
        "Relationship 1: o = (i − k) + 1 = (4 − 3) + 1 = 2"),
    f"{ARITH_DIR}/arbitrary_padding_no_strides": Gif(
        "conv2d --kernel ints --kernel-size 4 --no-bias --input toy:0:5 --padding 2",
        "Relationship 2: o = (i − k) + 2p + 1 = (5 − 4) + 2·2 + 1 = 6"),
    f"{ARITH_DIR}/same_padding_no_strides": Gif(
        f"{_C} 1 --input toy:0:5",
        "Relationship 3 (half padding, p = ⌊k/2⌋ = 1): o = i = 5"),
    f"{ARITH_DIR}/full_padding_no_strides": Gif(
        f"{_C} 2 --input toy:0:5",
        "Relationship 4 (full padding, p = k − 1 = 2): o = i + (k − 1) = 5 + 2 = 7"),
    f"{ARITH_DIR}/no_padding_strides": Gif(
        f"{_C} 0 --input toy:0:5 --stride 2",
        "Relationship 5: o = ⌊(i − k)/s⌋ + 1 = ⌊(5 − 3)/2⌋ + 1 = 2"),
    f"{ARITH_DIR}/padding_strides": Gif(
        f"{_C} 1 --input toy:0:5 --stride 2",
        "Relationship 6: o = ⌊(i + 2p − k)/s⌋ + 1 = ⌊(5 + 2·1 − 3)/2⌋ + 1 = 3"),
    f"{ARITH_DIR}/padding_strides_odd": Gif(
        f"{_C} 1 --input toy:0:6 --stride 2",
        "Relationship 6 (odd): o = ⌊(i + 2p − k)/s⌋ + 1 = ⌊(6 + 2·1 − 3)/2⌋ + 1 = ⌊2.5⌋ + 1 = 3"),
    f"{ARITH_DIR}/no_padding_no_strides_transposed": Gif(
        f"{_T} guide --input toy:0:2 --stride 1",
        "Relationship 8: o′ = i′ + (k − 1) = 2 + (3 − 1) = 4  (transpose of 4 → 2)"),
    f"{ARITH_DIR}/arbitrary_padding_no_strides_transposed": Gif(
        f"{_T} ints --kernel-size 4 --input toy:45:6 --stride 1 --padding 2",
        "Relationship 9: o′ = i′ + (k − 1) − 2p = 6 + 3 − 2·2 = 5  (transpose of 5 → 6)"),
    f"{ARITH_DIR}/same_padding_no_strides_transposed": Gif(
        f"{_T} guide --input toy:438:5 --stride 1 --padding 1",
        "Relationship 10 (half padding): o′ = i′ = 5  (transpose of 5 → 5)"),
    f"{ARITH_DIR}/full_padding_no_strides_transposed": Gif(
        f"{_T} guide --input toy:8524:7 --stride 1 --padding 2",
        "Relationship 11 (full padding): o′ = i′ − (k − 1) = 7 − 2 = 5  (transpose of 5 → 7)"),
    f"{ARITH_DIR}/no_padding_strides_transposed": Gif(
        f"{_T} guide --input toy:0:2 --stride 2",
        "Relationship 12: o′ = s(i′ − 1) + k = 2·(2 − 1) + 3 = 5  (transpose of 5 → 2)"),
    f"{ARITH_DIR}/padding_strides_transposed": Gif(
        f"{_T} guide --input toy:6:3 --stride 2 --padding 1",
        "Relationship 13: o′ = s(i′ − 1) + k − 2p = 2·2 + 3 − 2 = 5  (transpose of 5 → 3)"),
    f"{ARITH_DIR}/padding_strides_odd_transposed": Gif(
        f"{_T} guide --input toy:6:3 --stride 2 --padding 1 --output-padding 1",
        "Relationship 14: o′ = s(i′ − 1) + a + k − 2p = 2·2 + 1 + 3 − 2 = 6  "
        "(a = output_padding; transpose of 6 → 3)"),
    f"{ARITH_DIR}/dilation": Gif(
        f"{_C} 0 --input toy:0:7 --dilation 2",
        "Relationship 15: o = ⌊(i + 2p − k − (k − 1)(d − 1))/s⌋ + 1 = "
        "⌊(7 + 0 − 3 − 2·1)/1⌋ + 1 = 3"),
    # beyond the guide
    f"{ARITH_DIR}/groups2": Gif("conv2d --input toy:0:5 --channels 4 --filters 4 --groups 2 "
                                "--kernel ints --no-bias --max-frames 60"),
    f"{ARITH_DIR}/depthwise": Gif("conv2d --input toy:0:5 --channels 3 --filters 3 --groups 3 "
                                  "--kernel ints --no-bias"),
    f"{ARITH_DIR}/causal_conv1d": Gif("conv1d --padding causal --kernel-size 3"),
    f"{ARITH_DIR}/checkerboard": Gif("conv_transpose2d --kernel ones --stride 2 --counts "
                                     "--input ones:3 --max-frames 60"),
}

# what `make_gif.py all` prints where a section starts
HEADINGS = {"backward": "-- backward --",
            ARITH_DIR: "-- convolution arithmetic (Dumoulin & Visin's animations, with "
                       "numbers) --"}


def section_of(name, gif):
    """The gallery section of entry ``name``: "forward", "backward" (the training step
    included) or ARITH_DIR."""
    if name.startswith(f"{ARITH_DIR}/"):
        return ARITH_DIR
    section = RECIPES[gif.argv[0]].section
    return "backward" if section == "training" else section


def gallery_jobs(parser, out_dir, no_gifsicle=False, gallery=None, formats=("gif",),
                 steps="all"):
    """Each entry of ``gallery`` (default :data:`GALLERY`) in order, once per format of
    ``formats``, as ``(heading, name, args)``: the line that starts a new section (else None),
    the entry's file name without its folder, and the arguments that write it to
    ``out_dir/NAME.gif`` (or that name in the format). Creates ``out_dir/arithmetic``."""
    (Path(out_dir) / ARITH_DIR).mkdir(exist_ok=True)
    shown = "forward"
    for name, gif in (GALLERY if gallery is None else gallery).items():
        part = section_of(name, gif)
        heading = HEADINGS[part] if part != shown else None
        shown = part
        for fmt in dict.fromkeys(formats):
            yield heading, Path(name).name, gallery_args(
                parser, gif, Path(out_dir) / f"{name}.gif", no_gifsicle, fmt, steps)
            heading = None


def gallery_args(parser, gif, out, no_gifsicle=False, fmt="gif", steps="all"):
    """Parsed arguments of gallery entry ``gif`` writing to ``out`` (its name in ``fmt``); an
    arithmetic entry gets the guide's relationship as its formula line and the renderer's
    own pace."""
    out = Path(out)
    if fmt != "gif":
        out = out.with_name(export.output_name(out.stem, fmt))
    a = parser.parse_args(gif.argv + ["--out", str(out), "--format", fmt] +
                          (["--steps", steps] if fmt == "png" else []) +
                          (["--no-gifsicle"] if no_gifsicle else []))
    if gif.relation is not None or str(Path(out).parent.name) == ARITH_DIR:
        a.formula = gif.relation
        a.frame_ms = None                  # the renderer's pace: small traces play slower
    return a
