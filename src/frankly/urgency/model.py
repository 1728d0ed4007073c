"""The learned half of urgency: a multinomial logistic regression over words and phrases.

Classes are "none" and the urgency categories. Its features are the message's words and
word pairs (folded as the phrase matcher folds them) and one feature per urgency category
whose phrases occur (and one for "no rush" phrases), so the model learns how much each
phrase family counts and what else in a message points to urgency. The urgency score is
``1 - P(none)`` after temperature scaling, then Platt scaling (``sigmoid(a * logit + b)``),
both fitted on out-of-fold predictions, so a score of 0.8 is right about 80% of the time.

Stored as ``model.json`` (vocabulary, classes, temperature, threshold, provenance) and
``weights.npy`` (float32, features x classes; the last row is the bias), no pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from itertools import chain, repeat
from operator import is_not
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from frankly.errors import ModelError
from frankly.urgency.phrases import SMALL_BATCH

NONE = "none"
CATEGORIES: tuple[str, ...] = ("safety", "security", "billing", "outage", "legal", "churn",
                               "deadline", "escalation")
"""The urgency categories, in the order of issue 4."""
CALM = "calm"  # "no rush", "not urgent", thanks...: phrases that lower urgency

CATEGORY_NAMES: dict[str, str] = {
    "safety": "safety or health risk",
    "security": "account security or fraud",
    "billing": "money lost or billing error",
    "outage": "service down or product not working",
    "legal": "legal or regulatory threat",
    "churn": "cancellation or churn threat",
    "deadline": "deadline or time pressure",
    "escalation": "repeated contact or escalation request",
}

PHRASE_FEATURE = "@phrase:"    # + category: a phrase of that category occurs (not negated)
NEGATED_FEATURE = "@negated:"  # + category: a phrase of that category occurs, negated
MODEL_JSON = "model.json"
WEIGHTS = "weights.npy"
# Rows longer than this have their later features added with np.add.at (see flat_logits):
# a column at a time pays per column, and a long document has thousands of features.
ADD_COLUMNS = 64
PAIR_BITS = 1 << 25  # at most 4 MB of bits for the vocabulary's word pairs (see rows)
_known = partial(is_not, None)  # a feature in the vocabulary (get() gave an index)


def features(ws: Sequence[str], categories: Iterable[str], negated: Iterable[str],
             calm: bool) -> list[str]:
    """Feature names of one message: words, word pairs and phrase families."""
    out = list(ws)
    out += [f"{a} {b}" for a, b in zip(ws, ws[1:])]
    out += [PHRASE_FEATURE + c for c in set(categories)]
    out += [NEGATED_FEATURE + c for c in set(negated)]
    if calm:
        out.append(PHRASE_FEATURE + CALM)
    return out


@dataclass
class UrgencyModel:
    vocabulary: dict[str, int]
    classes: tuple[str, ...]
    weights: np.ndarray           # (len(vocabulary) + 1, len(classes)); last row: bias
    temperature: float
    threshold: float
    info: dict
    platt: tuple[float, float] = (1.0, 0.0)  # slope and intercept on the score's logit

    @classmethod
    def load(cls, directory: Path) -> "UrgencyModel":
        try:
            meta = json.loads((directory / MODEL_JSON).read_text(encoding="utf-8"))
            weights = np.load(directory / WEIGHTS, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the urgency model from {directory}: {exc}") from exc
        vocabulary = {name: i for i, name in enumerate(meta["vocabulary"])}
        if weights.shape != (len(vocabulary) + 1, len(meta["classes"])):
            raise ModelError(f"{directory / WEIGHTS}: shape {weights.shape} does not match "
                             f"{len(vocabulary)} features and {len(meta['classes'])} classes")
        a, b = meta.get("platt", (1.0, 0.0))
        return cls(vocabulary, tuple(meta["classes"]), weights.astype(np.float32),
                   float(meta["temperature"]), float(meta["threshold"]),
                   {k: v for k, v in meta.items() if k not in ("vocabulary", "platt")},
                   (float(a), float(b)))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        names = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {**self.info, "classes": list(self.classes), "temperature": self.temperature,
                "platt": list(self.platt), "threshold": self.threshold, "vocabulary": names}
        (directory / MODEL_JSON).write_text(json.dumps(meta, ensure_ascii=False, indent=1)
                                            + "\n", encoding="utf-8")
        np.save(directory / WEIGHTS, self.weights.astype(np.float32), allow_pickle=False)

    def __post_init__(self) -> None:
        # For reading a batch's words in a few numpy calls (see flat_rows): an id for each
        # word of the vocabulary's words and word pairs (0: any other word); by id, the
        # word's feature (-1: none); the pairs' features by ``first id * ids + second id``.
        self._word_ids: dict[str, int] = {}
        words: dict[str, int] = {}
        pairs: dict[tuple[str, str], int] = {}
        for name, i in self.vocabulary.items():
            if name.startswith("@"):  # a phrase family
                continue
            if " " in name:
                a, b = name.split(" ", 1)
                pairs[a, b] = i
                names: tuple[str, ...] = (a, b)
            else:
                words[name] = i
                names = (name,)
            for w in names:
                self._word_ids.setdefault(w, len(self._word_ids) + 1)
        ids, n = self._word_ids, len(self._word_ids) + 1
        self._unigram = np.full(n, -1, dtype=np.int64)
        self._unigram[[ids[w] for w in words]] = list(words.values())
        self._pairs = {ids[a] * n + ids[b]: i for (a, b), i in pairs.items()}
        # For a few messages, read word by word: the pairs by first word.
        self._following: dict[str, dict[str, int]] = {}
        for (a, b), i in pairs.items():
            self._following.setdefault(a, {})[b] = i
        # Which words start a pair and which end one, ranked (-1: none), and a bit for
        # each (first, second) of them: whether that pair is in the vocabulary. Most
        # neighbours of such words are not a pair, and a bit is cheaper to ask than the
        # dictionary (when the bits take at most PAIR_BITS).
        self._first_rank = np.full(n, -1, dtype=np.int64)
        firsts = sorted({ids[a] for a, _ in pairs})
        self._first_rank[firsts] = np.arange(len(firsts))
        self._second_rank = np.full(n, -1, dtype=np.int64)
        seconds = sorted({ids[b] for _, b in pairs})
        self._second_rank[seconds] = np.arange(len(seconds))
        self._seconds = len(seconds)
        self._pair_bits: np.ndarray | None = None
        if len(firsts) * len(seconds) <= PAIR_BITS:
            bits = np.zeros(len(firsts) * len(seconds), dtype=bool)
            bits[[self._first_rank[ids[a]] * len(seconds) + self._second_rank[ids[b]]
                  for a, b in pairs]] = True
            self._pair_bits = np.packbits(bits, bitorder="little")

    def indices(self, names: Iterable[str]) -> list[int]:
        """Indices of the features present (each once: the model reads presence)."""
        get = self.vocabulary.get
        return list({i for i in (get(n) for n in names) if i is not None})

    def row(self, ws: Sequence[str], categories: Iterable[str] = (),
            negated: Iterable[str] = (), calm: bool = False) -> list[int]:
        """``indices(features(...))``, without building the names of the word pairs (see
        :meth:`rows`)."""
        return self.rows([ws], [(categories, negated, calm)])[0]

    def rows(self, texts: Sequence[Sequence[str]],
             phrases: Sequence[tuple[Iterable[str], Iterable[str], bool] | None] | None = None
             ) -> list[list[int]]:
        """:meth:`row` of each message's words, given its phrase families (categories found,
        found negated, and whether "no rush" wording is there; None: no phrase)."""
        indices, sizes = self.flat_rows(
            list(chain.from_iterable(texts)), list(map(len, texts)),
            {t: self.family_features(*family) for t, family in enumerate(phrases or ())
             if family is not None})
        ends = np.cumsum(sizes).tolist()
        return [indices[a:b] for a, b in zip([0, *ends], ends)]

    def word_id(self, w: str) -> int:
        """The number :meth:`flat_rows` knows the word ``w`` by (0: none of its words)."""
        return self._word_ids.get(w, 0)

    def family_features(self, categories: Iterable[str], negated: Iterable[str],
                        calm: bool) -> list[int]:
        """The indices of a message's phrase family features, in the order :meth:`row`
        adds them (categories found, found negated, "no rush" wording)."""
        return list(filter(_known, map(self.vocabulary.get, [
            *(PHRASE_FEATURE + c for c in categories),
            *(NEGATED_FEATURE + c for c in negated),
            *([PHRASE_FEATURE + CALM] if calm else [])])))

    def flat_rows(self, words: list[str], lengths: Sequence[int],
                  phrases: Mapping[int, Iterable[int]],
                  ids: np.ndarray | None = None) -> tuple[list[int], list[int]]:
        """The rows of a batch of messages (see :meth:`rows`) one after another, and the
        length of each, given all the messages' words one after another, the number of
        words of each, and the :meth:`family_features` of those with a phrase, by
        position (``ids``: the :meth:`word_id` of each word, if known). The words and
        word pairs of the whole batch are looked up at once.

        A row lists its indices in the order of a set filled with the words', then the
        pairs', then the phrase families' indices: :meth:`logits` adds their float32
        weights in this order, so it is kept exactly (another order changes the last bits
        of a score).
        """
        if len(lengths) < SMALL_BATCH:
            return self._few_rows(words, lengths, phrases)
        sizes = np.asarray(lengths, dtype=np.int64)
        ends = np.cumsum(sizes)
        if ids is None:
            ids = np.fromiter(map(self._word_ids.get, words, repeat(0)), dtype=np.int64,
                              count=len(words))
        # Words: each message's features, in word order.
        unigram = self._unigram[ids]
        at = np.flatnonzero(unigram >= 0)
        found_words = unigram[at].tolist()
        word_ends = np.searchsorted(at, ends).tolist()
        # Word pairs in the vocabulary (not across two messages), in order.
        last = np.zeros(len(words), dtype=bool)
        last[ends[sizes > 0] - 1] = True
        first, second = self._first_rank[ids[:-1]], self._second_rank[ids[1:]]
        at = np.flatnonzero((first >= 0) & (second >= 0) & ~last[:-1])
        if self._pair_bits is not None:
            bit = first[at] * self._seconds + second[at]
            at = at[((self._pair_bits[bit >> 3] >> (bit & 7)) & 1).astype(bool)]
        keys = ids[at] * len(self._unigram) + ids[at + 1]
        found = np.fromiter(map(self._pairs.get, keys.tolist(), repeat(-1)), dtype=np.int64,
                            count=len(keys))
        hit = found >= 0
        found_pairs = found[hit].tolist()
        pair_ends = np.searchsorted(at[hit], ends).tolist()
        indices: list[int] = []
        row_sizes: list[int] = []
        w0 = p0 = 0
        for t, (w1, p1) in enumerate(zip(word_ends, pair_ends)):
            row = set(found_words[w0:w1])
            if p1 > p0:
                row.update(found_pairs[p0:p1])
            family = phrases.get(t)
            if family is not None:
                row.update(family)
            indices += row
            row_sizes.append(len(row))
            w0, p0 = w1, p1
        return indices, row_sizes

    def _few_rows(self, words: list[str], lengths: Sequence[int],
                  phrases: Mapping[int, Iterable[int]]) -> tuple[list[int], list[int]]:
        """:meth:`flat_rows` of a few messages, word by word (the same sets, filled in the
        same order: the same rows)."""
        get, following = self.vocabulary.get, self._following
        indices: list[int] = []
        sizes: list[int] = []
        at = 0
        for t, n in enumerate(lengths):
            ws = words[at:at + n]
            at += n
            row = {i for i in map(get, ws) if i is not None}
            for a, b in zip(ws, ws[1:]):
                i = following.get(a, {}).get(b)
                if i is not None:
                    row.add(i)
            row.update(phrases.get(t, ()))
            indices += row
            sizes.append(len(row))
        return indices, sizes

    def logits(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """Logits of messages given as lists of feature indices (one call per batch)."""
        return self.flat_logits(list(chain.from_iterable(rows)), list(map(len, rows)))

    def flat_logits(self, indices: Sequence[int], sizes: Sequence[int]) -> np.ndarray:
        """:meth:`logits` of rows given one after another, with the length of each.

        Each row's weights are added one after another in float32, in the row's order, as
        they always were (so scores are reproducible to the last bit): a row's j-th
        weights are added to every row at once, longest rows first so that the rows with
        a j-th feature are a prefix (several times faster than ``np.add.at``); past
        ``ADD_COLUMNS`` features, the rest of the longest rows is added with it.
        """
        out = np.tile(self.weights[-1], (len(sizes), 1))  # the bias
        if not len(indices):
            return out
        idx = np.asarray(indices, dtype=np.int64)
        if len(sizes) < SMALL_BATCH:  # a few rows: np.add.at costs less than columns
            np.add.at(out, np.repeat(np.arange(len(sizes)), sizes), self.weights[idx])
            return out
        lengths = np.asarray(sizes, dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        order = np.argsort(-lengths, kind="stable")
        width = min(int(lengths.max()), ADD_COLUMNS)
        # How many rows have a j-th feature, for each j < width.
        having = np.searchsorted(-lengths[order], -np.arange(width), side="left").tolist()
        firsts = starts[order]
        summed = out[order]
        for j, count in enumerate(having):
            summed[:count] += self.weights[idx[firsts[:count] + j]]
        out[order] = summed
        rest = np.maximum(lengths - width, 0)
        if rest.any():  # features past the first ``width`` of the longest rows, in order
            owner = np.repeat(np.arange(len(lengths)), rest)
            at = (np.repeat(starts + width - np.cumsum(rest) + rest, rest)
                  + np.arange(int(rest.sum())))
            np.add.at(out, owner, self.weights[idx[at]])
        return out

    def scores(self, probabilities: np.ndarray) -> np.ndarray:
        """Calibrated urgency scores from class probabilities: Platt scaling of
        ``1 - P(none)``."""
        urgent = np.clip(1.0 - probabilities[:, self.classes.index(NONE)], 1e-7, 1 - 1e-7)
        a, b = self.platt
        return 1.0 / (1.0 + np.exp(-(a * np.log(urgent / (1.0 - urgent)) + b)))

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        z = logits / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
