"""Vectorised feature hashing for the fast model: numpy only, one pass per batch.

A batch of texts is normalised and lower-cased as one string, joined by NUL bytes, and
turned into a byte array. Byte n-grams (rolling polynomial hashes) and word unigrams and
bigrams (prefix-sum hashes; multiplication wraps modulo 2**64) are then hashed into
``2**bits`` buckets with numpy operations over the whole batch, so there is no Python loop
per text or per feature. Byte n-grams also cover emoji, emoticons and elongations. With a
:class:`Lexicon`, a word of it also adds the feature of its prior valence grade, so words
that training seldom or never saw still carry their sentiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frankly.text.normalize import normalize
from frankly.text.people import People

_P = np.uint64(0x100000001B3)          # FNV-64 prime: odd, so invertible modulo 2**64
_Q = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_MIX = np.uint64(0x9E3779B97F4A7C15)   # Fibonacci hashing multiplier
_SALT = {"char": 0x51ED27, "word": 0xA5A5A5, "bigram": 0x3C3C3C, "negated": 0x7E7E7E,
         "lexicon": 0x6C6578, "lexicon_negated": 0x6E6C78}
# Words that put the next few words of their clause in a negated scope ("not bad",
# "never disappointed", "no problems"): those words get a second, negated feature.
NEGATORS = ("not no never nothing nobody none nowhere neither nor without cannot can't cant "
            "don't dont doesn't doesnt didn't didnt isn't isnt wasn't wasnt aren't arent "
            "weren't won't wont wouldn't wouldnt couldn't couldnt shouldn't haven't hasn't "
            "hadn't ain't hardly barely").split()
NEGATION_SCOPE = 3  # words after a negator that it can reach, within one clause
_CLAUSE_END = np.frombuffer(b".,!?;:", dtype=np.uint8)


@dataclass(frozen=True)
class HashingSpec:
    bits: int = 19
    # (2, 4) matched (2, 3, 4, 5) on dev macro-F1 with half the features (twice the speed).
    char_orders: tuple[int, ...] = (2, 4)
    words: bool = True
    bigrams: bool = True
    negation: bool = True
    # A word of the model's Lexicon adds its grade's feature (and, in a negator's scope,
    # the grade's negated feature).
    lexicon: bool = False


class _Powers:
    """Cached powers of P and Q, grown on demand, for prefix-sum hashing."""

    def __init__(self) -> None:
        self.p = np.ones(1, dtype=np.uint64)
        self.q = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.p) < n:
            size = max(n, 2 * len(self.p))
            self.p = np.cumprod(np.full(size, _P, dtype=np.uint64)) * _Q
            self.q = np.cumprod(np.full(size, _Q, dtype=np.uint64)) * _P
        return self.p[:n], self.q[:n]


_POWERS = _Powers()


def _bucket(h: np.ndarray, salt: int, bits: int) -> np.ndarray:
    return ((h + np.uint64(salt)) * _MIX) >> np.uint64(64 - bits)


class Lexicon:
    """Words with a prior valence grade (a small signed integer, not 0), as a model reads
    them: lower-case words of the characters the hashing counts as a word's (letters,
    digits, apostrophes, any non-ASCII). Saved as ``word<TAB>grade`` lines; lines starting
    with ``#`` are comments (the source and its licence)."""

    def __init__(self, grades: dict[str, int], source: str = "") -> None:
        bad = [w for w, g in grades.items() if not g or not is_lexicon_word(w)]
        if bad:
            raise ValueError(f"lexicon entries need a one-word lower-case key and a grade "
                             f"other than 0: {bad[:5]}")
        self.grades = dict(sorted(grades.items()))
        self.source = source
        pairs = sorted((int(_word_hash(w)), g) for w, g in self.grades.items())
        self._hashes = np.array([h for h, _ in pairs], dtype=np.uint64)
        # Grades become non-negative bucket keys.
        self._keys = np.array([g + 128 for _, g in pairs], dtype=np.uint64)

    def __len__(self) -> int:
        return len(self.grades)

    def lookup(self, word_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(hit, key)``: which of ``word_hashes`` are lexicon words, and their keys."""
        if not len(self._hashes) or not len(word_hashes):
            return np.zeros(len(word_hashes), dtype=bool), np.zeros(0, dtype=np.uint64)
        at = np.minimum(np.searchsorted(self._hashes, word_hashes), len(self._hashes) - 1)
        hit = self._hashes[at] == word_hashes
        return hit, self._keys[at[hit]]

    def write(self, path: Path) -> None:
        head = "".join(f"# {line}\n" for line in self.source.splitlines())
        path.write_text(head + "".join(f"{w}\t{g}\n" for w, g in self.grades.items()),
                        encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Lexicon":
        grades, source = {}, []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("#"):
                source.append(line[1:].strip())
                continue
            word, _, grade = line.partition("\t")
            try:
                grades[word] = int(grade)
            except ValueError:
                raise ValueError(f"{path}:{n}: expected 'word<TAB>grade', got {line!r}") from None
        return cls(grades, "\n".join(source))


def is_lexicon_word(word: str) -> bool:
    """Whether the hashing reads ``word`` as one word: lower case, of ASCII letters, digits
    and apostrophes, or any non-ASCII character."""
    return bool(word) and word == word.lower() and all(
        not c.isascii() or (c.isalnum() or c == "'") for c in word)


def hash_features(texts: list[str], spec: HashingSpec, people: People | None = None,
                  lexicon: Lexicon | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(doc, bucket)``: one entry per feature occurrence, ``doc`` indexing ``texts``
    (first names and gendered words read as ``people`` says; ``lexicon`` is needed when
    ``spec.lexicon``)."""
    # One normalisation pass over the whole batch, then each text padded with one space on
    # either side, so a text gets the same features alone or in any batch (empty ones too).
    joined = normalize("\x00".join(t.replace("\x00", " ") for t in texts), lower=True,
                       people=people)
    docs, buckets, _, _ = _hash(joined, spec, positions=False, lexicon=lexicon)
    return docs, buckets


def hash_words(normalized: list[str], spec: HashingSpec, lexicon: Lexicon | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of texts already normalised (lower-cased, no NUL), with the word each
    feature belongs to: ``(doc, bucket, word)``, ``word`` counting the space-separated
    words of its text from 0. A character n-gram belongs to the word holding its middle
    character (one on a space, to the next word); a bigram to its second word."""
    docs, buckets, anchors, b = _hash("\x00".join(normalized), spec, positions=True,
                                      lexicon=lexicon)
    seps = np.cumsum((b == 32) | (b == 0))
    # Each text starts with NUL (except the first) and its padding space: its first word
    # has the separator count of that space.
    first = np.flatnonzero(np.concatenate(([True], b[:-1] == 0)))
    n_words = np.array([t.count(" ") + 1 for t in normalized], dtype=np.int64)
    word = np.minimum(seps[anchors] - seps[first][docs], n_words[docs] - 1)
    return docs, buckets, word


def _hash(joined: str, spec: HashingSpec, positions: bool, lexicon: Lexicon | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """``(doc, bucket, anchor, data)``: anchors (byte offsets in ``data``, the padded batch
    as bytes) only when ``positions``."""
    if spec.lexicon and lexicon is None:
        raise ValueError("this hashing spec reads a lexicon: pass one")
    padded = "\x00".join(" " + part.strip() + " " for part in joined.split("\x00"))
    data = padded.encode("utf-8", "replace")
    b = np.frombuffer(data, dtype=np.uint8)
    sep = b == 0
    prefix = np.concatenate(([0], np.cumsum(sep)))  # separators before each position
    docs_at = prefix[:-1]
    b64 = b.astype(np.uint64)
    docs_out, buckets_out, anchors_out = [], [], []

    h = b64
    for n in range(1, max(spec.char_orders, default=0) + 1):
        if n > 1:
            h = h[:-1] * _P + b64[n - 1:]
        if n in spec.char_orders:
            valid = prefix[n:] == prefix[:-n]
            docs_out.append(docs_at[: len(valid)][valid])
            buckets_out.append(_bucket(h[valid], _SALT["char"] + n, spec.bits))
            if positions:
                anchors_out.append(np.flatnonzero(valid) + (n - 1) // 2)

    if spec.words:
        isword = ((b >= 97) & (b <= 122)) | ((b >= 48) & (b <= 57)) | (b == 39) | (b >= 128)
        edge = np.diff(np.concatenate(([False], isword, [False])).astype(np.int8))
        starts = np.flatnonzero(edge == 1)
        ends = np.flatnonzero(edge == -1)
        if len(starts):
            ppow, qpow = _POWERS.get(len(b) + 1)
            g = np.concatenate(([np.uint64(0)], np.cumsum(b64 * qpow[: len(b)], dtype=np.uint64)))
            wh = (g[ends] - g[starts]) * ppow[starts]
            wdoc = docs_at[starts]
            docs_out.append(wdoc)
            buckets_out.append(_bucket(wh, _SALT["word"], spec.bits))
            if positions:
                anchors_out.append(starts)
            negated = _negated(b, wh, wdoc, starts, ends) if spec.negation else None
            if negated is not None:
                docs_out.append(wdoc[negated])
                buckets_out.append(_bucket(wh[negated], _SALT["negated"], spec.bits))
                if positions:
                    anchors_out.append(starts[negated])
            if spec.lexicon:
                assert lexicon is not None  # checked above
                hit, keys = lexicon.lookup(wh)
                docs_out.append(wdoc[hit])
                buckets_out.append(_bucket(keys, _SALT["lexicon"], spec.bits))
                if positions:
                    anchors_out.append(starts[hit])
                if negated is not None:
                    both = negated[hit]
                    docs_out.append(wdoc[hit][both])
                    buckets_out.append(_bucket(keys[both], _SALT["lexicon_negated"], spec.bits))
                    if positions:
                        anchors_out.append(starts[hit][both])
            if spec.bigrams and len(wh) > 1:
                same = wdoc[1:] == wdoc[:-1]
                docs_out.append(wdoc[1:][same])
                buckets_out.append(_bucket(wh[:-1][same] * _P + wh[1:][same],
                                           _SALT["bigram"], spec.bits))
                if positions:
                    anchors_out.append(starts[1:][same])
    if not docs_out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.uint64), empty if positions else None, b
    return (np.concatenate(docs_out), np.concatenate(buckets_out),
            np.concatenate(anchors_out) if positions else None, b)


def _word_hash(word: str) -> np.uint64:
    b = np.frombuffer(word.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    _, qpow = _POWERS.get(len(b) + 1)
    return np.uint64(np.sum(b * qpow[: len(b)], dtype=np.uint64))


_NEGATOR_HASHES = np.array(sorted({_word_hash(w) for v in NEGATORS
                                   for w in (v, v.replace("'", "\u2019"))}), dtype=np.uint64)


def _negated(b: np.ndarray, wh: np.ndarray, wdoc: np.ndarray, starts: np.ndarray,
             ends: np.ndarray) -> np.ndarray:
    """Mask of words within NEGATION_SCOPE words after a negator, in the same clause."""
    is_neg = np.isin(wh, _NEGATOR_HASHES)
    clause = np.concatenate(([0], np.cumsum(np.isin(b, _CLAUSE_END))))
    out = np.zeros(len(wh), dtype=bool)
    for lag in range(1, NEGATION_SCOPE + 1):
        if lag >= len(wh):
            break
        reach = (is_neg[:-lag] & (wdoc[:-lag] == wdoc[lag:])
                 & (clause[ends[:-lag]] == clause[starts[lag:]]))
        out[lag:] |= reach
    return out & ~is_neg
