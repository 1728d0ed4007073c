"""The value every analysis returns: data, not behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Result:
    """The analysis of one text.

    ``scores`` are calibrated probabilities over ``negative``, ``neutral`` and ``positive``
    that sum to 1; ``confidence`` is the top score. ``needs_review`` is set when a person
    should look (low confidence, empty or invalid input, text the model cannot read well),
    and ``review_reason`` says why. ``error`` is set only for an item that could not be
    analysed at all (for example a value that is not a string in ``analyze_many``).

    >>> r = Result(text="Great service", label="positive",
    ...            scores={"negative": 0.02, "neutral": 0.08, "positive": 0.9},
    ...            model="frankly-accurate 1.0.0")
    >>> r.confidence, r.to_dict()["label"]
    (0.9, 'positive')
    """

    text: str
    label: str
    scores: Mapping[str, float]
    model: str
    needs_review: bool = False
    review_reason: str | None = None
    error: str | None = None
    confidence: float = field(init=False)

    def __post_init__(self) -> None:
        # A private copy, so a caller mutating its dict cannot change the Result.
        object.__setattr__(self, "scores", dict(self.scores))
        object.__setattr__(self, "confidence", max(self.scores.values()))

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of every field."""
        return {
            "text": self.text,
            "label": self.label,
            "scores": dict(self.scores),
            "confidence": self.confidence,
            "needs_review": self.needs_review,
            "review_reason": self.review_reason,
            "error": self.error,
            "model": self.model,
        }
