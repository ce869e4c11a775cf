"""numpy_dl ops: NCHW NumPy ops with exact backward passes and traceable sliding windows.

Each op returns ``(out, cache)``; ``<op>_backward(dout, cache)`` returns its gradients and
``cache.trace()`` the op's steps. See docs/ops.md.
"""
from .activations import relu, relu_backward, sigmoid, sigmoid_backward, tanh, tanh_backward
from .connections import ConnectedTrace
from .conv import conv2d, conv2d_backward, conv2d_gauss_newton
from .conv1d import (avg_pool1d, avg_pool1d_backward, conv1d, conv1d_backward, max_pool1d,
                     max_pool1d_backward)
from .conv_transpose import conv_transpose2d, conv_transpose2d_backward
from .dense import flatten, flatten_backward, linear, linear_backward, linear_gauss_newton
from .loss import cross_entropy, cross_entropy_backward, log_softmax, softmax, trace_softmax
from .map_loss import map_loss, map_loss_backward
from .pad import affine_pad2d, affine_pad2d_backward
from .pool import (ReluMaxPoolCache, avg_pool2d, avg_pool2d_backward, max_pool2d,
                   max_pool2d_backward, relu_max_pool2d, relu_max_pool2d_backward)
from .rbf import RBFTrace, euclidean_rbf, euclidean_rbf_backward
from .scaled_tanh import scaled_tanh, scaled_tanh_backward
from .subsample import subsample2d, subsample2d_backward, subsample2d_gauss_newton
from .trace import (ElementwiseTrace, FlattenTrace, LinearTrace, SoftmaxTrace, WindowStep,
                    WindowTrace)

__all__ = [
    "conv2d", "conv2d_backward", "conv2d_gauss_newton", "conv_transpose2d", "conv_transpose2d_backward",
    "conv1d", "conv1d_backward", "max_pool1d", "max_pool1d_backward", "avg_pool1d",
    "avg_pool1d_backward",
    "max_pool2d", "max_pool2d_backward", "relu_max_pool2d", "relu_max_pool2d_backward",
    "ReluMaxPoolCache", "avg_pool2d",
    "avg_pool2d_backward", "linear", "linear_backward", "linear_gauss_newton", "flatten", "flatten_backward",
    "relu", "relu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "log_softmax", "cross_entropy", "cross_entropy_backward", "trace_softmax",
    "subsample2d", "subsample2d_backward", "subsample2d_gauss_newton", "euclidean_rbf",
    "euclidean_rbf_backward", "scaled_tanh", "scaled_tanh_backward", "map_loss",
    "map_loss_backward", "affine_pad2d", "affine_pad2d_backward", "RBFTrace", "ConnectedTrace",
    "WindowTrace", "WindowStep", "LinearTrace", "ElementwiseTrace", "FlattenTrace", "SoftmaxTrace",
]
