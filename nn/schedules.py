"""Learning-rate schedules as pure functions of the (fractional) epoch.

A schedule maps ``epoch`` (a float: ``e + step/steps_per_epoch``, starting at 0) to a
learning rate. Being stateless they need nothing in a checkpoint: a resumed run asks
for the same epochs and gets the same rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("constant", "step", "cosine", "lecun1998")


@dataclass(frozen=True)
class Constant:
    """``lr(epoch) = base_lr``."""
    base_lr: float

    def __call__(self, epoch: float) -> float:
        return self.base_lr


@dataclass(frozen=True)
class Step:
    """``lr(epoch) = base_lr * gamma ** floor(epoch / step_size)`` (``torch.optim.lr_scheduler.StepLR``)."""
    base_lr: float
    step_size: int
    gamma: float = 0.1

    def __call__(self, epoch: float) -> float:
        return self.base_lr * self.gamma ** math.floor(epoch / self.step_size)


@dataclass(frozen=True)
class Cosine:
    """Cosine annealing from ``base_lr`` at epoch 0 to ``min_lr`` at ``total_epochs``.

    ``lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * epoch / total_epochs)) / 2``, the
    formula of ``torch.optim.lr_scheduler.CosineAnnealingLR`` with ``T_max = total_epochs``,
    evaluated at every step (fractional epoch) rather than once per epoch.
    """
    base_lr: float
    total_epochs: float
    min_lr: float = 0.0

    def __call__(self, epoch: float) -> float:
        t = min(max(epoch / self.total_epochs, 0.0), 1.0)
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * t))


@dataclass(frozen=True)
class LeCun1998:
    """The paper's pass-by-pass rates (LeCun et al. 1998, Section III-C), scaled so that the
    first is ``base_lr``: 0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4,
    then 0.00001."""
    base_lr: float
    PASSES = (2, 3, 3, 4)
    FACTORS = (1.0, 0.4, 0.2, 0.1, 0.02)

    def __call__(self, epoch: float) -> float:
        e, start = math.floor(epoch), 0
        for passes, factor in zip(self.PASSES, self.FACTORS):
            start += passes
            if e < start:
                return self.base_lr * factor
        return self.base_lr * self.FACTORS[-1]


@dataclass(frozen=True)
class Warmup:
    """``schedule`` times a linear ramp from 0 to 1 over the first ``epochs`` (Goyal et al.
    2017, "Accurate, large minibatch SGD": the remedy for a rate scaled up with the batch,
    which would throw a freshly initialised net off at full size)."""
    schedule: object
    epochs: float

    def __call__(self, epoch: float) -> float:
        ramp = min(1.0, (epoch + 1e-3) / self.epochs)   # the very first step is not zero
        return self.schedule(epoch) * ramp


def build_schedule(name: str, base_lr: float, total_epochs: int, warmup: float = 0.0):
    """Schedule by name: "constant", "step", "cosine" or "lecun1998", with a linear
    :class:`Warmup` over the first ``warmup`` epochs when ``warmup > 0``.

    ``"step"`` is StepLR with ``step_size = max(1, total_epochs // 3)`` and ``gamma = 0.1``
    (two or three 10x drops over the run); ``"cosine"`` anneals to 0 at ``total_epochs``.
    """
    if name == "constant":
        schedule = Constant(base_lr)
    elif name == "step":
        schedule = Step(base_lr, max(1, total_epochs // 3), 0.1)
    elif name == "cosine":
        schedule = Cosine(base_lr, total_epochs)
    elif name == "lecun1998":
        schedule = LeCun1998(base_lr)
    else:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {name!r}")
    return Warmup(schedule, warmup) if warmup > 0 else schedule
