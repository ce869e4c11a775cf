"""Real MNIST from the cache (skipped when it has not been fetched)."""
import numpy as np

from mnist import load_mnist


def test_real_mnist_shapes_and_labels(mnist_dir):
    train_x, train_y = load_mnist("train", data_dir=mnist_dir, fetch=False)
    test_x, test_y = load_mnist("test", data_dir=mnist_dir, fetch=False)
    assert train_x.shape == (60000, 28, 28) and train_y.shape == (60000,)
    assert test_x.shape == (10000, 28, 28) and test_y.shape == (10000,)
    for a in (train_x, train_y, test_x, test_y):
        assert a.dtype == np.uint8
    assert set(np.unique(train_y)) == set(range(10)) == set(np.unique(test_y))
    assert train_x.max() == 255 and train_x.min() == 0
    # Published class counts of the test set; its first digit is a 7.
    assert np.bincount(test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test_y[0] == 7 and train_y[0] == 5
