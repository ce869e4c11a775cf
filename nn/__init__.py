"""Layers, networks, initialisation, optimisers, schedules and clipping built on :mod:`ops`."""

from .clip import clip_grad_norm_, grad_norm
from .containers import Sequential
from .init import INITS, init_std, init_weight
from .layers import (ACTIVATIONS, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sigmoid,
                     Tanh, activation)
from .module import Module
from .networks import NETS, build_net, cnn, fc2, lenet5
from .optim import OPTIMIZERS, SGD, Adam, Optimizer, build_optimizer
from .parameter import Parameter
from .schedules import SCHEDULES, Constant, Cosine, Step, build_schedule

__all__ = [
    "ACTIVATIONS", "INITS", "NETS", "OPTIMIZERS", "SCHEDULES",
    "Adam", "AvgPool2d", "Constant", "Conv2d", "Cosine", "Flatten", "Linear", "MaxPool2d",
    "Module", "Optimizer", "Parameter", "ReLU", "SGD", "Sequential", "Sigmoid", "Step", "Tanh",
    "activation", "build_net", "build_optimizer", "build_schedule", "clip_grad_norm_", "cnn",
    "fc2", "grad_norm", "init_std", "init_weight", "lenet5",
]
