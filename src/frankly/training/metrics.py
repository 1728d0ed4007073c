"""Classification metrics without scikit-learn: accuracy, macro-F1, macro-recall, per class."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from frankly.calibration import expected_calibration_error


def classification_report(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str],
                          probs: np.ndarray | None = None) -> dict[str, Any]:
    """Metrics of ``y_pred`` against ``y_true`` (indices into ``labels``).

    >>> classification_report([0, 1, 2, 2], [0, 1, 2, 1], ["neg", "neu", "pos"])["accuracy"]
    0.75
    """
    k = len(labels)
    t = np.asarray(y_true, dtype=int)
    p = np.asarray(y_pred, dtype=int)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (t, p), 1)
    per_class = {}
    for c, name in enumerate(labels):
        tp = cm[c, c]
        prec = tp / cm[:, c].sum() if cm[:, c].sum() else 0.0
        rec = tp / cm[c].sum() if cm[c].sum() else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[name] = {"precision": float(prec), "recall": float(rec), "f1": float(f1),
                           "support": int(cm[c].sum())}
    present = [name for name in labels if per_class[name]["support"]]
    report: dict[str, Any] = {
        "n": int(len(t)),
        "accuracy": float((t == p).mean()) if len(t) else 0.0,
        "macro_f1": float(np.mean([per_class[n]["f1"] for n in present])) if present else 0.0,
        "macro_recall": (float(np.mean([per_class[n]["recall"] for n in present]))
                         if present else 0.0),
        "per_class": per_class,
        "confusion": {"labels": list(labels), "matrix": cm.tolist()},
    }
    if probs is not None:
        report["ece"] = expected_calibration_error(probs, t)
    return report
