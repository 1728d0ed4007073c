"""The Analyzer owns the pipeline: validate, language check, sentences, model, calibrate,
mixed, evidence, abstain.

Every entry point (Python API, CLI, later the service and batch jobs) calls
``Analyzer.analyze_many``; nothing else re-implements a step.

How a text is read:

1. It is split into sentences (``frankly.text.sentences``), with offsets in the text.
2. A text up to ``model.chunk_chars`` characters goes to the model whole; a longer one in
   sentences (a sentence longer than a chunk is cut at whitespace). A piece with more
   tokens than the model's window is cut further before the model runs (to the share of
   it that fits, at most ``model.chunk_floor`` characters): nothing is silently truncated.
3. A text of several sentences is also read sentence by sentence, so a sentence's scores
   do not take the tone of its neighbours (the transformer reads the whole text too, for
   document scores in context: ``model.read_whole``). Otherwise the document's scores
   pool the token scores of its pieces, exactly as the model pools the tokens of one text.
4. Scores are calibrated (prior correction, temperature). The label is the top score, or
   "mixed" when one sentence is confidently positive and another confidently negative
   (both at least ``mixed_threshold``, chosen on dev data and stored in the model config).
5. Evidence: the spans with the largest share for the label (``frankly.explain``); the
   best are checked by deleting them and re-scoring, and the first one listed is one whose
   removal lowers the label's probability.
6. Urgency (``frankly.urgency``): its own phrases and model, one call per window of
   texts; it does not read the sentiment scores (urgency is not negativity).
7. Aspects (``frankly.aspects``): from the same model call's per-token scores (the aspect
   heads, or the word scores of a model without them), for each unit that reads the
   document; the caller's ``targets`` at every occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

import numpy as np

from frankly import explain
from frankly.errors import InputError, check_probability
from frankly.models.base import WordScores
from frankly.result import MIXED, Evidence, Result, Sentence, Urgency
from frankly.terms import Terms
from frankly.text.language import LanguageGuess, detect_languages
from frankly.text.normalize import Mapped
from frankly.text.sentences import Span, chunk_sentences, split_sentences

if TYPE_CHECKING:
    from frankly.aspects import AspectReader, Taxonomy
    from frankly.models.base import BaseModel
    from frankly.urgency import UrgencyDetector

# How many batches are read ahead and sorted by length: a larger window pads less and
# runs faster, at the cost of memory that grows with window * batch_size texts.
SORT_WINDOW_BATCHES = 32  # measured: 3% faster than 8 for the transformer
EMPTY_SCORES = {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
NOT_URGENT = Urgency(urgent=False, score=0.0)  # an empty text asks nothing of anyone
NOT_ASSESSED = Urgency(urgent=False, score=None, review_reason="invalid input: not a text")
# Used when a model's config states none (models trained before mixed labels existed).
DEFAULT_MIXED_THRESHOLD = 0.7


def _describe(value: object) -> str:
    shown = repr(value)
    return f"{type(value).__name__} {shown[:40] + '...' if len(shown) > 40 else shown}"


# A text to read: its index in the window, the text, its language and its urgency.
_Pending = tuple[int, str, LanguageGuess, "Urgency | None"]
CUT_MARGIN = 0.8  # a unit that overflows is cut to this share of what its tokens suggest fits


@dataclass
class _Unit:
    """One piece of a text the model reads: the whole text, a sentence, or part of one."""

    doc: "_Doc"
    offset: int
    length: int
    sentence: int | None            # index of its sentence, None for the whole text
    text: str | None = None         # dropped once scored, for long documents
    logits: np.ndarray | None = None
    raw: np.ndarray | None = None   # summed token scores (see WordScores)
    count: float = 0.0              # tokens or features
    words: WordScores | None = None  # kept for evidence in short texts only
    hits: list[explain.TermShift] = field(default_factory=list)


@dataclass
class _Doc:
    index: int
    text: str
    sentences: list[Span]
    long: bool
    units: list[_Unit] = field(default_factory=list)
    error: str | None = None
    language: LanguageGuess | None = None
    urgency: Urgency | None = None
    targets: tuple[str, ...] = ()
    # Aspects found so far: (source, start, end, probabilities), see AspectReader.read.
    aspects: list[tuple[str, int, int, list[float]]] = field(default_factory=list)
    # Long texts: the best evidence so far for each label, kept bounded as pieces arrive.
    best: dict[int, tuple[list[explain.Candidate], list[explain.Candidate]]] = field(
        default_factory=dict)

    @property
    def whole(self) -> _Unit | None:
        return next((u for u in self.units if u.sentence is None), None)

    def readers(self) -> list[_Unit]:
        """The units that score the document as a whole."""
        whole = self.whole
        return [whole] if whole is not None else [u for u in self.units
                                                  if u.sentence is not None]


class Analyzer:
    """Analyse texts with one model.

    >>> import frankly
    >>> frankly.load("fast").analyze("no problems at all, great service").label
    'positive'

    ``explain=False`` skips evidence (the deletion checks cost about one more model call
    per text). ``terms`` fixes the polarity of brand terms: a mapping of term to
    "positive", "negative", "neutral" or a signed weight, or a :class:`Terms`.
    ``urgency``: True (the shipped urgency phrases and model), False (``Result.urgency``
    is None), a file of the user's own ``category,phrase[,language]`` rows added to the
    shipped ones, or an :class:`~frankly.urgency.UrgencyDetector`.
    ``sentences=False`` reads each text as a whole only (document-level sentiment, about
    twice as fast on multi-sentence texts): ``Result.sentences`` is then empty and the
    label is never "mixed", which needs each sentence's own scores.
    ``aspects``: True (the default taxonomy), False (``Result.aspects`` stays empty), a
    mapping of category -> seed terms, a file of them, or a
    :class:`~frankly.aspects.Taxonomy`.
    """

    def __init__(self, model: str | Path | BaseModel = "accurate", *,
                 review_threshold: float | None = None, explain: bool = True,
                 terms: Mapping[str, str | float] | Terms | None = None,
                 mixed_threshold: float | None = None,
                 urgency: bool | str | Path | UrgencyDetector = True,
                 sentences: bool = True,
                 aspects: bool | str | Path | Mapping[str, Iterable[str]] | Taxonomy = True,
                 ) -> None:
        if isinstance(model, (str, Path)):
            from frankly.models.registry import load_model

            model = load_model(model)
        self.model = model
        self.review_threshold = check_probability(
            "review_threshold", model.review_threshold if review_threshold is None
            else review_threshold)
        self.mixed_threshold = check_probability(
            "mixed_threshold", mixed_threshold if mixed_threshold is not None
            else model.config.get("mixed_threshold", DEFAULT_MIXED_THRESHOLD))
        self.explain = bool(explain)
        self.sentences = bool(sentences)
        self.terms = terms if isinstance(terms, Terms) or terms is None else Terms(terms)
        if self.terms is not None and not len(self.terms):
            self.terms = None
        self.urgency = _urgency_detector(urgency)
        self.aspects = _aspect_reader(aspects, model)

    @property
    def _document_level(self) -> bool:
        """Whether each text is read whole and nothing more (see ``_whole_texts``)."""
        return (not self.sentences and not self.explain and self.terms is None
                and self.aspects is None)

    def __repr__(self) -> str:
        return (f"Analyzer(model={self.model.id!r}, review_threshold={self.review_threshold}, "
                f"mixed_threshold={self.mixed_threshold}, explain={self.explain}, "
                f"sentences={self.sentences}, "
                f"terms={len(self.terms) if self.terms else 0}, "
                f"urgency={self.urgency is not None}, aspects={self.aspects is not None})")

    def without(self, *, explain: bool = False, sentences: bool = False,
                aspects: bool = False) -> "Analyzer":
        """A copy sharing this Analyzer's model and settings, with the named steps off
        (evidence, per-sentence scores, aspects): cheaper readings of the same texts, built
        without loading anything.

        >>> import frankly
        >>> full = frankly.load("fast")
        >>> quick = full.without(explain=True, aspects=True)
        >>> quick.model is full.model, quick.explain, quick.aspects is None
        (True, False, True)
        """
        import copy

        other = copy.copy(self)
        if explain:
            other.explain = False
        if sentences:
            other.sentences = False
        if aspects:
            other.aspects = None
        return other

    def analyze(self, text: str, *, targets: Iterable[str] | None = None) -> Result:
        """Analyse one text. Raises InputError if ``text`` is not a string.

        ``targets``: terms to report the sentiment towards (``Result.aspects`` gets an entry
        for each occurrence of each, source "target"), whether or not Frankly would have
        picked them out itself.
        """
        if not isinstance(text, str):
            raise InputError(f"analyze() expects a str, got {_describe(text)}")
        return next(self._analyze_window([text], targets=self._targets(targets)))

    def analyze_many(self, texts: Iterable[str], *, batch_size: int = 64,
                     targets: Iterable[str] | None = None) -> Iterator[Result]:
        """Analyse many texts lazily, in order, one Result per input item.

        Memory stays bounded for any number of texts: items are read
        ``batch_size * 32`` at a time. An item that is not a string does not stop the
        batch: it yields a Result with ``error`` and ``needs_review`` set. ``targets`` as
        for :meth:`analyze`, the same for every text.
        """
        found = self._targets(targets)
        if isinstance(texts, str):
            raise InputError("analyze_many() expects an iterable of texts, got one str; "
                             "use analyze() or wrap it in a list")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise InputError(f"batch_size must be a positive int, got {_describe(batch_size)}")
        try:
            iterator = iter(texts)
        except TypeError:
            raise InputError(f"analyze_many() expects an iterable of texts, "
                             f"got {_describe(texts)}") from None
        return self._stream(iterator, batch_size, found)

    def _targets(self, targets: object) -> tuple[str, ...]:
        from frankly.aspects import check_targets

        found = check_targets(targets)
        if found and self.aspects is None:
            raise InputError("targets need aspects: build the Analyzer with aspects=True "
                             "(the default)")
        return found

    def _stream(self, iterator: Iterator[object], batch_size: int,
                targets: tuple[str, ...]) -> Iterator[Result]:
        batch_size = max(batch_size, self.model.min_batch_size)
        window = batch_size * SORT_WINDOW_BATCHES
        while chunk := list(islice(iterator, window)):
            yield from self._analyze_window(chunk, batch_size, targets)

    # -- the pipeline ---------------------------------------------------------------------

    def _analyze_window(self, items: list[object], batch_size: int = 64,
                        targets: tuple[str, ...] = ()) -> Iterator[Result]:
        results: list[Result | None] = [None] * len(items)
        docs: list[_Doc] = []
        todo: list[int] = []  # the items that are texts to read
        model_id = self.model.id
        urgency = self.urgency
        for i, item in enumerate(items):
            if not isinstance(item, str):
                results[i] = Result(text="" if item is None else str(item), label="neutral",
                                    scores=EMPTY_SCORES, model=model_id, needs_review=True,
                                    review_reason="invalid input: not a text",
                                    error=f"expected a str, got {_describe(item)}",
                                    urgency=NOT_ASSESSED if urgency else None)
            elif not item.strip():
                results[i] = Result(text=item, label="neutral", scores=EMPTY_SCORES,
                                    model=model_id, needs_review=True,
                                    review_reason="empty text: nothing to analyse",
                                    urgency=NOT_URGENT if urgency else None)
            else:
                todo.append(i)
        texts: list[str] = [items[i] for i in todo]  # type: ignore[misc]
        languages = detect_languages(texts)
        urgencies: list[Urgency | None] = (
            urgency.assess_many(texts, [g.language for g in languages])
            if urgency is not None and texts else [None] * len(texts))
        pending = list(zip(todo, texts, languages, urgencies))
        if self._document_level:
            pending = self._whole_texts(pending, results, batch_size)
        for i, item, guess, found in pending:
            long = len(item) > self.model.chunk_chars
            # Document-level reading without evidence needs no sentence boundaries
            # (a text too long for the window is still cut into pieces, never truncated).
            split = self.sentences or self.explain or long
            docs.append(_Doc(i, item, split_sentences(item) if split else [Span(0, len(item))],
                             long=long, language=guess, urgency=found, targets=targets))
        self._score([unit for doc in docs for unit in self._units(doc)], batch_size)
        for doc in docs:
            if doc.error is not None:
                results[doc.index] = Result(
                    text=doc.text, label="neutral", scores=EMPTY_SCORES, model=model_id,
                    needs_review=True, review_reason="the model could not analyse this text",
                    error=doc.error, language=doc.language.language if doc.language else None,
                    urgency=doc.urgency)
        outcomes = self._assemble_all([doc for doc in docs if doc.error is None])
        if self.explain:
            self._verify_evidence(outcomes, batch_size)
        for outcome in outcomes:
            results[outcome.doc.index] = outcome.result()
        # A _Doc and its _Units refer to each other: with the cycle broken, the window's
        # objects go as soon as it is done instead of waiting for a full garbage collection
        # (about 11 objects a text; those collections cost ~15% of the fast model's time).
        for doc in docs:
            doc.units.clear()
        yield from results  # type: ignore[misc]

    def _whole_texts(self, pending: list[_Pending], results: list[Result | None],
                     batch_size: int) -> list[_Pending]:
        """Document-level reading without evidence or terms, in a few numpy calls per batch
        instead of the general path's objects per text (same scores: each text is one unit
        read whole). Returns the texts this cannot read as one piece (longer than
        ``model.chunk_chars`` or the model's window) or whose batch failed: the general
        path reads those, cutting them or isolating the failure."""
        model = self.model
        limit = model.chunk_chars
        short = [p for p in pending if len(p[1]) <= limit]
        rest = [p for p in pending if len(p[1]) > limit]
        sizes = model.sizes([p[1] for p in short]) if short else None
        if sizes is None:
            ordered = sorted(short, key=lambda p: len(p[1]))
        else:
            order = sorted(range(len(short)), key=sizes.__getitem__)
            ordered = [short[k] for k in order if model.overflow_of(sizes[k]) is None]
            rest += [short[k] for k in order if model.overflow_of(sizes[k]) is not None]
        read: list[_Pending] = []
        logits: list[np.ndarray] = []
        for start in range(0, len(ordered), batch_size):
            batch = ordered[start:start + batch_size]
            try:
                scored, _, _ = model.predict_counts([p[1] for p in batch])
            except Exception:  # noqa: BLE001 - the general path finds the text that failed
                rest += batch
                continue
            read += batch
            logits.append(np.asarray(scored, dtype=float))
        if not read:
            return rest
        probs = model.calibrate(np.concatenate(logits))
        confidence = probs.max(1).tolist()
        labels = [model.classes_[k] for k in probs.argmax(1).tolist()]
        threshold, model_id, classes = self.review_threshold, model.id, model.classes_
        for (i, text, guess, found), row, label, conf in zip(read, probs.tolist(), labels,
                                                             confidence):
            reason = guess.review_reason
            if reason is None and conf < threshold:
                reason = f"low confidence: {conf:.2f} < {threshold:.2f}"
            results[i] = Result(text=text, label=label, scores=dict(zip(classes, row)),
                                model=model_id, needs_review=reason is not None,
                                review_reason=reason, language=guess.language, urgency=found)
        return rest

    def _units(self, doc: _Doc) -> list[_Unit]:
        """What the model reads: the whole text if short, and each sentence if several."""
        text, sentences, limit = doc.text, doc.sentences, self.model.chunk_chars
        units = []
        if not doc.long and (len(sentences) <= 1 or self.model.read_whole
                             or not self.sentences):
            units.append(_Unit(doc, 0, len(text), None, text))
        if (len(sentences) > 1 and self.sentences) or doc.long:
            for k, s in enumerate(sentences):
                if s.end - s.start <= limit:  # the common case, without chunk_sentences
                    units.append(_Unit(doc, s.start, s.end - s.start, k, text[s.start:s.end]))
                    continue
                for p in chunk_sentences([s], limit, text=text):
                    units.append(_Unit(doc, p.start, p.end - p.start, k, text[p.start:p.end]))
        return units

    def _score(self, units: list[_Unit], batch_size: int) -> None:
        """Run the model over the units, first cutting any too long for its window. Work
        goes batch by batch, so memory follows the batch, not the length of the text."""
        pending, sizes = self._order(units)
        model = self.model
        while pending:
            cut: list[_Unit] = []
            for start in range(0, len(pending), batch_size):
                batch = pending[start:start + batch_size]
                ratios = ([None] * len(batch) if sizes is None else
                          [model.overflow_of(n) for n in sizes[start:start + batch_size]])
                fits = [u for u, r in zip(batch, ratios) if r is None or u.length <= 1]
                cut += [piece for u, r in zip(batch, ratios) if r is not None and u.length > 1
                        for piece in self._cut(u, r)]
                for unit, (note, hits) in zip(fits, self._predict(fits) if fits else []):
                    if isinstance(note, Exception):
                        unit.doc.error = f"{type(note).__name__}: {note}"
                    else:
                        unit.hits = hits
                        self._keep(unit)
            pending, sizes = self._order(cut)

    def _order(self, units: list[_Unit]) -> tuple[list[_Unit], list[int] | None]:
        """The units in the order to batch them (by tokens when the model says, so a batch
        pads little), with their sizes in tokens (None: by characters; such a model reads
        any length, so nothing is cut)."""
        sizes = self.model.sizes([u.text or "" for u in units]) if units else None
        if sizes is None:
            return sorted(units, key=lambda u: u.length), None
        order = sorted(range(len(units)), key=sizes.__getitem__)
        return [units[i] for i in order], [sizes[i] for i in order]

    def _keep(self, unit: _Unit) -> None:
        doc = unit.doc
        doc.units.append(unit)
        if not doc.long:
            return
        unit.text = None  # the document's text holds it; keeps a long text's memory small
        if unit.words is not None and self.aspects is not None and unit.sentence is not None:
            doc.aspects += self._read_aspects(doc, unit)
        if unit.words is not None and self.explain:
            model = self.model
            for label in range(len(model.classes_)):
                support, opposing = explain.candidates(
                    unit.words, label, model.classes_, model.pool_power, model.temperature,
                    np.zeros(len(unit.words.counts), dtype=np.int64))
                kept = doc.best.get(label, ([], []))
                doc.best[label] = (
                    sorted(kept[0] + support, key=lambda c: -c.support)[:explain.MAX_EVIDENCE],
                    sorted(kept[1] + opposing, key=lambda c: c.support)[:explain.MAX_OPPOSING])
        unit.words = None

    def _read_aspects(self, doc: _Doc, unit: _Unit) -> list[tuple[str, int, int, list[float]]]:
        assert self.aspects is not None
        return self.aspects.read(doc.text, unit.words, doc.sentences,
                                 (unit.offset, unit.offset + unit.length), doc.targets)

    def _cut(self, unit: _Unit, share: float) -> list[_Unit]:
        """Pieces of a unit too long for the model's window, about ``share`` of it each
        (the whole text's pieces are its sentences', which then score the document)."""
        text = unit.text or ""
        # A margin under the share, as tokens are not spread evenly over the characters.
        limit = max(1, min(self.model.chunk_floor, int(len(text) * share * CUT_MARGIN)))
        doc = unit.doc
        if unit.sentence is None:
            if len(doc.sentences) > 1 and self.model.read_whole and self.sentences:
                return []  # its sentences are read already and will score it
            return [_Unit(doc, p.start, p.end - p.start, k, text[p.start:p.end])
                    for k, s in enumerate(doc.sentences)
                    for p in chunk_sentences([s], limit, text=text)]
        pieces = chunk_sentences(split_sentences(text), limit, text=text)
        return [_Unit(doc, unit.offset + p.start, p.end - p.start, unit.sentence,
                      text[p.start:p.end]) for p in pieces]

    def _predict(self, batch: list[_Unit], words: bool | None = None
                 ) -> list[tuple[object, list[explain.TermShift]]]:
        """Score the units (logits, pooled sums, and word scores when ``words``, by default
        when explaining); return each one's note (overflow, or the exception that stopped
        it) and its term hits."""
        if words is None:  # word scores for evidence and aspects
            words = self.explain or self.aspects is not None
        mapped: list[tuple[Mapped | None, str, list[explain.TermShift]]] = []
        for unit in batch:
            text = unit.text or ""
            if self.terms is None:
                mapped.append((None, text, []))
                continue
            m, hits = self.terms.apply(text)
            mapped.append((m, text if m is None else m.text,
                           [explain.TermShift(h.start + unit.offset, h.end + unit.offset,
                                              h.weight) for h in hits]))
        model = self.model
        texts = [t for _, t, _ in mapped]
        try:
            if words:
                logits, notes, scores = model.predict_tokens(texts)
            else:
                logits, notes, counts = model.predict_counts(texts)
        except Exception as exc:  # noqa: BLE001 - one bad text must not sink the batch
            if len(batch) == 1:
                return [(exc, [])]
            return [out for unit in batch for out in self._predict([unit], words)]
        if not words:  # pooled sums recovered from the logits, for the whole batch
            counts = np.maximum(np.asarray(counts, dtype=float), 1.0)
            raws = (logits - model.pool_bias()) * (counts ** model.pool_power)[:, None]
            for unit, lg, raw, count in zip(batch, logits, raws, counts.tolist()):
                unit.logits, unit.raw, unit.count = lg, raw, count
            return [(note, hits) for note, (_, _, hits) in zip(notes, mapped)]
        for i, unit in enumerate(batch):
            ws = scores[i]
            m = mapped[i][0]
            spans = ws.spans
            if m is not None and len(spans):
                spans = np.array([m.span(int(a), int(b)) for a, b in spans],
                                 dtype=np.int64).reshape(-1, 2)
            tokens = ws.aspects
            if tokens is not None:
                if m is not None and len(tokens.spans):
                    tokens = replace(tokens, spans=np.array(
                        [m.span(int(a), int(b)) if a >= 0 else (-1, -1)
                         for a, b in tokens.spans], dtype=np.int64).reshape(-1, 2))
                tokens = tokens.shifted(unit.offset)
            unit.logits = logits[i]
            unit.words = replace(ws, spans=spans + unit.offset, aspects=tokens)
            unit.raw = ws.raw.sum(0) + ws.rest
            unit.count = float(ws.counts.sum() + ws.rest_count)
        return [(note, hits) for note, (_, _, hits) in zip(notes, mapped)]

    def _pool(self, units: list[_Unit]) -> np.ndarray:
        """Logits of text read in several units, pooled as the model pools one text."""
        if len(units) == 1:
            logits = units[0].logits
        else:
            raw = units[0].raw.copy()  # faster than np.sum over a list for a few units
            for u in units[1:]:
                raw += u.raw
            count = sum(u.count for u in units)
            logits = raw / max(count, 1.0) ** self.model.pool_power + self.model.pool_bias()
        hits = [h for u in units for h in u.hits]
        return (logits + explain.shift_vector(hits, self.model.classes_, self.model.temperature)
                if hits else logits)

    def _rows(self, doc: _Doc) -> list[np.ndarray]:
        """The logits of the document, then of each sentence if it has several."""
        doc.units.sort(key=lambda u: (u.sentence is not None, u.offset))
        rows = [self._pool(doc.readers())]
        if len(doc.sentences) > 1 and self.sentences:
            by_sentence: list[list[_Unit]] = [[] for _ in doc.sentences]
            for u in doc.units:
                if u.sentence is not None:
                    by_sentence[u.sentence].append(u)
            rows += [self._pool(group) if group else rows[0] for group in by_sentence]
        return rows

    def _assemble_all(self, docs: list[_Doc]) -> list["_Outcome"]:
        """Outcomes of the scored documents: one calibration call for all their rows."""
        if not docs:
            return []
        rows: list[np.ndarray] = []
        starts = []
        for doc in docs:
            starts.append(len(rows))
            rows += self._rows(doc)
        probs = self.model.calibrate(np.array(rows)).tolist()
        starts.append(len(rows))
        return [self._assemble(doc, probs[a:b]) for doc, a, b in zip(docs, starts, starts[1:])]

    def _assemble(self, doc: _Doc, probs: list[list[float]]) -> "_Outcome":
        model = self.model
        classes = model.classes_
        scores = dict(zip(classes, probs[0]))
        top = max(range(len(classes)), key=probs[0].__getitem__)
        label = classes[top]
        if not self.sentences:
            sentences: tuple[Sentence, ...] = ()
        elif len(probs) == 1:
            sentences = tuple(Sentence(s.start, s.end, label, scores) for s in doc.sentences)
        else:
            sentences = tuple(
                Sentence(span.start, span.end, classes[max(range(len(row)), key=row.__getitem__)],
                         dict(zip(classes, row)))
                for span, row in zip(doc.sentences, probs[1:]))
            t = self.mixed_threshold
            if (any(s.scores["positive"] >= t for s in sentences)
                    and any(s.scores["negative"] >= t for s in sentences)):
                label = MIXED
        outcome = _Outcome(self, doc, label, scores, sentences, top)
        if self.aspects is not None and not doc.long:
            for unit in doc.readers():
                doc.aspects += self._read_aspects(doc, unit)
        if self.explain:
            if doc.long:
                support, opposing = doc.best.get(top, ([], []))
                outcome.support, outcome.opposing = list(support), list(opposing)
            else:
                words = explain.merge([u.words for u in doc.readers()])  # type: ignore[misc]
                starts = np.fromiter((s.start for s in doc.sentences), dtype=np.int64,
                                     count=len(doc.sentences))
                sentence_of = np.searchsorted(starts, words.spans[:, 0], side="right") - 1
                outcome.support, outcome.opposing = explain.candidates(
                    words, top, classes, model.pool_power, model.temperature, sentence_of)
        return outcome

    def _verify_evidence(self, outcomes: list["_Outcome"], batch_size: int) -> None:
        """Put first a candidate whose deletion lowers the label's probability."""
        for round_ in range(explain.CANDIDATES_CHECKED):
            todo = [o for o in outcomes if not o.verified and len(o.support) > round_]
            if not todo:
                return
            variants = [o.without(o.support[round_]) for o in todo]
            changed, _ = self._order([u for u, _ in variants])
            for start in range(0, len(changed), batch_size):
                part = changed[start:start + batch_size]
                for unit, (_, hits) in zip(part, self._predict(part, words=False)):
                    unit.hits = hits  # the terms still in the variant shift it as before
            for o, (unit, others) in zip(todo, variants):
                if unit.logits is None:
                    continue
                after = self.model.calibrate(self._pool([unit, *others])[None, :])[0]
                if after[o.top] < o.scores[self.model.classes_[o.top]]:
                    o.verified = True
                    o.support.insert(0, o.support.pop(round_))


def _aspect_reader(value: object, model: BaseModel) -> AspectReader | None:
    """The aspect reader ``Analyzer(aspects=...)`` asks for (see its docstring)."""
    if value is False or value is None:
        return None
    from frankly.aspects import AspectReader, taxonomy_from

    return AspectReader(taxonomy_from(value), model)


def _urgency_detector(value: object) -> UrgencyDetector | None:
    """The detector ``Analyzer(urgency=...)`` asks for (see its docstring)."""
    if value is False or value is None:
        return None
    from frankly.urgency import UrgencyDetector, default_detector

    if value is True:
        return default_detector()
    if isinstance(value, UrgencyDetector):
        return value
    if isinstance(value, (str, Path)):
        return UrgencyDetector(value)
    raise InputError(f"urgency must be True, False, a phrases file or an UrgencyDetector, "
                     f"got {_describe(value)}")


class _Outcome:
    """A document on its way to a Result, with evidence candidates to check."""

    def __init__(self, analyzer: Analyzer, doc: _Doc, label: str,
                 scores: dict[str, float], sentences: tuple[Sentence, ...], top: int) -> None:
        self.analyzer, self.doc, self.label, self.scores = analyzer, doc, label, scores
        self.sentences, self.top = sentences, top
        self.support: list[explain.Candidate] = []
        self.opposing: list[explain.Candidate] = []
        self.verified = False

    def without(self, span: explain.Candidate) -> tuple[_Unit, list[_Unit]]:
        """The unit holding ``span`` re-made without it (to be scored), and the other units
        that score the document."""
        readers = self.doc.readers()
        holder = next((u for u in reversed(readers) if u.offset <= span.start), readers[0])
        text = self.doc.text
        a, b = holder.offset, holder.offset + holder.length
        variant = text[a:span.start] + text[span.end:b]
        if not variant.strip():
            variant = "."  # nothing left to read: a neutral stand-in
        changed = _Unit(self.doc, holder.offset, len(variant), holder.sentence, variant)
        return changed, [u for u in readers if u is not holder]

    def result(self) -> Result:
        analyzer, doc = self.analyzer, self.doc
        text = doc.text
        hits = sorted({(h.start, h.end): h for u in doc.units for h in u.hits}.values(),
                      key=lambda h: -abs(h.weight))
        # The model read a placeholder where a term stood: its spans there say nothing.
        evidence = [Evidence(h.start, h.end, text[h.start:h.end], h.weight, source="term")
                    for h in hits] + [
            Evidence(c.start, c.end, text[c.start:c.end], round(c.polarity, 4))
            for c in self.support + self.opposing
            if not any(c.start < h.end and h.start < c.end for h in hits)]
        guess = doc.language
        reason = guess.review_reason if guess is not None else None
        confidence = max(self.scores.values())
        if reason is None and confidence < analyzer.review_threshold:
            reason = f"low confidence: {confidence:.2f} < {analyzer.review_threshold:.2f}"
        return Result(text=text, label=self.label, scores=self.scores,
                      model=analyzer.model.id, needs_review=reason is not None,
                      review_reason=reason, sentences=self.sentences,
                      evidence=tuple(evidence) if analyzer.explain else (),
                      language=guess.language if guess is not None else None,
                      urgency=doc.urgency,
                      aspects=(analyzer.aspects.aspects(text, doc.aspects)
                               if analyzer.aspects is not None else ()))
