"""Are the scores honest probabilities on dev data, and does ``needs_review`` catch errors?

Dev data is TweetEval's validation split (``tweeteval-sentiment/val_*.txt`` under the data
folder), the set the shipped models were selected and calibrated on: the figures here are
in-sample for the temperature and the review threshold. The model cards also give an
ECE cross-fitted on the two halves of that set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from frankly.calibration import ECE_BINS, expected_calibration_error
from frankly.result import LABELS

DEV_SET = "tweeteval-val"


def load_dev(data: str | Path) -> list[tuple[str, str]]:
    """TweetEval val as ``(text, label)`` pairs from a data folder (DataError if absent)."""
    from frankly.errors import DataError
    from frankly.training.data import load_tweeteval

    base = Path(data) / "tweeteval-sentiment"
    if not (base / "val_text.txt").is_file() or not (base / "val_labels.txt").is_file():
        raise DataError(f"no TweetEval validation split under {base} (val_text.txt and "
                        f"val_labels.txt): give the data folder holding tweeteval-sentiment/ "
                        f"with --data")
    return load_tweeteval(Path(data), "val")


def reliability_bins(probs: np.ndarray, y: np.ndarray, bins: int = ECE_BINS,
                     ) -> list[dict[str, Any]]:
    """Per confidence bin (equal width, as in the ECE): the count, mean confidence and
    accuracy of the top label. Empty bins are left out."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            out.append({"low": float(lo), "high": float(hi), "n": int(in_bin.sum()),
                        "confidence": float(conf[in_bin].mean()),
                        "accuracy": float(correct[in_bin].mean())})
    return out


def calibration_audit(analyzer: Any, examples: Sequence[tuple[str, str]],
                      progress: Callable[[int], None] | None = None,
                      name: str = DEV_SET) -> dict[str, Any]:
    """ECE and reliability bins of the calibrated scores, the share flagged
    ``needs_review`` and the error rate among flagged and unflagged texts.

    An error is a top score (``Result.polarity``) other than the gold label; a "mixed"
    text counts as its top score, as in ``frankly evaluate``.
    """
    texts = [t for t, _ in examples]
    y = np.array([LABELS.index(label) for _, label in examples], dtype=int)
    probs, review, wrong = [], [], []
    for gold, result in zip(y, analyzer.analyze_many(texts)):
        probs.append([result.scores[name] for name in LABELS])
        review.append(result.needs_review)
        wrong.append(LABELS.index(result.polarity) != gold)
        if progress is not None:
            progress(1)
    p = np.array(probs, dtype=float).reshape(-1, len(LABELS))
    flagged = np.array(review, dtype=bool)
    errors = np.array(wrong, dtype=bool)

    def rate(mask: np.ndarray) -> float:
        return float(errors[mask].mean()) if mask.any() else float("nan")

    return {"dataset": name, "n": len(examples), "bins": ECE_BINS,
            "ece": expected_calibration_error(p, y), "reliability": reliability_bins(p, y),
            "accuracy": float(1.0 - errors.mean()) if len(errors) else float("nan"),
            "review_threshold": getattr(analyzer, "review_threshold", None),
            "needs_review_share": float(flagged.mean()) if len(flagged) else float("nan"),
            "error_rate_flagged": rate(flagged), "error_rate_unflagged": rate(~flagged),
            "flagged": int(flagged.sum())}
