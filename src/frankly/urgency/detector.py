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
from dataclasses import dataclass, replace
from importlib import resources
from itertools import accumulate, compress, repeat
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from frankly.errors import InputError, check_probability
from frankly.models.artifacts import verify_checksums
from frankly.result import Urgency, UrgencyReason
from frankly.urgency.model import CALM, CATEGORIES, NONE, UrgencyModel
from frankly.urgency.phrases import (SMALL_BATCH, Phrase, PhraseHit, PhraseSet,
                                     read_phrase_rows, word_offsets, word_spans, words_many)

LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "pt")
"""Languages urgency reads: phrases and training examples exist for each."""
# Score given to a message that holds one of the user's own phrases: the user said such a
# message is urgent, so it is, whatever the model thinks (and in the user's category).
USER_PHRASE_SCORE = 0.95
PHRASES_FILE = "phrases.tsv"
# Reasons listed per message: a long document can hold hundreds of phrase hits; the main
# category's come first, and a person reads a handful.
MAX_REASONS = 20
# Words remembered per language (see _WordTable): enough for a language's vocabulary, and
# bounded against a stream of ever new words (ids, numbers, typos).
WORDS_REMEMBERED = 200_000
FAMILIES_REMEMBERED = 10_000  # combinations of phrase families (see UrgencyDetector._assess)
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


@dataclass
class _Read:
    """A batch of messages of one language as _assess read it: their words one after
    another (``begins``: where each message's words begin in ``flat``, then where the last
    ends) and where each word starts in its message (-1 where not known); their model
    rows one after another in ``indices`` (``row_ends``, ``sizes``: where each row ends,
    and its length)."""

    texts: list[str]
    flat: list[str]
    begins: list[int]
    starts: np.ndarray
    indices: list[int]
    row_ends: list[int]
    sizes: list[int]

    def words(self, k: int) -> list[str]:
        return self.flat[self.begins[k]:self.begins[k + 1]]

    def row(self, k: int) -> list[int]:
        return self.indices[self.row_ends[k] - self.sizes[k]:self.row_ends[k]]

    def span(self, k: int, first: int, last: int) -> tuple[int, int]:
        """The offsets of words ``first`` to ``last`` of message ``k``."""
        at = self.begins[k]
        starts = self.starts
        if starts.item(at) < 0:  # not ASCII: found from the text
            spans = word_offsets(self.texts[k], self.words(k), (first, last))
            return spans[first][0], spans[last][1]
        # ASCII: a word's letters are the text's, lower-cased.
        return starts.item(at + first), starts.item(at + last) + len(self.flat[at + last])

    def spans(self, k: int, wanted: Sequence[int]) -> dict[int, tuple[int, int]]:
        """The offsets of the words ``wanted`` of message ``k``, by word."""
        at = self.begins[k]
        if not wanted or self.starts.item(at) >= 0:
            return {j: self.span(k, j, j) for j in wanted}
        return word_offsets(self.texts[k], self.words(k), wanted)


class _WordTable:
    """The words of a language seen so far, numbered, with what each means to the phrases
    (:meth:`PhraseSet.word_facts`) and to the model (:meth:`UrgencyModel.word_id`): a
    batch costs one dictionary lookup per word, the rest is numpy."""

    def __init__(self, phrases: PhraseSet, model: UrgencyModel, language: str) -> None:
        self.phrases, self.model, self.language = phrases, model, language
        self.numbers: dict[str, int] = {}
        # By number (grown by doubling): the phrase facts and the model id.
        self.facts = np.zeros(1024, dtype=np.int64)
        self.ids = np.zeros(1024, dtype=np.int64)

    def look_up(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The phrase facts and model ids of each of ``words``."""
        numbers = self.numbers
        if len(numbers) > WORDS_REMEMBERED:  # bounded: a stream of new words (ids, numbers)
            numbers.clear()
        get = numbers.get
        found = np.fromiter(map(get, words, repeat(-1)), dtype=np.int64, count=len(words))
        for j in np.flatnonzero(found < 0).tolist():
            w = words[j]
            number = get(w)
            if number is None:
                number = numbers[w] = len(numbers)
                if number == len(self.facts):
                    self.facts = np.concatenate((self.facts, np.zeros_like(self.facts)))
                    self.ids = np.concatenate((self.ids, np.zeros_like(self.ids)))
                self.facts[number] = self.phrases.word_facts(w, self.language)
                self.ids[number] = self.model.word_id(w)
            found[j] = number
        return self.facts[found], self.ids[found]


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
        self._words: dict[str, _WordTable] = {}  # by language
        # The model's phrase family features of each combination of them seen (few).
        self._families: dict[tuple[tuple[str, ...], tuple[str, ...], bool], list[int]] = {}
        none = self.model.classes.index(NONE)
        self._columns = [k for k in range(len(self.model.classes)) if k != none]
        self._categories = [self.model.classes[k] for k in self._columns]
        # By class, filled when first needed: how much each feature weighs towards it
        # rather than "none" (float32 differences, as Python floats); the model's reason
        # for a message is its heaviest word or pair.
        self._margins: dict[str, list[float]] = {}
        # The model's features by index, and those that are phrase families (not words).
        self._names = sorted(self.model.vocabulary, key=self.model.vocabulary.__getitem__)
        self._families_of_model = {i for i, name in enumerate(self._names)
                                   if name.startswith("@")}

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
        """The urgency of each message, in order (one model call per language).

        Each language's messages are read together, with the words of all of them one
        after another (not a list per message: fewer objects, and less work for Python's
        garbage collector), in a few numpy calls where it can.
        """
        texts = texts if isinstance(texts, list) else list(texts)  # read by position
        languages = list(languages) if languages is not None else [None] * len(texts)
        if len(languages) != len(texts):
            raise InputError(f"assess_many() got {len(texts)} texts and "
                             f"{len(languages)} languages")
        codes = [language or "en" for language in languages]  # unknown: read as English
        if len(set(codes)) == 1 and codes[0] in LANGUAGES:
            return self._assess(texts, codes[0])  # one language (the usual batch)
        out: list[Urgency | None] = [None] * len(texts)
        for code in dict.fromkeys(codes):  # each language once, in order of appearance
            batch = list(compress(range(len(codes)), map(code.__eq__, codes)))
            if code in LANGUAGES:
                results = self._assess(list(map(texts.__getitem__, batch)), code)
            else:
                results = [Urgency(urgent=False, score=None,
                                   review_reason=f"unsupported language for urgency: {code}")
                           ] * len(batch)
            for i, urgency in zip(batch, results):
                out[i] = urgency
        return out  # type: ignore[return-value]

    def _assess(self, texts: list[str], language: str) -> list[Urgency]:
        """:meth:`assess_many` of messages all in ``language``."""
        flat, lengths, starts = words_many(texts)
        phrases, model = self.phrases, self.model
        with self._lock:
            if len(texts) < SMALL_BATCH:  # read word by word (see SMALL_BATCH)
                facts = ids = None
            else:
                table = self._words.get(language)
                if table is None:
                    table = self._words[language] = _WordTable(phrases, model, language)
                facts, ids = table.look_up(flat)
            found = phrases.match_flat(flat, lengths, language, facts)
        begins = [0, *accumulate(lengths)]  # of each message's words in flat
        families: dict[int, list[int]] = {}  # the model's phrase features of each
        signalled: list[int] = []  # the messages with a phrase that signals urgency
        for k, hits in found.items():  # the messages with a phrase (most have none)
            # The phrase families: categories found, found negated, "no rush" wording (a
            # repeated category adds nothing to the row).
            key: tuple[tuple[str, ...], tuple[str, ...], bool]
            if len(hits) == 1 and not hits[0].negated:  # the usual: what signals() gives
                category = hits[0].phrase.category
                key = ((), (), True) if category == CALM else ((category,), (), False)
            else:
                settled, cats, negated, calm = signals(phrases, texts[k],
                                                       flat[begins[k]:begins[k + 1]], hits,
                                                       language)
                hits[:] = settled
                key = (tuple(dict.fromkeys(cats)), tuple(dict.fromkeys(negated)), calm)
            features = self._families.get(key)
            if features is None:  # few combinations: remembered
                if len(self._families) > FAMILIES_REMEMBERED:
                    self._families.clear()
                features = self._families[key] = model.family_features(*key)
            families[k] = features
            if key[0]:
                signalled.append(k)
        indices, sizes = model.flat_rows(flat, lengths, families, ids)
        del families  # (fewer objects alive: less work for the garbage collector)
        probs = model.probabilities(model.flat_logits(indices, sizes))
        # Compared as Python floats are (not as float32).
        scores = model.scores(probs).astype(np.float64).tolist()
        threshold = self.threshold
        explain = sorted({*signalled, *(k for k, score in enumerate(scores)
                                        if score >= threshold and lengths[k])})
        # Most messages: no phrase that signals urgency and a low score, so no category
        # and no reasons; a message with no word asks nothing of anyone.
        explained = set(explain)
        results: list[Urgency | None] = [  # (urgent=False, score=...)
            None if k in explained else Urgency(False, score if n else 0.0)
            for k, (score, n) in enumerate(zip(scores, lengths))]
        if not explain:
            return results  # type: ignore[return-value]
        chosen = probs[explain]
        read = _Read(texts, flat, begins, starts, indices, [*accumulate(sizes)], sizes)
        # The likeliest category of each (the first of equals, as max() would choose).
        likeliest = map(self._categories.__getitem__,
                        chosen[:, self._columns].argmax(axis=1).tolist())
        for k, p, category in zip(explain, chosen, likeliest):
            results[k] = self._urgency(read, k, found.get(k, []), p, scores[k], category)
        return results  # type: ignore[return-value]

    def _urgency(self, read: _Read, k: int, hits: list[PhraseHit], p: np.ndarray,
                 score: float, likeliest: str) -> Urgency:
        """The urgency of message ``k`` of ``read`` with its category and reasons (``p``:
        the model's class probabilities; ``likeliest``: the category of the highest)."""
        text = read.texts[k]
        if len(hits) == 1:  # the usual: one shipped phrase, as the general case below reads it
            h = hits[0]
            phrase = h.phrase
            if not h.negated and phrase.category != CALM and phrase.source != "user":
                urgent = score >= self.threshold
                at = read.begins[k]
                if read.starts.item(at) >= 0:  # ASCII (see _Read.span, inline: it is hot)
                    a = read.starts.item(at + h.first)
                    b = read.starts.item(at + h.last) + len(read.flat[at + h.last])
                else:
                    a, b = read.span(k, h.first, h.last)
                category = phrase.reason_category
                reason = UrgencyReason(category, a, b, text[a:b], "phrase")
                found = (self._model_reason(read, k, likeliest)
                         if urgent and category != likeliest else None)
                return Urgency(urgent, score, likeliest,
                               (reason,) if found is None else (found, reason))
        signals = [h for h in hits if not h.negated and h.phrase.category != CALM]
        user = [h for h in signals if h.phrase.source == "user"]
        main = likeliest
        by_category: dict[str, float] = {}  # needed to choose among several categories
        if user or len(signals) > 1:
            by_category = dict(zip(self._categories, p[self._columns].tolist()))
        if user:
            score = max(score, self.user_score)
            main = max((h.phrase.reason_category for h in user),
                       key=lambda c: (by_category.get(c, 2.0), c))
        urgent = score >= self.threshold
        spans = read.spans(k, [j for h in signals for j in (h.first, h.last)])
        reasons = _reasons(text, spans, signals, main, by_category)
        if urgent and not any(r.category == main for r in reasons):
            found = self._model_reason(read, k, main)
            if found is not None:
                reasons.insert(0, found)
        return Urgency(urgent=urgent, score=score, category=main if urgent or signals else None,
                       reasons=tuple(reasons))

    def _model_reason(self, read: _Read, k: int, category: str) -> UrgencyReason | None:
        """The word or word pair the model weighed most towards ``category`` in message
        ``k`` (the first of the heaviest, words before the pairs they start), if any
        weighs towards it."""
        model = self.model
        if category not in model.classes:
            return None
        margins = self._margins.get(category)
        if margins is None:
            c, none = model.classes.index(category), model.classes.index(NONE)
            # By feature: float32 differences, as Python floats.
            margins = self._margins[category] = (model.weights[:, c]
                                                 - model.weights[:, none]).tolist()
        # The row holds each word and word pair of the message in the vocabulary once
        # (and its phrase families, which are not words).
        row = [f for f in read.row(k) if f not in self._families_of_model]
        weights = list(map(margins.__getitem__, row))
        best = max(weights, default=0.0)
        if not best > 0.0:
            return None
        ws, names = read.words(k), self._names
        first, pair = divmod(min(_first_place(ws, names[f])
                                 for f, weight in zip(row, weights) if weight == best), 2)
        a, b = read.span(k, first, first + pair)
        return UrgencyReason(category, a, b, read.texts[k][a:b], source="model")


def _first_place(ws: list[str], name: str) -> int:
    """Where the word or word pair ``name`` first occurs in ``ws``, counting each word
    and then the pair it starts: ``2 * j`` for word ``j``, ``2 * j + 1`` for the pair."""
    if " " not in name:
        return 2 * ws.index(name)
    a, b = name.split(" ", 1)
    return next(2 * j + 1 for j in range(len(ws) - 1) if ws[j] == a and ws[j + 1] == b)


def _reasons(text: str, spans: Mapping[int, tuple[int, int]], hits: list[PhraseHit], main: str,
             by_category: dict[str, float]) -> list[UrgencyReason]:
    """One reason per phrase found (overlapping spans of one category merged into the
    longest), the main category's first, then by the model's probability of each
    (``spans``: the offsets of the hits' first and last words; ``by_category``: the
    model's probabilities, needed when there are several hits)."""
    reasons: list[UrgencyReason] = []
    last: dict[str, UrgencyReason] = {}  # each category's latest reason
    # By start, the longest first: a span inside an earlier one of its category starts
    # after it, so comparing with the latest reason of the category suffices (linear time
    # in the hits, for documents with thousands of them).
    for h in (hits if len(hits) < 2 else
              sorted(hits, key=lambda h: (h.first, -(h.last - h.first)))):
        a, b = spans[h.first][0], spans[h.last][1]
        category = h.phrase.reason_category
        previous = last.get(category)
        if previous is not None and previous.start <= a and b <= previous.end:
            continue
        source = "user" if h.phrase.source == "user" else "phrase"
        last[category] = reason = UrgencyReason(category, a, b, text[a:b], source)
        reasons.append(reason)
    if len(reasons) > 1:
        reasons.sort(key=lambda r: (r.category != main, -by_category.get(r.category, 1.0),
                                    r.start))
    return reasons[:MAX_REASONS]


@functools.lru_cache(maxsize=1)
def default_detector() -> UrgencyDetector:
    """The detector with the shipped phrases and model only, built once per process."""
    with _LOCK:
        return UrgencyDetector()
