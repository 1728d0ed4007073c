"""Urgency phrases: a small, fast phrase matcher over words.

A phrase is written as words, lower case, in a tiny syntax that users can write too:

- ``charged twice``: the words in a row (case and accents are ignored);
- ``refund*``: a word starting with "refund" (refunds, refunded);
- ``(log in|login|sign in)``: one of several alternatives, each any number of words;
  ``(my|the)?`` an optional one;
- ``...``: up to three other words in between ("charged me twice", "charged my card twice");
- ``#``: any number ("for 3 days"); ``#am``, ``#th``: a number written with those letters
  after it ("7am", "4th").

Matching goes word by word through a trie keyed by each phrase's first word, so the cost
grows with the text's words, not with the number of phrases (a regex alternation of
hundreds of phrases is tried at every position of the text and was ~20x slower here). A
batch of texts is matched at once (:meth:`PhraseSet.match_flat`): each word is looked up
once, numpy settles which words can start a phrase in their text, and the trie is walked
from those only.

A phrase preceded in its clause by a negation ("no", "not", "never", "n't"... in the
text's language) does not count: "there is no smell of gas", "I don't want to cancel".
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from itertools import chain, compress, islice, repeat
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from frankly.errors import InputError

GAP = 3  # words that "..." may skip
NEGATION_WINDOW = 3  # words before a phrase searched for a negation
MIN_PREFIX = 3  # "ref*" at least: a shorter stem matches too much
STARTS_CACHE = 200_000  # words remembered per language (how they start phrases, see _Starts)
# Fewer texts than this are read one by one, without the batch machinery's numpy calls
# (tens of microseconds of fixed cost: a single text is read several times faster so).
SMALL_BATCH = 16

# Words, with apostrophes inside them kept ("can't", "l'application", "don’t").
# Possessive: the same words as with plain quantifiers (nothing after a word could match
# by giving letters back), and faster (this runs on every text).
_WORD = re.compile(r"[^\W_]++(?:['’][^\W_]++)*+")
# The same words in a text without "_" (\w is [^\W_] and "_"), found ~15% faster.
_WORD_NO_UNDERSCORE = re.compile(r"\w++(?:['’]\w++)*+")
_SPAN = re.Match.span
_CLAUSE_END = re.compile(r"[.!?;:,\n]|\bbut\b|\baber\b|\bpero\b|\bmais\b|\bmas\b")
_SYNTAX = re.compile(r"\(|\)\??|\||\.\.\.|[^\s()|]+")

# Negations, per language; a word ending in n't counts in English too.
NEGATIONS: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "not", "never", "without", "nothing", "neither", "nor", "cannot",
                     "hardly", "wasnt", "isnt", "dont", "didnt", "doesnt", "arent"}),
    "de": frozenset({"nicht", "kein", "keine", "keinen", "keiner", "keinem", "nie", "niemals",
                     "ohne", "nichts"}),
    "es": frozenset({"no", "nunca", "sin", "ningun", "ninguna", "ninguno", "nada", "jamas"}),
    "fr": frozenset({"pas", "ne", "n", "jamais", "sans", "aucun", "aucune", "rien", "plus"}),
    "pt": frozenset({"nao", "nunca", "sem", "nenhum", "nenhuma", "nada", "jamais"}),
}


def is_negation(word: str, negations: frozenset[str]) -> bool:
    """A negation word: in the language's list, or English "-n't", or French "n'"."""
    return word in negations or word.endswith("n't") or word.startswith("n'")


def fold(word: str) -> str:
    """Lower case without accents or curly apostrophes: the form phrases are matched in."""
    word = word.lower()
    if word.isascii():
        return word
    word = word.replace("’", "'")
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def words(text: str) -> list[str]:
    """The folded words of ``text`` (no offsets: the cheap pass every text gets)."""
    found = (_WORD if "_" in text else _WORD_NO_UNDERSCORE).findall(text.lower())
    if text.isascii():
        return found
    return [w if w.isascii() else fold(w) for w in found]


def words_many(texts: Sequence[str]) -> tuple[list[str], list[int], np.ndarray]:
    """:func:`words` of each text, all one after another; the number of each text's
    words; and where each word starts in its text (-1 where not known: in a text that is
    not ASCII, or in a small batch; :func:`word_offsets` finds it). The ASCII texts of a
    batch (most) are read all at once, in numpy and ``str.split``: about twice as fast as
    the regex, with the same words."""
    if len(texts) < SMALL_BATCH:
        found = [words(t) for t in texts]
        return (list(chain.from_iterable(found)), list(map(len, found)),
                np.full(sum(map(len, found)), -1, dtype=np.int64))
    ascii_texts = [t for t in texts if t.isascii()]
    if len(ascii_texts) == len(texts):
        return _ascii_words(ascii_texts)
    found, counts, starts = _ascii_words(ascii_texts)
    out: list[str] = []
    lengths: list[int] = []
    offsets: list[np.ndarray] = []
    at = k = 0
    for text in texts:
        if text.isascii():
            ws = found[at:at + counts[k]]
            offsets.append(starts[at:at + counts[k]])
            at += counts[k]
            k += 1
        else:
            ws = words(text)
            offsets.append(np.full(len(ws), -1, dtype=np.int64))
        out += ws
        lengths.append(len(ws))
    return out, lengths, np.concatenate([np.zeros(0, dtype=np.int64), *offsets])


# ASCII letters and digits: [^\W_] of an ASCII text, once lower-cased.
_ASCII_WORD = np.zeros(256, dtype=bool)
_ASCII_WORD[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)] = True


def _ascii_words(texts: Sequence[str]) -> tuple[list[str], list[int], np.ndarray]:
    """:func:`words_many` of ASCII texts: a character is in a word if it is a letter or a
    digit, or an apostrophe between two of them (what the regex finds in an ASCII text:
    "can't" is one word, "rock 'n' roll" three). The other characters become spaces,
    and ``str.split`` cuts the words."""
    if not texts:
        return [], [], np.zeros(0, dtype=np.int64)
    joined = "\n".join(texts).lower()  # no word spans two texts
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    alnum = np.take(_ASCII_WORD, chars)  # (several times faster than _ASCII_WORD[chars])
    inside = alnum.copy()
    apostrophes = np.flatnonzero(chars[1:-1] == ord("'")) + 1
    inside[apostrophes] = alnum[apostrophes - 1] & alnum[apostrophes + 1]
    found = np.where(inside, chars, np.uint8(ord(" "))).tobytes().decode("ascii").split()
    starts = np.flatnonzero(inside[1:] & ~inside[:-1]) + 1
    if inside.size and inside[0]:
        starts = np.concatenate(([0], starts))
    # Each text's words: those starting within it.
    bounds = np.cumsum([0, *map(len, texts)])[:-1] + np.arange(len(texts))
    firsts = np.searchsorted(starts, bounds)
    counts = np.diff(firsts, append=len(starts))
    return found, counts.tolist(), starts - np.repeat(bounds, counts)


def word_spans(text: str, count: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the words :func:`words` returns, in the same order (the first ``count``
    of them; all by default)."""
    return list(islice(map(_SPAN, _WORD.finditer(text)), count))


def word_offsets(text: str, ws: Sequence[str], wanted: Iterable[int]
                 ) -> dict[int, tuple[int, int]]:
    """The offsets of the words ``ws[j]`` (``ws``: ``words(text)``) for each ``j`` in
    ``wanted``, by ``j``: :func:`word_spans` without finding every word before them.

    In an ASCII text, every occurrence of a word's letters lies inside one word (a word
    ends where no letter, digit or apostrophe-then-letter follows), so a word is the
    first occurrence of its letters after an earlier word whenever no word in between
    holds them; only where one does are the words in between found one by one.
    """
    wanted = sorted(set(wanted))
    if not text.isascii():
        spans = word_spans(text, count=wanted[-1] + 1 if wanted else 0)
        return {j: spans[j] for j in wanted}
    find = text.lower().find
    out: dict[int, tuple[int, int]] = {}
    known, at = 0, 0  # a word whose start is known, and its start
    for j in wanted:
        w = ws[j]
        if w in " ".join(ws[known:j]):  # a word in between holds it (w has no space)
            for k in range(known, j):  # one by one, from the known word
                at = find(ws[k], at) + len(ws[k])
        start = find(w, at)
        out[j] = (start, start + len(w))
        known, at = j, start
    return out


class _Step(NamedTuple):
    """One step of a compiled phrase."""

    kind: str  # "word", "prefix", "number", "numbered" (digits then value), "gap"
    value: str = ""


WEAK = ".weak"


@dataclass(frozen=True)
class Phrase:
    """One phrase as written, with the category it signals.

    A category ending in ".weak" ("deadline.weak": "today", "tomorrow") is a weak signal
    of that category: the model weighs it apart from the strong phrases, and a reason
    names the category without the suffix.
    """

    category: str
    text: str
    language: str = "*"   # "*": every language
    source: str = "phrase"  # "phrase" (shipped) or "user"

    @property
    def reason_category(self) -> str:
        return self.category[:-len(WEAK)] if self.category.endswith(WEAK) else self.category


@dataclass(frozen=True)
class PhraseHit:
    phrase: Phrase
    first: int  # word index of the first and last word matched
    last: int
    negated: bool


def _atom(token: str, phrase: str) -> tuple[_Step, ...]:
    """The steps of one written word: "#", "refund*", or a word ("wi-fi" is two words, as
    the text's words are split)."""
    if token == "#":
        return (_Step("number"),)
    if token.startswith("#") and token[1:].isalpha() and token[1:].isascii():
        return (_Step("numbered", token[1:].lower()),)
    star = token.endswith("*")
    parts = _WORD.findall(fold(token[:-1] if star else token))
    if not parts:
        raise InputError(f"phrase {phrase!r}: {token!r} is not a word (use letters, digits, "
                         f"an apostrophe inside a word, '*' at the end, '#' or '...')")
    steps = [_Step("word", w) for w in parts]
    if star:
        if len(parts[-1]) < MIN_PREFIX:
            raise InputError(f"phrase {phrase!r}: a prefix needs at least {MIN_PREFIX} "
                             f"letters before '*', got {token!r}")
        steps[-1] = _Step("prefix", parts[-1])
    return tuple(steps)


MAX_SEQUENCES = 20_000  # word sequences one phrase may stand for


def compile_phrase(phrase: str) -> list[tuple[_Step, ...]]:
    """Every word sequence the phrase stands for (alternatives expanded)."""
    tokens = _SYNTAX.findall(phrase.strip().lower())

    def sequence(i: int) -> tuple[list[tuple[_Step, ...]], int]:
        out: list[tuple[_Step, ...]] = [()]
        while i < len(tokens) and tokens[i] != "|" and not tokens[i].startswith(")"):
            tok = tokens[i]
            if tok == "(":
                options: list[tuple[_Step, ...]] = []
                i += 1
                while True:
                    alt, i = sequence(i)
                    options += alt
                    if i >= len(tokens):
                        raise InputError(f"phrase {phrase!r}: '(' without ')'")
                    if tokens[i] == "|":
                        i += 1
                        continue
                    if tokens[i] == ")?":
                        options.append(())
                    i += 1
                    break
            elif tok == "...":
                options, i = [(_Step("gap"),)], i + 1
            else:
                options, i = [_atom(tok, phrase)], i + 1
            out = [a + b for a in out for b in options]
            if len(out) > MAX_SEQUENCES:
                raise InputError(f"phrase {phrase!r} stands for over {MAX_SEQUENCES} word "
                                 f"sequences; split it into several phrases")
        return out, i

    expanded, end = sequence(0)
    if end < len(tokens):
        raise InputError(f"phrase {phrase!r}: unexpected {tokens[end]!r}")
    sequences = []
    for steps in expanded:
        while steps and steps[0].kind == "gap":
            steps = steps[1:]
        while steps and steps[-1].kind == "gap":
            steps = steps[:-1]
        if steps:
            sequences.append(steps)
    if not sequences:
        raise InputError(f"phrase {phrase!r} has no words")
    return sequences


_NO_EDGES: dict[str, int] = {}  # shared by the nodes without such edges; never changed


class _Trie:
    """A trie over phrase steps: phrases sharing their first words share nodes.

    A node is a number (0: the root), and its edges and the phrases ending there are in
    lists by node: dictionaries of words to nodes, numbers and tuples of numbers, which
    Python's garbage collector does not track. (The shipped English phrases make ~60,000
    nodes: as objects, with their dictionaries and lists, every full collection walked
    ~200,000 of them, which cost an analysis with urgency more than reading the texts.)
    """

    __slots__ = ("words", "prefixes", "lengths", "number", "numbered", "gap", "ends",
                 "phrases", "_ids")

    def __init__(self) -> None:
        # By node (lists while the trie is built, then tuples: see freeze).
        self.words: list[dict[str, int]] = []  # exact next words
        self.prefixes: list[dict[str, int]] = []
        self.lengths: list[tuple[int, ...]] = []  # of the prefixes, increasing
        self.number: list[int] = []  # -1: none
        self.numbered: list[dict[str, int]] = []  # "am" for 7am, "th" for 4th
        self.gap: list[int] = []  # -1: none
        self.ends: list[tuple[int, ...]] = []  # phrases ending there, by id
        self.phrases: list[Phrase] = []  # by id
        self._ids: dict[Phrase, int] = {}  # equal phrases share the first one's id
        self._node()  # the root

    def _node(self) -> int:
        self.words.append(_NO_EDGES)
        self.prefixes.append(_NO_EDGES)
        self.lengths.append(())
        self.number.append(-1)
        self.numbered.append(_NO_EDGES)
        self.gap.append(-1)
        self.ends.append(())
        return len(self.gap) - 1

    def add(self, phrase: Phrase, steps: Iterable[tuple[str, str]]) -> None:
        """Adds one word sequence of ``phrase`` (each phrase ends once at a node)."""
        node = 0
        for step in steps:
            node = self._child(node, step)
        phrase_id = self._ids.setdefault(phrase, len(self.phrases))
        if phrase_id == len(self.phrases):
            self.phrases.append(phrase)
        if phrase_id not in self.ends[node]:
            self.ends[node] += (phrase_id,)

    def freeze(self) -> None:
        """Keeps the built trie in tuples: holding only dictionaries of words to numbers,
        numbers and tuples of numbers, they are untracked by the garbage collector too,
        so its collections skip the trie entirely."""
        for name in ("words", "prefixes", "lengths", "number", "numbered", "gap", "ends"):
            setattr(self, name, tuple(getattr(self, name)))

    def _child(self, node: int, step: tuple[str, str]) -> int:
        kind, value = step  # see _Step
        if kind in ("word", "prefix", "numbered"):
            edges = {"word": self.words, "prefix": self.prefixes,
                     "numbered": self.numbered}[kind]
            if edges[node] is _NO_EDGES:
                edges[node] = {}
            child = edges[node].get(value)
            if child is None:
                child = edges[node][value] = self._node()
                if kind == "prefix":
                    self.lengths[node] = tuple(sorted({*self.lengths[node], len(value)}))
            return child
        links = self.number if kind == "number" else self.gap
        if links[node] < 0:
            links[node] = self._node()
        return links[node]


def _advance(trie: _Trie, node: int, ws: Sequence[str], pos: int, end: int,
             found: list[tuple[int, int]]) -> None:
    """Follow the step after ``node`` on word ``pos`` (of a text whose words end before
    ``end``), recording every phrase completed (its id and the index of its last word)."""
    if pos >= end:
        return
    w = ws[pos]
    nxt = trie.words[node].get(w)
    if nxt is not None:
        _reached(trie, nxt, ws, pos + 1, end, found)
    lengths = trie.lengths[node]
    if lengths:
        prefixes = trie.prefixes[node]
        for n in lengths:
            if len(w) < n:
                break
            nxt = prefixes.get(w[:n])
            if nxt is not None:
                _reached(trie, nxt, ws, pos + 1, end, found)
    if trie.number[node] >= 0 and w.isdigit():
        _reached(trie, trie.number[node], ws, pos + 1, end, found)
    numbered = trie.numbered[node]
    if numbered and w[:1].isdigit():
        nxt = numbered.get(_after_digits(w))
        if nxt is not None:
            _reached(trie, nxt, ws, pos + 1, end, found)


def _after_digits(w: str) -> str:
    """The letters after a number: "am" for "7am", "" for "42"."""
    i = 0
    while i < len(w) and w[i].isdigit():
        i += 1
    return w[i:]


def _reached(trie: _Trie, node: int, ws: Sequence[str], pos: int, end: int,
             found: list[tuple[int, int]]) -> None:
    ends = trie.ends[node]
    if ends:
        found += [(phrase, pos - 1) for phrase in ends]
    if trie.words[node] or trie.prefixes[node] or trie.number[node] >= 0 or trie.numbered[node]:
        _advance(trie, node, ws, pos, end, found)
    gap = trie.gap[node]
    if gap >= 0:
        for j in range(pos, min(pos + GAP + 1, end)):
            _advance(trie, gap, ws, j, end, found)


def _steps(trie: _Trie, w: str) -> tuple[int, ...]:
    """The nodes ``w`` leads to from the root, in the order :func:`_advance` follows them
    (the phrases it starts, by how they go on: empty when it starts none)."""
    out = []
    node = trie.words[0].get(w)
    if node is not None:
        out.append(node)
    for n in trie.lengths[0]:
        if len(w) < n:
            break
        node = trie.prefixes[0].get(w[:n])
        if node is not None:
            out.append(node)
    if trie.number[0] >= 0 and w.isdigit():
        out.append(trie.number[0])
    if trie.numbered[0] and w[:1].isdigit():
        node = trie.numbered[0].get(_after_digits(w))
        if node is not None:
            out.append(node)
    return tuple(out)


def _can_step(trie: _Trie, node: int, w: str) -> bool:
    """Whether :func:`_advance` goes on from ``node`` with the word ``w``."""
    return (w in trie.words[node]
            or any(w[:n] in trie.prefixes[node] for n in trie.lengths[node] if len(w) >= n)
            or (trie.number[node] >= 0 and w.isdigit())
            or (bool(trie.numbered[node]) and w[:1].isdigit()
                and _after_digits(w) in trie.numbered[node]))


# A word's facts, packed in one int (one lookup per word, unpacked in numpy): its code
# (the nodes it leads to from the root), its follower id (which word it is among those
# that go on a phrase; 0: none), whether it is a negation and whether it is a number.
_CODE_SHIFT = 32
_FOLLOWER_SHIFT = 2
_FOLLOWER_MASK = (1 << (_CODE_SHIFT - _FOLLOWER_SHIFT)) - 1
_NEGATION = 2
_NUMBER = 1


class _Starts:
    """What the words seen so far mean to a language's phrases, for reading a batch's
    words in a few numpy calls.

    Each word gets a code naming the trie nodes it leads to from the root (see
    :func:`_steps`; code 0: it starts none), so a batch looks its words up in one pass and
    asks the trie only about the words no earlier batch had. Most words that start a
    phrase ("i", "my", "in") lead nowhere in a given text: unless a phrase ends at the
    word itself, a walk from it finds something only if a node it leads to goes on with
    the next word, or (after "...") a node goes on with one of the next few words. Those
    nodes and offsets are the code's *gates*. Whether a gate's node goes on with a word
    is a table lookup when the node goes on only with words and numbers (the table has a
    row per gate and a bit per follower: a word of some node's ``words``); for the
    few nodes that go on with a prefix or a number with letters ("7am"), it is worked
    out once per word and remembered. So most words that start a phrase are settled in
    numpy too, and the trie is walked from few words, in few texts.
    """

    def __init__(self, trie: _Trie, negations: frozenset[str]) -> None:
        self.trie = trie
        self.negations = negations
        self.steps: list[tuple[int, ...]] = [()]  # by code
        # By code, when every node it leads to is a phrase's last ("tomorrow", "urgent"):
        # the phrases ending there, in the order a walk finds them; else None.
        self.leaves: list[tuple[int, ...] | None] = [()]
        self._codes_of_steps: dict[tuple[int, ...], int] = {(): 0}
        self.facts: dict[str, int] = {}  # by word, packed (see _CODE_SHIFT)
        self._followers = {w: k for k, w in enumerate(
            sorted({w for edges in trie.words for w in edges}), start=1)}
        # By code: whether a phrase ends at the word (walk the trie from it), and its
        # gates: gate_of[first[code]:first[code] + count[code]].
        self._walk = [False]
        self._first = [0]
        self._count = [0]
        self._gate_of: list[int] = []  # gate ids
        self._offset_of: list[int] = []  # the word the gate reads: 1 is the next
        self._arrays: tuple[np.ndarray, ...] = ()
        # By gate id: its node; whether its node goes on with each follower, and with a
        # number; whether it needs words worked out one by one (prefixes, "#am"), and
        # those words, remembered: whether it goes on with each.
        self._gate_ids: dict[int, int] = {}  # by node
        self._nodes: list[int] = []
        # A bit per follower, by gate (grown by doubling): kept small, as it is read at
        # random for every word that starts a phrase.
        self._goes_on = np.zeros((64, len(self._followers) // 8 + 1), dtype=np.uint8)
        self._number: list[bool] = []
        self._by_word: list[bool] = []
        self._seen: list[dict[str, bool]] = []
        self._remembered = 0

    def _gate(self, node: int) -> int:
        gate = self._gate_ids.get(node)
        if gate is None:
            trie = self.trie
            gate = self._gate_ids[node] = len(self._nodes)
            self._nodes.append(node)
            if gate == len(self._goes_on):
                self._goes_on = np.concatenate((self._goes_on, np.zeros_like(self._goes_on)))
            for follower in (self._followers[w] for w in trie.words[node]):
                self._goes_on[gate, follower >> 3] |= 1 << (follower & 7)
            self._number.append(trie.number[node] >= 0)
            self._by_word.append(bool(trie.prefixes[node] or trie.numbered[node]))
            self._seen.append({})
        return gate

    def _code(self, w: str) -> int:
        steps = _steps(self.trie, w)
        code = self._codes_of_steps.get(steps)
        if code is None:  # a new combination (there are few: the trie's root is fixed)
            code = self._codes_of_steps[steps] = len(self.steps)
            self.steps.append(steps)
            trie = self.trie
            self.leaves.append(
                tuple(p for node in steps for p in trie.ends[node])
                if not any(trie.words[node] or trie.prefixes[node] or trie.number[node] >= 0
                           or trie.numbered[node] or trie.gap[node] >= 0 for node in steps)
                else None)
            gap = self.trie.gap
            gates = [(node, 1) for node in steps]
            gates += [(gap[node], k) for node in steps if gap[node] >= 0
                      for k in range(1, GAP + 2)]
            self._walk.append(any(self.trie.ends[node] for node in steps))
            self._first.append(len(self._gate_of))
            self._count.append(len(gates))
            for node, offset in gates:
                self._gate_of.append(self._gate(node))
                self._offset_of.append(offset)
            self._arrays = ()
        return code

    def fact(self, w: str) -> int:
        """The packed facts of the word ``w`` (see _CODE_SHIFT)."""
        return ((self._code(w) << _CODE_SHIFT)
                | (self._followers.get(w, 0) << _FOLLOWER_SHIFT)
                | (_NEGATION if is_negation(w, self.negations) else 0)
                | (_NUMBER if w.isdigit() else 0))

    def of(self, ws: list[str]) -> np.ndarray:
        """The packed facts of each word of ``ws``."""
        facts, get = self.facts, self.facts.get
        if len(facts) > STARTS_CACHE:  # bounded: a stream of new words (ids, numbers...)
            facts.clear()
        found = np.fromiter(map(get, ws, repeat(-1)), dtype=np.int64, count=len(ws))
        for j in np.flatnonzero(found < 0).tolist():
            w = ws[j]
            known = get(w)
            if known is None:
                known = facts[w] = self.fact(w)
            found[j] = known
        return found

    def walks(self, where: np.ndarray, codes: np.ndarray, ends: np.ndarray,
              facts: np.ndarray, words: list[str]) -> np.ndarray:
        """Which of the words at ``where`` (their ``codes``; ``ends``: where the text of
        each ends; ``facts``: every word's) may start a phrase: a phrase ends there, or a
        gate goes on."""
        if not self._arrays:
            self._arrays = (np.array(self._walk, dtype=bool),
                            np.array(self._first, dtype=np.int64),
                            np.array(self._count, dtype=np.int64),
                            np.array(self._gate_of, dtype=np.int64),
                            np.array(self._offset_of, dtype=np.int64),
                            self._goes_on,
                            np.array(self._number, dtype=bool),
                            np.array(self._by_word, dtype=bool))
        walk, first, count, gate_of, offset_of, goes_on, number, by_word = self._arrays
        out = walk[codes]
        # Every gate of every other word, with the word it reads (none past its text).
        ask = np.flatnonzero(~out)
        counts = count[codes[ask]]
        owner = np.repeat(ask, counts)
        rows = (np.repeat(first[codes[ask]] - np.cumsum(counts) + counts, counts)
                + np.arange(int(counts.sum())))
        gates = gate_of[rows]
        at = where[owner] + offset_of[rows]
        inside = at < ends[owner]
        read = np.where(inside, facts[at.clip(max=len(facts) - 1)], 0)
        follower = (read >> _FOLLOWER_SHIFT) & _FOLLOWER_MASK
        passes = (((goes_on[gates, follower >> 3] >> (follower & 7)) & 1).astype(bool)
                  | (number[gates] & (read & _NUMBER).astype(bool)))
        hard = np.flatnonzero(by_word[gates] & ~passes)
        if hard.size:  # prefixes and numbers with letters: worked out once per word
            found = [words[j] if ok else "" for j, ok in zip(at[hard].tolist(),
                                                           inside[hard].tolist())]
            ids = gates[hard].tolist()
            known = list(map(dict.get, map(self._seen.__getitem__, ids), found))
            for j in compress(range(len(known)), map(operator.is_, known, repeat(None))):
                if self._remembered > STARTS_CACHE:  # bounded, as the words' facts are
                    for seen in self._seen:
                        seen.clear()
                    self._remembered = 0
                known[j] = self._seen[ids[j]][found[j]] = _can_step(
                    self.trie, self._nodes[ids[j]], found[j])
                self._remembered += 1
            passes[hard] = known
        out[owner[passes]] = True
        return out


def _walk(trie: _Trie, steps: tuple[int, ...], words: Sequence[str], j: int, end: int
          ) -> list[tuple[int, int]]:
    """The phrases starting at word ``j`` (``steps``: the nodes it leads to from the
    root; ``end``: where its text's words end), as (phrase id, index of the last word)."""
    found: list[tuple[int, int]] = []
    for node in steps:  # as _advance(trie, 0, words, j, end, found) would
        _reached(trie, node, words, j + 1, end, found)
    return found


def _hits(trie: _Trie, found: list[tuple[int, int]], j: int, begin: int,
          negated: bool) -> list[PhraseHit]:
    """The hits of the phrases ``found`` from word ``j`` of a text whose words start at
    ``begin``: of the matches of one phrase, the longest."""
    phrases, first = trie.phrases, j - begin
    if len(found) == 1:
        return [PhraseHit(phrases[found[0][0]], first, found[0][1] - begin, negated)]
    longest: dict[int, int] = {}
    for phrase, last in found:
        if last > longest.get(phrase, -1):
            longest[phrase] = last
    return [PhraseHit(phrases[p], first, last - begin, negated) for p, last in longest.items()]


def _match_few(trie: _Trie, starts: _Starts, words: list[str], lengths: Sequence[int]
               ) -> dict[int, list[PhraseHit]]:
    """:meth:`PhraseSet.match_flat` of a few texts, word by word (without the batch's
    numpy calls, which cost more than they save here)."""
    facts, get = starts.facts, starts.facts.get
    if len(facts) > STARTS_CACHE:  # bounded, as in _Starts.of
        facts.clear()
    out: dict[int, list[PhraseHit]] = {}
    begin = 0
    for t, n in enumerate(lengths):
        end = begin + n
        for j in range(begin, end):
            fact = get(words[j])
            if fact is None:
                fact = facts[words[j]] = starts.fact(words[j])
            if not fact >> _CODE_SHIFT:
                continue
            found = _walk(trie, starts.steps[fact >> _CODE_SHIFT], words, j, end)
            if found:  # (the words before were looked up above)
                negated = any(get(w, 0) & _NEGATION
                              for w in words[max(begin, j - NEGATION_WINDOW):j])
                out.setdefault(t, []).extend(_hits(trie, found, j, begin, negated))
        begin = end
    return out


class PhraseSet:
    """Phrases compiled for matching, one trie per language (its own phrases and those for
    every language)."""

    def __init__(self, phrases: Iterable[Phrase] = ()) -> None:
        self.phrases: list[Phrase] = []
        # Each phrase's word sequences as plain tuples of strings, which Python's garbage
        # collector stops tracking (the shipped phrases stand for ~50,000 sequences).
        self._compiled: list[tuple[Phrase, tuple[tuple[tuple[str, str], ...], ...]]] = []
        self._tries: dict[str, _Trie] = {}
        # Per language: how the words seen start phrases. Words repeat across texts, and
        # most words start none, so most of a text costs one dict lookup per word.
        self._starts: dict[str, _Starts] = {}
        self.extend(phrases)

    def __len__(self) -> int:
        return len(self.phrases)

    @property
    def categories(self) -> list[str]:
        return sorted({p.category for p in self.phrases})

    def extend(self, phrases: Iterable[Phrase]) -> None:
        for phrase in phrases:
            self._compiled.append((phrase, tuple(tuple(map(tuple, steps))  # type: ignore[misc]
                                                 for steps in compile_phrase(phrase.text))))
            self.phrases.append(phrase)
        self._tries.clear()
        self._starts.clear()

    def _trie(self, language: str) -> _Trie:
        trie = self._tries.get(language)
        if trie is None:
            trie = _Trie()
            for phrase, sequences in self._compiled:
                if phrase.language not in ("*", language):
                    continue
                for steps in sequences:
                    trie.add(phrase, steps)
            trie.freeze()
            self._tries[language] = trie
            self._starts[language] = _Starts(trie, NEGATIONS.get(language, NEGATIONS["en"]))
        return trie

    def match(self, ws: Sequence[str], language: str) -> list[PhraseHit]:
        """Phrases found in the folded words ``ws`` of a text in ``language``; of the
        matches of one phrase at one word, the longest."""
        return self.match_many([ws], language)[0]

    def match_many(self, texts: Sequence[Sequence[str]], language: str
                   ) -> list[list[PhraseHit]]:
        """:meth:`match` for each text's folded words, all in ``language``."""
        found = self.match_flat(list(chain.from_iterable(texts)), list(map(len, texts)),
                                language)
        return [found.get(t, []) for t in range(len(texts))]

    def word_facts(self, w: str, language: str) -> int:
        """What the folded word ``w`` means to the phrases of ``language``, packed in an
        int (for :meth:`match_flat`; a caller that looks words up for other purposes too
        can keep it with them)."""
        self._trie(language)
        return self._starts[language].fact(w)

    def match_flat(self, words: list[str], lengths: Sequence[int], language: str,
                   facts: np.ndarray | None = None) -> dict[int, list[PhraseHit]]:
        """:meth:`match` for a batch of texts in ``language``, given all their folded
        words one after another and the number of words of each: the phrases found in
        each text that has any, by the text's position in the batch. ``facts``: the
        :meth:`word_facts` of each word, if known.

        The batch's words are looked up at once, and the trie is walked only from the
        words after which a phrase may go on (see :class:`_Starts`): from few words, in
        few texts. Fewer than SMALL_BATCH texts are read word by word.
        """
        trie = self._trie(language)
        starts = self._starts[language]
        if len(lengths) < SMALL_BATCH:
            return _match_few(trie, starts, words, lengths)
        facts = starts.of(words) if facts is None else facts
        codes = facts >> _CODE_SHIFT
        where = np.flatnonzero(codes)
        ends = np.cumsum(np.asarray(lengths, dtype=np.int64))
        owner = np.searchsorted(ends, where, side="right")
        where = where[starts.walks(where, codes[where], ends[owner], facts, words)]
        owner = np.searchsorted(ends, where, side="right")
        begins = (ends - np.asarray(lengths, dtype=np.int64))[owner]
        # Whether a negation stands within NEGATION_WINDOW words before, in the same text.
        negated = np.zeros(len(where), dtype=bool)
        for back in range(1, NEGATION_WINDOW + 1):
            before = where - back
            negated |= ((before >= begins)
                        & (facts[before.clip(min=0)] & _NEGATION).astype(bool))
        out: dict[int, list[PhraseHit]] = {}
        end_of = ends.tolist()
        found: list[tuple[int, int]]
        for j, t, a, code, negation in zip(where.tolist(), owner.tolist(), begins.tolist(),
                                           codes[where].tolist(), negated.tolist()):
            leaves = starts.leaves[code]
            if leaves is not None:  # phrases of one word: nothing to walk
                found = [(phrase, j) for phrase in leaves]
            else:
                found = []
                for node in starts.steps[code]:  # _walk, inline (this loop is hot)
                    _reached(trie, node, words, j + 1, end_of[t], found)
            if found:
                if t in out:
                    out[t] += _hits(trie, found, j, a, negation)
                else:
                    out[t] = _hits(trie, found, j, a, negation)
        return out

    @staticmethod
    def negation_in_clause(text: str, spans: Sequence[tuple[int, int]], hit: PhraseHit,
                           language: str) -> bool:
        """Whether ``hit``'s negation really stands in its clause (no sentence end or "but"
        between the negation and the phrase)."""
        negations = NEGATIONS.get(language, NEGATIONS["en"])
        start = spans[hit.first][0]
        for j in range(hit.first - 1, max(-1, hit.first - NEGATION_WINDOW - 1), -1):
            if _CLAUSE_END.search(text[spans[j][1]:start].lower()):
                return False
            if is_negation(fold(text[spans[j][0]:spans[j][1]]), negations):
                return True
        return False


def read_phrase_rows(rows: Iterable[Sequence[str]], where: str, source: str) -> list[Phrase]:
    """Phrases from ``category, phrase[, language]`` rows (a header row is skipped)."""
    phrases = []
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and cells[0].lower() == "category":
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise InputError(f"{where}: row {line} needs a category and a phrase, got {row}")
        category = cells[0].lower()
        if not re.fullmatch(r"[a-z][a-z0-9_]*(\.weak)?", category):
            raise InputError(f"{where}: row {line}: a category is a lower-case name "
                             f"(letters, digits, _; '.weak' after it for a weak signal), "
                             f"got {cells[0]!r}")
        language = (cells[2].lower() if len(cells) > 2 and cells[2] else "*")
        phrase = Phrase(category, cells[1], language, source)
        try:
            compile_phrase(phrase.text)
        except InputError as exc:
            raise InputError(f"{where}: row {line}: {exc}") from None
        phrases.append(phrase)
    return phrases
