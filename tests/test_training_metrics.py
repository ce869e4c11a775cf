"""Confusion matrix, per-class table, most confused pairs, metrics log."""
import numpy as np

from nn import Parameter
from training import MetricsLog, confusion_matrix, most_confused, per_class_table
from training.metrics import grad_norms, param_norms


def test_confusion_tables():
    labels = np.array([0, 0, 1, 1, 1, 2, 2])
    preds = np.array([0, 1, 1, 2, 2, 2, 0])
    cm = confusion_matrix(labels, preds, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 2], [1, 0, 1]])
    table = per_class_table(cm)
    assert table[1] == {"class": 1, "n": 3, "errors": 2, "error": 2 / 3}
    assert most_confused(cm, top=2) == [{"true": 1, "pred": 2, "count": 2},
                                        {"true": 2, "pred": 0, "count": 1}]
    assert most_confused(np.eye(3, dtype=int)) == []


def test_norms():
    p = Parameter(np.array([3.0, 4.0]))
    p.grad[...] = [1.0, 0.0]
    assert param_norms([("w", p)]) == {"w": 5.0}
    assert grad_norms([("w", p)]) == {"w": 1.0}


def test_metrics_log_append_read_truncate(tmp_path):
    log = MetricsLog(str(tmp_path / "m.jsonl"))
    assert log.read() == []
    for e in (1, 2, 3):
        log.append({"epoch": e, "x": e * 1.5})
    assert [r["x"] for r in log.read()] == [1.5, 3.0, 4.5]
    log.truncate_after(1)
    assert log.read() == [{"epoch": 1, "x": 1.5}]
