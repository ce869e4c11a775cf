"""Each fast op's docstring sends the reader to its naive loop reference in tests/reference.py."""
import inspect

import pytest

import ops
import reference as ref

# ops whose reference has another name: both 1-D pools share one loop
REFERENCE_OF = {"max_pool1d": "pool1d", "avg_pool1d": "pool1d"}
FUNCTIONS = [name for name in ops.__all__ if inspect.isfunction(getattr(ops, name))]
WITH_REFERENCE = [name for name in FUNCTIONS if hasattr(ref, REFERENCE_OF.get(name, name))]


def test_the_references_cover_the_ops():
    # the forwards of every layer LeNet-5 uses, and the backward with routing rules of its own
    assert {"conv2d", "max_pool2d", "max_pool2d_backward", "linear", "relu", "cross_entropy",
            "subsample2d", "euclidean_rbf", "max_pool1d"} <= set(WITH_REFERENCE)


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_docstring_points_to_the_naive_reference(name):
    doc = inspect.getdoc(getattr(ops, name)) or ""
    want = f"``{REFERENCE_OF.get(name, name)}`` in tests/reference.py"
    assert want in doc, f"ops.{name}'s docstring does not say: The naive loop reference is {want}."
