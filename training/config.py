"""A training run's configuration, its defaults and the objects it builds."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from mnist.catalog import DATASETS
from nn import (ACTIVATIONS, INITS, NETS, OPTIMIZERS, SCHEDULES, build_net, build_optimizer,
                build_schedule)
from nn.lenet1998 import MODERN_PARTS
from nn.sdlm import MU

from .step import default_workers

# Learning rate used when --lr is not given, per optimiser. sdlm: the paper's per-pattern
# eta 5e-4 scaled by 16 for batches of 32 (half the linear scaling rule; 32x saturates F6),
# reached by a one-pass warm-up (measured: docs/lenet1998.md).
DEFAULT_LR = {"adam": 2e-3, "sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "sdlm": 8e-3}
# Optimiser, schedule and activation when not given: the modern recipe, except for
# lenet5-1998, whose defaults are the paper's (20 passes of SDLM, its squashing function).
DEFAULTS = {"optimizer": "adam", "schedule": "cosine", "activation": "relu", "batch_size": 128,
            "warmup": 0.0, "clip": 0.0}
# Batch 32 for lenet5-1998 (the paper stepped after each pattern; see nn.sdlm), with the
# learning rate warmed up over the first pass and the gradient norm clipped at 50: a rare
# batch with a large gradient (up to ~400 in the first pass) otherwise pushes C1's biases
# or F6 into saturation in some seeds (measured: docs/lenet1998.md).
NET_DEFAULTS = {"lenet5-1998": {"optimizer": "sdlm", "schedule": "lecun1998",
                                "activation": "scaled_tanh", "epochs": 20, "batch_size": 32,
                                "warmup": 1.0, "clip": 50.0}}
# One pattern per step (--batch-size 1) on lenet5-1998 is the paper's own recipe: its eta,
# 5e-4 per pattern, no clipping (one pattern's gradient is not a batch mean; the clip of 50
# was tuned for batch 32's) and no warm-up (needed only with the literal +-2.4/F_in init:
# 17 % after the first pass without it; measured: docs/lenet1998.md).
PER_PATTERN_DEFAULTS = {"lenet5-1998": {"lr": 5e-4, "clip": 0.0, "warmup": 0.0}}
# What --augment adds for a net, beyond the shifts: for lenet5-1998 the paper's planar
# affine distortions (Section III-C), whose ranges the paper does not give.
AUGMENT_DEFAULTS = {"lenet5-1998": {"scale": 0.05, "squeeze": 0.05, "shear": 0.1}}
# SDLM on distorted patterns: five times the paper's mu, which caps the steps of weights
# whose curvature is near zero (those of saturated units). With the paper's mu such steps
# drove C3 and C5 into saturation, and the runs did worse (measured: docs/lenet1998.md).
DISTORTED_MU = {"lenet5-1998": 0.1}
# --test-shifts K tests (2K+1)² copies of each image; 4 (81 copies) is already far more
# than the shifts of up to 2 pixels that --augment trains on.
MAX_TEST_SHIFT = 4
DISTORTIONS = ("rotate", "scale", "elastic", "shear", "squeeze")
# What a run file written before a field existed ran with (older files lack the field).
LEGACY_DEFAULTS = {"dataset": "mnist", "modern": [], "warmup": 0.0, "shear": 0.0,
                   "squeeze": 0.0, "flip": False, "test_flip": False, "test_shifts": 0}

# Epochs when --epochs is not given: augmented data needs longer to pay off (measured:
# 0.77% after 15 epochs with shifts, 0.66% after 30; docs/training.md).
DEFAULT_EPOCHS, DEFAULT_EPOCHS_AUGMENTED = 15, 30
# Initialisation used when --init is not given, per activation. scaled_tanh takes LeCun's
# N(0, 1/F_in), not the 1998 paper's printed uniform +-2.4/F_in ("lecun98"): that one leaves
# C5's and F6's weighted sums at std ~0.003 on real digits, against the paper's own aim of
# sums in the squashing function's operating range (measured: docs/lenet1998.md).
DEFAULT_INIT = {"relu": "he", "tanh": "glorot", "sigmoid": "glorot", "scaled_tanh": "lecun"}
# L2 weight decay when --weight-decay is not given, per activation (measured, seeds 0-2:
# LeNet-5 ReLU 0.74-0.77% with 5e-4 vs 0.74-0.94% without; sigmoid needs its weights to
# grow and got 1.64% with it; docs/training.md).
DEFAULT_WEIGHT_DECAY = {"relu": 5e-4, "tanh": 5e-4, "sigmoid": 0.0, "scaled_tanh": 0.0}


def upgrade(d: dict) -> dict:
    """A config dict read from a file, in today's terms: the fields it predates filled in
    with :data:`LEGACY_DEFAULTS` (and SDLM's mu), and a clip of null (which meant no
    clipping) as 0."""
    d = {**LEGACY_DEFAULTS, **d}
    if d.get("clip") is None:
        d["clip"] = 0.0
    if "mu" not in d:           # SDLM ran with the paper's mu
        d["mu"] = MU if d.get("optimizer") == "sdlm" else None
    return d


@dataclass
class TrainConfig:
    """Everything that defines a run; stored (as JSON) in checkpoints and weight files.

    ``lr=None``, ``init=None``, ``weight_decay=None`` and ``epochs=None`` mean "the default
    for the chosen optimiser / activation / augmentation", and ``optimizer``, ``schedule``
    and ``activation`` set to None "the default for the net" (:data:`NET_DEFAULTS`), and a
    distortion set to None "none, or the net's with ``augment``" (:data:`AUGMENT_DEFAULTS`);
    all are filled in by :meth:`resolved`;
    ``workers=None`` (processes per step, see :mod:`training.step`) means one per core.
    """
    net: str = "lenet5"
    activation: str | None = None
    init: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    schedule: str | None = None
    weight_decay: float | None = None
    clip: float | None = None       # 0: no clipping
    augment: bool = False
    rotate: float | None = None     # None: 0, or the net's AUGMENT_DEFAULTS with augment
    scale: float | None = None
    elastic: float | None = None
    shear: float | None = None
    squeeze: float | None = None
    flip: bool = False              # random horizontal flips (for clothes, not digits)
    test_flip: bool = False         # test error on the mean logits of each image and its mirror
    test_shifts: int = 0            # ... and of each image moved by up to this many pixels
    normalize: bool = True
    seed: int = 0
    workers: int | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    dataset: str = "mnist"          # files written before this field are MNIST's
    modern: list = field(default_factory=list)   # lenet5-1998 parts swapped (ablations)
    warmup: float | None = None     # epochs of linear learning-rate warm-up
    mu: float | None = None         # SDLM's damping; None for other optimisers

    def resolved(self) -> "TrainConfig":
        """A copy with defaults filled in, validated.

        Raises
        ------
        ValueError
            Naming the bad field, its value and what was expected.
        """
        cfg = TrainConfig(**asdict(self))
        if isinstance(cfg.modern, (list, tuple)) and set(cfg.modern) <= set(MODERN_PARTS):
            cfg.modern = [p for p in MODERN_PARTS if p in cfg.modern]
        net_defaults = {**DEFAULTS, **NET_DEFAULTS.get(cfg.net, {})}
        for name in ("optimizer", "schedule", "activation", "batch_size"):
            if getattr(cfg, name) is None:
                setattr(cfg, name, net_defaults[name])
        if cfg.batch_size == 1 and cfg.optimizer == "sdlm":
            net_defaults.update(PER_PATTERN_DEFAULTS.get(cfg.net, {}))
        for name in ("warmup", "clip"):
            if getattr(cfg, name) is None:
                setattr(cfg, name, net_defaults[name])
        extra = AUGMENT_DEFAULTS.get(cfg.net, {}) if cfg.augment else {}
        for name in DISTORTIONS:
            if getattr(cfg, name) is None:
                setattr(cfg, name, extra.get(name, 0.0))
        if cfg.lr is None:
            cfg.lr = net_defaults.get("lr", DEFAULT_LR.get(cfg.optimizer, 1e-3))
        if cfg.mu is None and cfg.optimizer == "sdlm":
            cfg.mu = DISTORTED_MU.get(cfg.net, MU) if cfg.augmented else MU
        if cfg.init is None:
            cfg.init = DEFAULT_INIT.get(cfg.activation, "he")
        if cfg.weight_decay is None:
            cfg.weight_decay = DEFAULT_WEIGHT_DECAY.get(cfg.activation, 0.0)
        if cfg.epochs is None:
            cfg.epochs = DEFAULT_EPOCHS_AUGMENTED if cfg.augmented else DEFAULT_EPOCHS
            cfg.epochs = net_defaults.get("epochs", cfg.epochs)
        if cfg.workers is None and isinstance(cfg.batch_size, int):
            cfg.workers = default_workers(cfg.batch_size)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        def bad(name, expected):
            raise ValueError(f"{name}={getattr(self, name)!r}: expected {expected}")

        for name, allowed in (("net", NETS), ("activation", tuple(ACTIVATIONS)),
                              ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
            if getattr(self, name) not in allowed:
                bad(name, "one of " + ", ".join(allowed))
        if self.dataset not in DATASETS:
            bad("dataset", "one of " + ", ".join(DATASETS))
        if self.net == "lenet5-1998" and not self.normalize:
            bad("normalize", "True for lenet5-1998 (its input layer maps normalised pixels "
                "onto the paper's -0.1..1.175)")
        if not (isinstance(self.modern, (list, tuple)) and set(self.modern) <= set(MODERN_PARTS)):
            bad("modern", "a list of parts among " + ", ".join(MODERN_PARTS))
        if self.modern and self.net != "lenet5-1998":
            bad("modern", "[] for " + self.net + " (the parts are lenet5-1998's)")
        if self.init is not None and self.init not in INITS:
            bad("init", "one of " + ", ".join(INITS))
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            bad("epochs", "an integer >= 1")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            bad("batch_size", "an integer >= 1")
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            bad("lr", "a number > 0")
        if self.weight_decay is not None and not (self.weight_decay >= 0):
            bad("weight_decay", "a number >= 0")
        if self.mu is not None and not (self.optimizer == "sdlm" and self.mu > 0
                                        and math.isfinite(self.mu)):
            bad("mu", "a number > 0, with optimizer sdlm only")
        if self.clip is not None and not (self.clip >= 0 and math.isfinite(self.clip)):
            bad("clip", "a number >= 0 (0: no clipping)")
        if not (0 <= self.rotate < 180):
            bad("rotate", "degrees in [0, 180)")
        for name in ("scale", "shear", "squeeze"):
            if not (0 <= getattr(self, name) < 1):
                bad(name, "a fraction in [0, 1)")
        for name in ("flip", "test_flip"):
            if not isinstance(getattr(self, name), bool):
                bad(name, "true or false")
        if not (isinstance(self.test_shifts, int) and not isinstance(self.test_shifts, bool)
                and 0 <= self.test_shifts <= MAX_TEST_SHIFT):
            bad("test_shifts", f"an integer in [0, {MAX_TEST_SHIFT}] (pixels)")
        if not (0 <= self.elastic and math.isfinite(self.elastic)):
            bad("elastic", "a displacement scale alpha >= 0 (pixels; 34 in Simard et al. 2003)")
        if not (isinstance(self.warmup, (int, float)) and 0 <= self.warmup <= self.epochs):
            bad("warmup", f"epochs in [0, {self.epochs}] (the run's length)")
        if self.workers is not None and not (isinstance(self.workers, int) and self.workers >= 1):
            bad("workers", "an integer >= 1 (or none for one per core)")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            bad("seed", "an integer >= 0")
        for name in ("train_limit", "test_limit"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int) and v >= 1):
                bad(name, "an integer >= 1 (or none)")

    @property
    def augmented(self) -> bool:
        """Whether training batches are distorted at all."""
        return (bool(self.augment) or bool(self.flip)
                or any((getattr(self, name) or 0) > 0 for name in DISTORTIONS))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = upgrade(d)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown fields {unknown}")
        return cls(**d)


def build_model(cfg: TrainConfig, rng: np.random.Generator, dtype=np.float32):
    """The network named by a resolved config, initialised from ``rng``."""
    return build_net(cfg.net, cfg.activation, cfg.init, modern=cfg.modern, rng=rng, dtype=dtype)


def build_training(cfg: TrainConfig, model):
    """The optimiser and the learning-rate schedule of a resolved config."""
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay,
                          mu=cfg.mu, batch_size=cfg.batch_size)
    schedule = build_schedule(cfg.schedule, cfg.lr, cfg.epochs, cfg.warmup)
    return opt, schedule
