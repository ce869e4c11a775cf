"""Layers, networks, initialisation, optimisers, schedules and clipping built on :mod:`ops`."""

from .clip import clip_grad_norm_, grad_norm
from .containers import Sequential
from .init import INITS, init_std, init_weight
from .layers import (ACTIVATIONS, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU,
                     ScaledTanh, Sigmoid, Tanh, activation)
from .lenet1998 import LeNet1998, MaskedConv2d, RBFOutput, Subsample2d, lenet5_1998
from .module import Module
from .networks import NETS, build_net, cnn, fc2, lenet5
from .optim import OPTIMIZERS, SGD, Adam, build_optimizer
from .optimizer import Optimizer
from .parameter import Parameter
from .schedules import SCHEDULES, Constant, Cosine, LeCun1998, Step, Warmup, build_schedule
from .sdlm import SDLM, gauss_newton_diagonal

__all__ = [
    "ACTIVATIONS", "INITS", "NETS", "OPTIMIZERS", "SCHEDULES",
    "LeCun1998", "LeNet1998", "MaskedConv2d", "RBFOutput", "SDLM", "ScaledTanh", "Subsample2d",
    "Warmup", "gauss_newton_diagonal", "lenet5_1998",
    "Adam", "AvgPool2d", "Constant", "Conv2d", "Cosine", "Flatten", "Linear", "MaxPool2d",
    "Module", "Optimizer", "Parameter", "ReLU", "SGD", "Sequential", "Sigmoid", "Step", "Tanh",
    "activation", "build_net", "build_optimizer", "build_schedule", "clip_grad_norm_", "cnn",
    "fc2", "grad_norm", "init_std", "init_weight", "lenet5",
]
