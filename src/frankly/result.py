"""The value every analysis returns: data, not behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
# A document label may also be "mixed": confidently positive and confidently negative
# sentences in one text. Its scores stay over LABELS.
MIXED = "mixed"
DOCUMENT_LABELS: tuple[str, ...] = (*LABELS, MIXED)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text: ``text[start:end]``, its label and calibrated scores."""

    start: int
    end: int
    label: str
    scores: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label,
                "scores": dict(self.scores)}


@dataclass(frozen=True)
class Evidence:
    """A span that drove the label: ``text[start:end]``.

    ``weight`` is signed by polarity: above zero the span pushes the text towards
    positive, below zero towards negative (in calibrated logit units). Evidence is listed
    most influential first for the label given.
    """

    start: int
    end: int
    text: str
    weight: float
    source: str = "model"  # "model", or "term" for a span the user's term list decides

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text,
                "weight": self.weight, "source": self.source}


@dataclass(frozen=True)
class UrgencyReason:
    """A span of the text that signals urgency: ``text[start:end]`` and its category.

    ``source`` is "phrase" (a shipped urgency phrase), "user" (a phrase from the user's
    configuration) or "model" (the words the learned model weighed most for the category).
    """

    category: str
    start: int
    end: int
    text: str
    source: str = "phrase"

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "start": self.start, "end": self.end,
                "text": self.text, "source": self.source}


@dataclass(frozen=True)
class Urgency:
    """Whether a message needs a person now, how likely that is, and why.

    ``score`` is a calibrated probability that the message is urgent (``urgent`` is
    ``score >= threshold``); ``category`` the main reason it is (or would be) urgent;
    ``reasons`` the spans that signal urgency, the main category's first. A message in a
    language urgency was not built for is not guessed: ``score`` is None and
    ``review_reason`` says why.
    """

    urgent: bool
    score: float | None
    category: str | None = None
    reasons: tuple[UrgencyReason, ...] = ()
    review_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"urgent": self.urgent, "score": self.score, "category": self.category,
                "reasons": [r.to_dict() for r in self.reasons],
                "review_reason": self.review_reason}


@dataclass(frozen=True)
class Aspect:
    """Something the text talks about, ``text[start:end]``, and how it talks about it.

    ``category`` is the term's place in the aspect taxonomy ("delivery and shipping",
    "staff", ... or "other"); ``label`` and ``scores`` are the calibrated sentiment towards
    this occurrence of the term (not the text as a whole). ``source`` is "extracted" (found
    by Frankly) or "target" (a term the caller asked about).
    """

    term: str
    start: int
    end: int
    category: str
    label: str
    scores: Mapping[str, float]
    source: str = "extracted"

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "start": self.start, "end": self.end,
                "category": self.category, "label": self.label, "scores": dict(self.scores),
                "source": self.source}


@dataclass(frozen=True)
class Result:
    """The analysis of one text.

    ``scores`` are calibrated probabilities over ``negative``, ``neutral`` and ``positive``
    that sum to 1; ``confidence`` is the top score. ``label`` is the top-scoring label, or
    ``"mixed"`` when the text holds confidently positive and confidently negative
    sentences (``polarity`` then still names the top score). ``sentences`` gives each
    sentence's offsets, label and scores; ``evidence`` the spans that drove the label.
    ``needs_review`` is set when a person should look (low confidence, empty or invalid
    input, a language the model was not trained for), and ``review_reason`` says why.
    ``error`` is set only for an item that could not be analysed at all (for example a
    value that is not a string in ``analyze_many``). ``urgency`` says whether the message
    needs a person now, and why (None when the Analyzer was built with ``urgency=False``).
    ``aspects`` lists what the text talks about and the sentiment towards each.

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
    sentences: tuple[Sentence, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    language: str | None = None
    urgency: Urgency | None = None
    aspects: tuple[Aspect, ...] = ()
    confidence: float = field(init=False)

    def __post_init__(self) -> None:
        # A private copy, so a caller mutating its dict cannot change the Result.
        object.__setattr__(self, "scores", dict(self.scores))
        object.__setattr__(self, "confidence", max(self.scores.values()))
        if not isinstance(self.sentences, tuple):
            object.__setattr__(self, "sentences", tuple(self.sentences))
        if not isinstance(self.evidence, tuple):
            object.__setattr__(self, "evidence", tuple(self.evidence))
        if not isinstance(self.aspects, tuple):
            object.__setattr__(self, "aspects", tuple(self.aspects))

    @property
    def polarity(self) -> str:
        """The top-scoring of positive, negative and neutral (``label`` unless mixed)."""
        return max(self.scores, key=self.scores.__getitem__)

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
            "language": self.language,
            "sentences": [s.to_dict() for s in self.sentences],
            "evidence": [e.to_dict() for e in self.evidence],
            "urgency": None if self.urgency is None else self.urgency.to_dict(),
            "aspects": [a.to_dict() for a in self.aspects],
        }
