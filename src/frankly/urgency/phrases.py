"""Urgency phrases: a small, fast phrase matcher over words.

A phrase is written as words, lower case, in a tiny syntax that users can write too:

- ``charged twice``: the words in a row (case and accents are ignored);
- ``refund*``: a word starting with "refund" (refunds, refunded);
- ``(log in|login|sign in)``: one of several alternatives, each any number of words;
  ``(my|the)?`` an optional one;
- ``...``: up to three other words in between ("charged me twice", "charged my card twice");
- ``#``: any number ("for 3 days"); ``#am``, ``#th``: a number written with those letters
  after it ("7am", "4th").

Matching goes word by word through a dictionary keyed by each phrase's first word, so the
cost grows with the text's words, not with the number of phrases (a regex alternation of
hundreds of phrases is tried at every position of the text and was ~20x slower here).

A phrase preceded in its clause by a negation ("no", "not", "never", "n't"... in the
text's language) does not count: "there is no smell of gas", "I don't want to cancel".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from frankly.errors import InputError

GAP = 3  # words that "..." may skip
NEGATION_WINDOW = 3  # words before a phrase searched for a negation
MIN_PREFIX = 3  # "ref*" at least: a shorter stem matches too much
STARTS_CACHE = 200_000  # words remembered per language as starting a phrase or not

# Words, with apostrophes inside them kept ("can't", "l'application", "don’t").
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
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
    found = _WORD.findall(text.lower())
    if text.isascii():
        return found
    return [w if w.isascii() else fold(w) for w in found]


def word_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of the words :func:`words` returns, in the same order."""
    return [m.span() for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class _Step:
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


class _Node:
    """A trie over phrase steps: phrases sharing their first words share nodes."""

    __slots__ = ("words", "prefixes", "lengths", "number", "numbered", "gap", "ends")

    def __init__(self) -> None:
        self.words: dict[str, _Node] = {}  # exact next words
        self.prefixes: dict[str, _Node] = {}
        self.lengths: list[int] = []
        self.number: _Node | None = None
        self.numbered: dict[str, _Node] = {}  # "am" for 7am, "th" for 4th
        self.gap: _Node | None = None
        self.ends: list[Phrase] = []

    def child(self, step: _Step) -> "_Node":
        if step.kind == "word":
            return self.words.setdefault(step.value, _Node())
        if step.kind == "prefix":
            if step.value not in self.prefixes:
                self.prefixes[step.value] = _Node()
                self.lengths = sorted({*self.lengths, len(step.value)})
            return self.prefixes[step.value]
        if step.kind == "number":
            self.number = self.number or _Node()
            return self.number
        if step.kind == "numbered":
            return self.numbered.setdefault(step.value, _Node())
        self.gap = self.gap or _Node()
        return self.gap


def _advance(node: _Node, ws: Sequence[str], pos: int,
             found: list[tuple[Phrase, int]]) -> None:
    """Follow the step after ``node`` on word ``pos``, recording every phrase completed."""
    if pos >= len(ws):
        return
    w = ws[pos]
    nxt = node.words.get(w)
    if nxt is not None:
        _reached(nxt, ws, pos + 1, found)
    for n in node.lengths:
        if len(w) < n:
            break
        nxt = node.prefixes.get(w[:n])
        if nxt is not None:
            _reached(nxt, ws, pos + 1, found)
    if node.number is not None and w.isdigit():
        _reached(node.number, ws, pos + 1, found)
    if node.numbered and w[:1].isdigit():
        nxt = node.numbered.get(_after_digits(w))
        if nxt is not None:
            _reached(nxt, ws, pos + 1, found)


def _after_digits(w: str) -> str:
    """The letters after a number: "am" for "7am", "" for "42"."""
    i = 0
    while i < len(w) and w[i].isdigit():
        i += 1
    return w[i:]


def _reached(node: _Node, ws: Sequence[str], pos: int,
             found: list[tuple[Phrase, int]]) -> None:
    for phrase in node.ends:
        found.append((phrase, pos - 1))
    if node.words or node.prefixes or node.number is not None or node.numbered:
        _advance(node, ws, pos, found)
    if node.gap is not None:
        for j in range(pos, min(pos + GAP + 1, len(ws))):
            _advance(node.gap, ws, j, found)


_UNSEEN = object()


def _start(root: _Node, w: str) -> _Node | None:
    """How ``w`` starts phrases: None (it starts none), its trie node when every phrase it
    starts goes on with a fixed word, else ``root`` (walk the trie from it)."""
    prefixed = any(w[:n] in root.prefixes for n in root.lengths if len(w) >= n)
    number = (root.number is not None and w.isdigit()) or (
        w[:1].isdigit() and _after_digits(w) in root.numbered)
    node = root.words.get(w)
    if node is None:
        return root if prefixed or number else None
    simple = (not node.ends and node.gap is None and not node.prefixes
              and node.number is None and not node.numbered and not prefixed and not number)
    return node if simple else root


class PhraseSet:
    """Phrases compiled for matching, one trie per language (its own phrases and those for
    every language)."""

    def __init__(self, phrases: Iterable[Phrase] = ()) -> None:
        self.phrases: list[Phrase] = []
        self._compiled: list[tuple[Phrase, list[tuple[_Step, ...]]]] = []
        self._roots: dict[str, _Node] = {}
        # Per language: word -> how it starts phrases (see _start; None: it starts none).
        # Words repeat across texts, so most words cost one dict lookup.
        self._starts: dict[str, dict[str, object]] = {}
        self.extend(phrases)

    def __len__(self) -> int:
        return len(self.phrases)

    @property
    def categories(self) -> list[str]:
        return sorted({p.category for p in self.phrases})

    def extend(self, phrases: Iterable[Phrase]) -> None:
        for phrase in phrases:
            self._compiled.append((phrase, compile_phrase(phrase.text)))
            self.phrases.append(phrase)
        self._roots.clear()
        self._starts.clear()

    def _root(self, language: str) -> _Node:
        root = self._roots.get(language)
        if root is None:
            root = _Node()
            for phrase, sequences in self._compiled:
                if phrase.language not in ("*", language):
                    continue
                for steps in sequences:
                    node = root
                    for step in steps:
                        node = node.child(step)
                    if phrase not in node.ends:
                        node.ends.append(phrase)
            self._roots[language] = root
            self._starts[language] = {}
        return root

    def match(self, ws: Sequence[str], language: str) -> list[PhraseHit]:
        """Phrases found in the folded words ``ws`` of a text in ``language``; of the
        matches of one phrase at one word, the longest."""
        root = self._root(language)
        starts = self._starts[language]
        negations = NEGATIONS.get(language, NEGATIONS["en"])
        hits: list[PhraseHit] = []
        n = len(ws)
        for i, w in enumerate(ws):
            start = starts.get(w, _UNSEEN)
            if start is _UNSEEN:  # does the word start a phrase, and how?
                start = _start(root, w)
                if len(starts) > STARTS_CACHE:
                    starts.clear()
                starts[w] = start
            if start is None:
                continue
            # Most words that start a phrase ("i", "my", "no") lead nowhere: when the word
            # only starts phrases that go on with fixed words, check the next word first.
            if start is not root and (i + 1 >= n or ws[i + 1] not in start.words):
                continue
            found = []
            _advance(root, ws, i, found)
            if not found:
                continue
            longest: dict[Phrase, int] = {}
            for phrase, last in found:
                if last > longest.get(phrase, -1):
                    longest[phrase] = last
            before = ws[max(0, i - NEGATION_WINDOW):i]
            negated = any(is_negation(b, negations) for b in before)
            hits += [PhraseHit(p, i, last, negated) for p, last in longest.items()]
        return hits

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
