"""Bad input raises ValueError/TypeError whose message names the argument (and its value)."""
import numpy as np
import pytest

from ops import (avg_pool2d, avg_pool2d_backward, conv2d, conv2d_backward, cross_entropy,
                 cross_entropy_backward, flatten, linear, linear_backward, log_softmax,
                 max_pool2d, max_pool2d_backward, relu, relu_backward, sigmoid, softmax, tanh)

X = np.zeros((1, 1, 5, 5))
W = np.zeros((2, 1, 3, 3))


def _call(fn, exc, name, value=None):
    """Run ``fn``; it must raise ``exc`` naming ``name`` (a regex) and showing ``value``."""
    with pytest.raises(exc, match=name) as info:
        fn()
    if value is not None:
        assert value in str(info.value), f"value {value!r} not in message: {info.value}"


# ---- conv2d --------------------------------------------------------------------------

CONV_BAD = [
    pytest.param(lambda: conv2d(np.zeros((1, 5, 5)), W), ValueError, r"\bx\b", None,
                 id="x_ndim3"),
    pytest.param(lambda: conv2d(X, np.zeros((2, 1, 3))), ValueError, "weight", None,
                 id="weight_ndim3"),
    pytest.param(lambda: conv2d(X, np.zeros((2, 3, 3, 3))), ValueError, "weight", "3",
                 id="channel_mismatch"),
    pytest.param(lambda: conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5))), ValueError,
                 "weight|kernel", "5", id="kernel_larger_than_input"),
    pytest.param(lambda: conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 5, 5)), padding=1),
                 ValueError, "weight|kernel", None, id="kernel_larger_than_padded_input"),
    pytest.param(lambda: conv2d(np.zeros((1, 1, 4, 4)), W, dilation=2), ValueError,
                 "weight|kernel|dilation", None, id="dilated_kernel_larger_than_input"),
    pytest.param(lambda: conv2d(X, np.zeros((2, 1, 0, 3))), ValueError, "weight", None,
                 id="empty_kernel"),
    pytest.param(lambda: conv2d(X, W, stride=0), ValueError, "stride", "0", id="stride0"),
    pytest.param(lambda: conv2d(X, W, stride=-1), ValueError, "stride", "-1", id="stride_neg"),
    pytest.param(lambda: conv2d(X, W, stride=(1, 0)), ValueError, "stride", None,
                 id="stride_pair0"),
    pytest.param(lambda: conv2d(X, W, dilation=0), ValueError, "dilation", "0", id="dilation0"),
    pytest.param(lambda: conv2d(X, W, padding=-1), ValueError, "padding", "-1",
                 id="padding_neg"),
    pytest.param(lambda: conv2d(X, W, padding=(0, -2)), ValueError, "padding", "-2",
                 id="padding_pair_neg"),
    pytest.param(lambda: conv2d(X, W, stride=1.5), (TypeError, ValueError), "stride", "1.5",
                 id="stride_float"),
    pytest.param(lambda: conv2d(X, W, stride=(1, 2, 3)), (TypeError, ValueError), "stride",
                 None, id="stride_triple"),
    pytest.param(lambda: conv2d(X, W, np.zeros(3)), ValueError, "bias", "3", id="bias_len"),
    pytest.param(lambda: conv2d(X, W, np.zeros((2, 1))), ValueError, "bias", None,
                 id="bias_ndim2"),
    pytest.param(lambda: conv2d(X.astype(object), W), TypeError, r"\bx\b", "object",
                 id="x_object"),
    pytest.param(lambda: conv2d(np.full((1, 1, 5, 5), "a"), W), TypeError, r"\bx\b", None,
                 id="x_str"),
    pytest.param(lambda: conv2d(X.astype(complex), W), TypeError, r"\bx\b", "complex",
                 id="x_complex"),
    pytest.param(lambda: conv2d(X, W.astype(object)), TypeError, "weight", None,
                 id="weight_object"),
]


@pytest.mark.parametrize("fn, exc, name, value", CONV_BAD)
def test_conv2d_rejects(fn, exc, name, value):
    _call(fn, exc, name, value)


# ---- pooling -------------------------------------------------------------------------

POOL_BAD = [
    pytest.param(lambda op: op(np.zeros((1, 5, 5)), 2), ValueError, r"\bx\b", None,
                 id="x_ndim3"),
    pytest.param(lambda op: op(X, 0), ValueError, "kernel_size", "0", id="kernel0"),
    pytest.param(lambda op: op(X, -2), ValueError, "kernel_size", "-2", id="kernel_neg"),
    pytest.param(lambda op: op(X, (2, 0)), ValueError, "kernel_size", None, id="kernel_pair0"),
    pytest.param(lambda op: op(np.zeros((1, 1, 3, 3)), 5), ValueError, "kernel_size", "5",
                 id="kernel_larger_than_input"),
    pytest.param(lambda op: op(np.zeros((1, 1, 3, 3)), (2, 6), padding=1), ValueError,
                 "kernel_size", None, id="kernel_larger_than_padded_input"),
    pytest.param(lambda op: op(X, 2, stride=0), ValueError, "stride", "0", id="stride0"),
    pytest.param(lambda op: op(X, 2, stride=-1), ValueError, "stride", "-1", id="stride_neg"),
    pytest.param(lambda op: op(X, 2, padding=-1), ValueError, "padding", "-1",
                 id="padding_neg"),
    pytest.param(lambda op: op(X, 2, padding=2), ValueError, "padding", "2",
                 id="padding_gt_half_k2"),
    pytest.param(lambda op: op(X, 3, padding=2), ValueError, "padding", "2",
                 id="padding_gt_half_k3"),
    pytest.param(lambda op: op(X, (3, 2), padding=(1, 2)), ValueError, "padding", None,
                 id="padding_gt_half_w_axis"),
    pytest.param(lambda op: op(X, 2, stride=1.5), (TypeError, ValueError), "stride", "1.5",
                 id="stride_float"),
    pytest.param(lambda op: op(X.astype(object), 2), TypeError, r"\bx\b", "object",
                 id="x_object"),
    pytest.param(lambda op: op(np.full((1, 1, 4, 4), "a"), 2), TypeError, r"\bx\b", None,
                 id="x_str"),
]


@pytest.mark.parametrize("op", [max_pool2d, avg_pool2d], ids=["max", "avg"])
@pytest.mark.parametrize("fn, exc, name, value", POOL_BAD)
def test_pool_rejects(op, fn, exc, name, value):
    _call(lambda: fn(op), exc, name, value)


@pytest.mark.parametrize("kwargs, name", [
    pytest.param(dict(kernel_size=2, dilation=0), "dilation", id="dilation0"),
    pytest.param(dict(kernel_size=2, dilation=-1), "dilation", id="dilation_neg"),
    # effective kernel (2 - 1) * 2 + 1 = 3, so padding may be at most 1
    pytest.param(dict(kernel_size=2, dilation=2, padding=2), "padding", id="padding_gt_half_dilated"),
])
def test_max_pool_dilation_rejects(kwargs, name):
    _call(lambda: max_pool2d(np.zeros((1, 1, 6, 6)), **kwargs), ValueError, name)


def test_max_pool_padding_limit_uses_dilated_kernel():
    # effective kernel (2 - 1) * 3 + 1 = 4: padding 2 is allowed although 2 > 2 // 2
    out, _ = max_pool2d(np.ones((1, 1, 6, 6)), 2, stride=2, padding=2, dilation=3)
    assert out.shape == (1, 1, 4, 4)


# ---- linear, flatten, activations, softmax -------------------------------------------

XL = np.zeros((2, 4))
WL = np.zeros((3, 4))

OTHER_BAD = [
    pytest.param(lambda: linear(np.zeros(4), WL), ValueError, r"\bx\b", None, id="linear_x_1d"),
    pytest.param(lambda: linear(np.zeros((2, 2, 4)), WL), ValueError, r"\bx\b", None,
                 id="linear_x_3d"),
    pytest.param(lambda: linear(XL, np.zeros(4)), ValueError, "weight", None,
                 id="linear_weight_1d"),
    pytest.param(lambda: linear(XL, np.zeros((3, 5))), ValueError, "weight", "5",
                 id="linear_in_features"),
    pytest.param(lambda: linear(XL, WL, np.zeros(4)), ValueError, "bias", "4",
                 id="linear_bias_len"),
    pytest.param(lambda: linear(XL.astype(object), WL), TypeError, r"\bx\b", None,
                 id="linear_x_object"),
    pytest.param(lambda: linear(XL, WL.astype(str)), TypeError, "weight", None,
                 id="linear_weight_str"),
    pytest.param(lambda: flatten(np.float64(1.0)), ValueError, r"\bx\b", None, id="flatten_0d"),
    pytest.param(lambda: flatten(X.astype(object)), TypeError, r"\bx\b", None,
                 id="flatten_object"),
    pytest.param(lambda: relu(np.array(["a", "b"])), TypeError, r"\bx\b", None, id="relu_str"),
    pytest.param(lambda: sigmoid(np.zeros(3, dtype=object)), TypeError, r"\bx\b", None,
                 id="sigmoid_object"),
    pytest.param(lambda: tanh(np.zeros(3, dtype=complex)), TypeError, r"\bx\b", None,
                 id="tanh_complex"),
    pytest.param(lambda: softmax(np.array(["a", "b"])), TypeError, r"\bx\b", None,
                 id="softmax_str"),
    pytest.param(lambda: softmax(XL, axis=2), ValueError, "axis", "2", id="softmax_axis"),
    pytest.param(lambda: log_softmax(XL, axis=-3), ValueError, "axis", "-3",
                 id="log_softmax_axis"),
]


@pytest.mark.parametrize("fn, exc, name, value", OTHER_BAD)
def test_other_ops_reject(fn, exc, name, value):
    _call(fn, exc, name, value)


# ---- cross_entropy -------------------------------------------------------------------

LOGITS = np.zeros((3, 4))

LOSS_BAD = [
    pytest.param(lambda: cross_entropy(np.zeros(4), np.array([0])), ValueError, "logits",
                 None, id="logits_1d"),
    pytest.param(lambda: cross_entropy(LOGITS.astype(object), np.array([0, 1, 2])),
                 TypeError, "logits", None, id="logits_object"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array([[0], [1], [2]])), ValueError,
                 "labels", None, id="labels_2d"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array([0, 1])), ValueError, "labels",
                 None, id="labels_too_few"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array([0, 1, 2, 3])), ValueError,
                 "labels", None, id="labels_too_many"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array([0, 4, 1])), ValueError, "labels",
                 "4", id="label_eq_k"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array([0, -1, 1])), ValueError, "labels",
                 "-1", id="label_negative"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array([0.0, 1.0, 2.0])),
                 (TypeError, ValueError), "labels", None, id="labels_float"),
    pytest.param(lambda: cross_entropy(LOGITS, np.array(["a", "b", "c"])),
                 (TypeError, ValueError), "labels", None, id="labels_str"),
]


@pytest.mark.parametrize("fn, exc, name, value", LOSS_BAD)
def test_cross_entropy_rejects(fn, exc, name, value):
    _call(fn, exc, name, value)


# ---- backward: dout must have the output's shape -------------------------------------

BACKWARD_BAD = [
    pytest.param(lambda: conv2d(X, W), conv2d_backward, id="conv2d"),
    pytest.param(lambda: max_pool2d(X, 2), max_pool2d_backward, id="max_pool2d"),
    pytest.param(lambda: avg_pool2d(X, 2), avg_pool2d_backward, id="avg_pool2d"),
    pytest.param(lambda: linear(XL, WL), linear_backward, id="linear"),
    pytest.param(lambda: relu(XL), relu_backward, id="relu"),
]


@pytest.mark.parametrize("forward, backward", BACKWARD_BAD)
def test_backward_rejects_wrong_dout_shape(forward, backward):
    out, cache = forward()
    bad = np.zeros(out.shape[:-1] + (out.shape[-1] + 1,))
    _call(lambda: backward(bad, cache), ValueError, "dout")


def test_cross_entropy_backward_rejects_array_dout():
    _, cache = cross_entropy(LOGITS, np.array([0, 1, 2]))
    _call(lambda: cross_entropy_backward(np.ones(3), cache), ValueError, "dout")


@pytest.mark.parametrize("value, minimum, expected", [
    (3, 1, (3, 3)), ((1, 2), 1, (1, 2)), (0, 0, (0, 0)), ((0, 4), 0, (0, 4)),
    (np.int64(3), 1, (3, 3)), ((np.int32(1), 2), 1, (1, 2)), ([2, 5], 1, (2, 5)),
])
def test_pair_fast_and_checked_paths_agree(value, minimum, expected):
    """ops._check.pair returns plain ints and pairs of plain ints without the Integral
    checks; numpy ints and lists take the checked path; both give a pair of ints."""
    from ops._check import pair
    got = pair(value, "stride", "op", minimum)
    assert got == expected and all(type(v) is int for v in got)


@pytest.mark.parametrize("value", [True, (1, True), 2.0, (1, 2.0), (1, 2, 3), -1, (1, -1)])
def test_pair_rejects_what_the_fast_path_must_not_take(value):
    from ops._check import pair
    with pytest.raises((TypeError, ValueError), match="stride="):
        pair(value, "stride", "op", 1)
