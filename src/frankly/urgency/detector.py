"""Urgency: which messages need a person now, and why.

Two halves that explain each other:

1. **Phrases** (``resources/urgency/phrases.tsv``, plus any the user adds): written
   phrases per category and language ("charged twice", "can't log in", "third time I'm
   writing"), matched word by word; a phrase negated in its clause ("no smell of gas")
   does not count. Every reason a message is urgent points at such a span.
2. **A learned model** (``frankly.urgency.model``) reads the words and which phrase
   families occur, and gives a calibrated probability that the message is urgent and its
   main category. Urgency is not negativity: the model never sees the sentiment scores,
   so "Worst movie I have ever seen" is not urgent and a polite "my card was charged
   twice, could you fix it today?" is.

A phrase from the user's configuration is decisive: a message holding one is urgent
(score at least ``user_score``), in the user's category, which may be a new one.

Languages: English, German, Spanish, French and Portuguese have phrases and training
examples. A message in another language is not guessed: its score is None and
``review_reason`` says so. A message too short to tell its language is read as English.
"""

from __future__ import annotations

import csv
import functools
import threading
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from frankly.errors import InputError, check_probability
from frankly.models.artifacts import verify_checksums
from frankly.result import Urgency, UrgencyReason
from frankly.urgency.model import CALM, CATEGORIES, NONE, UrgencyModel
from frankly.urgency.phrases import (Phrase, PhraseHit, PhraseSet, read_phrase_rows, word_spans,
                                     words)

LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "pt")
"""Languages urgency reads: phrases and training examples exist for each."""
# Score given to a message that holds one of the user's own phrases: the user said such a
# message is urgent, so it is, whatever the model thinks (and in the user's category).
USER_PHRASE_SCORE = 0.95
PHRASES_FILE = "phrases.tsv"
# Reasons listed per message: a long document can hold hundreds of phrase hits; the main
# category's come first, and a person reads a handful.
MAX_REASONS = 20
CHECKSUMS = "checksums.json"
_LOCK = threading.Lock()


def _resource_dir() -> Path:
    return Path(str(resources.files("frankly") / "resources" / "urgency"))


def _verify(directory: Path) -> None:
    """Fail loudly when a shipped urgency file is missing or changed."""
    verify_checksums(directory, "urgency resources")


def read_phrases(path: str | Path, source: str = "user") -> list[Phrase]:
    """Phrases from a CSV or TSV file of ``category, phrase[, language]`` rows (header
    optional; language empty or ``*`` for every language)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            rows = list(csv.reader(fh, delimiter="\t" if "\t" in sample else ","))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read urgency phrases file {path}: {exc}") from None
    return read_phrase_rows(rows, str(path), source)


def signals(phrases: PhraseSet, text: str, ws: list[str], hits: list[PhraseHit],
            language: str) -> tuple[list[PhraseHit], list[str], list[str], bool]:
    """The phrase hits with their negation settled in context, and the phrase features of
    the message: categories found, categories found negated, whether "no rush" wording is
    there (training computes them with this same function)."""
    spans: list[tuple[int, int]] | None = None
    settled = []
    for h in hits:
        if h.negated:  # a negation within a few words: is it in the same clause?
            spans = spans or word_spans(text)
            h = PhraseHit(h.phrase, h.first, h.last,
                          phrases.negation_in_clause(text, spans, h, language))
        settled.append(h)
    cats = [h.phrase.category for h in settled if not h.negated and h.phrase.category != CALM]
    negated = [h.phrase.category for h in settled if h.negated and h.phrase.category != CALM]
    calm = any(h.phrase.category == CALM and not h.negated for h in settled)
    return settled, cats, negated, calm


def shipped_phrases(directory: Path | None = None) -> list[Phrase]:
    """The phrases shipped in ``resources/urgency/phrases.tsv``."""
    directory = directory or _resource_dir()
    with open(directory / PHRASES_FILE, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    # The shipped file is language, category, phrase (grouped by language for reading).
    return read_phrase_rows([[c, p, lang] for lang, c, p in rows[1:]], PHRASES_FILE, "phrase")


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[list[Phrase], UrgencyModel]:
    directory = _resource_dir()
    _verify(directory)
    return shipped_phrases(directory), UrgencyModel.load(directory)


class UrgencyDetector:
    """Finds urgent messages.

    >>> from frankly.urgency import UrgencyDetector
    >>> u = UrgencyDetector().assess("My card was charged twice, please fix it today")
    >>> u.urgent, u.category, [r.text for r in u.reasons]
    (True, 'billing', ['charged twice', 'fix it today'])

    ``phrases`` adds the user's phrases (a file of ``category,phrase[,language]`` rows, or
    :class:`Phrase` objects); ``threshold`` moves the score a message needs to be urgent
    (default: the model's, chosen by cross-validation; see its model card).
    """

    def __init__(self, phrases: str | Path | Iterable[Phrase] | None = None, *,
                 threshold: float | None = None,
                 user_score: float = USER_PHRASE_SCORE) -> None:
        shipped, self.model = _shipped()
        self.user_phrases = (read_phrases(phrases) if isinstance(phrases, (str, Path))
                             else list(phrases or ()))
        for p in self.user_phrases:
            if not isinstance(p, Phrase):
                raise InputError(f"urgency phrases must be Phrase objects or a file path, "
                                 f"got {type(p).__name__}")
        # The user's phrases are decisive however they were built.
        self.user_phrases = [replace(p, source="user") for p in self.user_phrases]
        self.phrases = PhraseSet([*shipped, *self.user_phrases])
        self.threshold = self.model.threshold if threshold is None else check_probability(
            "threshold", threshold)
        self.user_score = check_probability("user_score", user_score)
        self._lock = threading.Lock()  # the phrase matcher's caches are shared

    @property
    def categories(self) -> list[str]:
        """Every category a reason can name: the shipped ones and the user's."""
        return [*CATEGORIES, *sorted({p.category for p in self.user_phrases} - {*CATEGORIES,
                                                                                  CALM})]

    def __repr__(self) -> str:
        return (f"UrgencyDetector(phrases={len(self.phrases)}, "
                f"user_phrases={len(self.user_phrases)}, threshold={self.threshold})")

    def assess(self, text: str, language: str | None = None) -> Urgency:
        """The urgency of one message (``language``: ISO 639-1 code, None for unknown)."""
        if not isinstance(text, str):
            raise InputError(f"assess() expects a str, got {type(text).__name__}")
        return self.assess_many([text], [language])[0]

    def assess_many(self, texts: Sequence[str],
                    languages: Sequence[str | None] | None = None) -> list[Urgency]:
        """The urgency of each message, in order (one model call for all of them)."""
        languages = list(languages) if languages is not None else [None] * len(texts)
        if len(languages) != len(texts):
            raise InputError(f"assess_many() got {len(texts)} texts and "
                             f"{len(languages)} languages")
        out: list[Urgency | None] = [None] * len(texts)
        todo: list[tuple[int, str, str, list[str], list[PhraseHit]]] = []
        model = self.model
        with self._lock:
            for i, (text, language) in enumerate(zip(texts, languages)):
                lang = language or "en"
                if lang not in LANGUAGES:
                    out[i] = Urgency(urgent=False, score=None,
                                     review_reason=f"unsupported language for urgency: {lang}")
                    continue
                ws = words(text)
                if not ws:
                    out[i] = Urgency(urgent=False, score=0.0)
                    continue
                todo.append((i, text, lang, ws, self.phrases.match(ws, lang)))
        rows = []
        for i, text, lang, ws, hits in todo:
            hits[:], cats, negated, calm = signals(self.phrases, text, ws, hits, lang)
            rows.append(model.row(ws, cats, negated, calm))
        if not todo:
            return out  # type: ignore[return-value]
        probs = model.probabilities(model.logits(rows))
        scores = model.scores(probs).tolist()
        none = model.classes.index(NONE)
        threshold = self.threshold
        for (i, text, lang, ws, hits), p, score in zip(todo, probs, scores):
            # Most messages: no phrase and a low score, so no category and no reasons.
            out[i] = (Urgency(urgent=False, score=score) if not hits and score < threshold
                      else self._urgency(text, ws, hits, p, none, score))
        return out  # type: ignore[return-value]

    def _urgency(self, text: str, ws: list[str], hits: list[PhraseHit], p: np.ndarray,
                 none: int, score: float) -> Urgency:
        model = self.model
        by_category = {c: float(p[k]) for k, c in enumerate(model.classes) if k != none}
        signals = [h for h in hits if not h.negated and h.phrase.category != CALM]
        user = [h for h in signals if h.phrase.source == "user"]
        if user:
            score = max(score, self.user_score)
            main = max((h.phrase.reason_category for h in user),
                       key=lambda c: (by_category.get(c, 2.0), c))
        else:
            main = max(by_category, key=by_category.__getitem__)
        urgent = score >= self.threshold
        spans = word_spans(text) if signals or urgent else []
        reasons = _reasons(text, spans, signals, main, by_category)
        if urgent and not any(r.category == main for r in reasons):
            found = self._model_reason(text, ws, spans, main, none)
            if found is not None:
                reasons.insert(0, found)
        return Urgency(urgent=urgent, score=score, category=main if urgent or signals else None,
                       reasons=tuple(reasons))

    def _model_reason(self, text: str, ws: list[str], spans: list[tuple[int, int]],
                      category: str, none: int) -> UrgencyReason | None:
        """The word or word pair the model weighed most towards ``category``."""
        model = self.model
        if category not in model.classes:
            return None
        k = model.classes.index(category)
        best, where = 0.0, None
        for j, w in enumerate(ws):
            for name, first, last in ((w, j, j), (f"{w} {ws[j + 1]}" if j + 1 < len(ws)
                                                   else None, j, j + 1)):
                idx = model.vocabulary.get(name) if name else None
                if idx is None:
                    continue
                weight = float(model.weights[idx, k] - model.weights[idx, none])
                if weight > best:
                    best, where = weight, (first, last)
        if where is None:
            return None
        a, b = spans[where[0]][0], spans[where[1]][1]
        return UrgencyReason(category, a, b, text[a:b], source="model")


def _reasons(text: str, spans: list[tuple[int, int]], hits: list[PhraseHit], main: str,
             by_category: dict[str, float]) -> list[UrgencyReason]:
    """One reason per phrase found (overlapping spans of one category merged into the
    longest), the main category's first, then by the model's probability of each."""
    reasons: list[UrgencyReason] = []
    last: dict[str, UrgencyReason] = {}  # each category's latest reason
    # By start, the longest first: a span inside an earlier one of its category starts
    # after it, so comparing with the latest reason of the category suffices (linear time
    # in the hits, for documents with thousands of them).
    for h in sorted(hits, key=lambda h: (h.first, -(h.last - h.first))):
        a, b = spans[h.first][0], spans[h.last][1]
        category = h.phrase.reason_category
        previous = last.get(category)
        if previous is not None and previous.start <= a and b <= previous.end:
            continue
        source = "user" if h.phrase.source == "user" else "phrase"
        last[category] = reason = UrgencyReason(category, a, b, text[a:b], source)
        reasons.append(reason)
    reasons.sort(key=lambda r: (r.category != main, -by_category.get(r.category, 1.0),
                                r.start))
    return reasons[:MAX_REASONS]


@functools.lru_cache(maxsize=1)
def default_detector() -> UrgencyDetector:
    """The detector with the shipped phrases and model only, built once per process."""
    with _LOCK:
        return UrgencyDetector()
