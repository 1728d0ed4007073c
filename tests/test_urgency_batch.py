"""Urgency read in batches: the batch path (numpy, many texts at once) gives exactly what
reading each text alone gives, for the phrases, the model's rows and logits, and the
detector's results."""

from __future__ import annotations

import gc
import random
import re

import numpy as np
import pytest

from frankly.urgency import Phrase, UrgencyDetector, default_detector
from frankly.urgency.detector import shipped_phrases
from frankly.urgency.model import ADD_COLUMNS, CALM, NEGATED_FEATURE, PHRASE_FEATURE
from frankly.urgency.phrases import (SMALL_BATCH, PhraseSet, word_offsets, word_spans, words,
                                     words_many)

# Texts the batch path reads differently from the one-text path: apostrophes at word
# edges, underscores, digits with letters, repeated words, accents, each language.
TRICKY = [
    "", "   ", "😀🔥", "'", "a'", "'a", "rock 'n' roll", "can't won't don’t",
    "snake_case charged_twice", "_charged twice_", "I was charged twice!!!",
    "I'm NOT going to cancel my subscription", "there is no smell of gas, but it is hot",
    "It's the 3rd time I'm writing, 4th time calling", "see you at 7am tomorrow",
    "in 2 hours the flight leaves", "URGENT: server down since 9:30pm", "now know now",
    "Ich kündige meinen Vertrag, mein Anwalt meldet sich", "es urgente, no funciona",
    "c'est totalement en panne depuis hier", "não consigo acessar minha conta",
    "zorglub refunded me twice", "our ceo is furious", "no rush at all, thanks",
    "This is the 10th time ... I will cancel", "word " * 150 + "charged twice",
]
LANGUAGES = ["en", "de", "es", "fr", "pt", None, "it"]
# The user's phrases: a first word no shipped phrase has ("zorglub"), prefixes, numbers,
# a gap, optional words, a language of its own, a "no rush" one.
USER = [Phrase("billing", "zorglub (refund*|money)"), Phrase("vip", "(my|our)? ceo is furious"),
        Phrase("churn", "#th time ... cancel*"), Phrase("outage", "totalement en panne", "fr"),
        Phrase("deadline", "at #pm"), Phrase("calm", "no rush at all")]


def _texts(n: int, seed: int = 7) -> tuple[list[str], list[str | None]]:
    rng = random.Random(seed)
    texts, languages = [], []
    for _ in range(n):
        parts = rng.sample(TRICKY, 3)
        texts.append(rng.choice([" ", ", ", "_", "'", "\n"]).join(parts))
        languages.append(rng.choice(LANGUAGES))
    return [*TRICKY, *texts], [*(["en"] * len(TRICKY)), *languages]


@pytest.fixture(scope="module", params=["shipped", "user"])
def detector(request) -> UrgencyDetector:
    return default_detector() if request.param == "shipped" else UrgencyDetector(USER)


def test_a_batch_gives_what_each_text_alone_gives(detector):
    texts, languages = _texts(200)
    alone = [detector.assess(t, lang) for t, lang in zip(texts, languages)]
    assert detector.assess_many(texts, languages) == alone
    # Batches of every size around the one where reading switches to numpy.
    for size in (1, SMALL_BATCH - 1, SMALL_BATCH, SMALL_BATCH + 1):
        assert detector.assess_many(texts[:size], languages[:size]) == alone[:size]
    english = [t for t, lang in zip(texts, languages) if lang in ("en", None)]
    assert detector.assess_many(english) == [detector.assess(t) for t in english]


def test_reasons_point_at_the_text_with_plain_ints(detector):
    texts, languages = _texts(100, seed=3)
    for text, u in zip(texts, detector.assess_many(texts, languages)):
        for r in u.reasons:
            assert type(r.start) is int and type(r.end) is int
            assert text[r.start:r.end] == r.text
        assert u.score is None or type(u.score) is float


def test_user_phrases_whose_first_word_no_shipped_phrase_has_are_found():
    d = UrgencyDetector(USER)
    texts = ["zorglub refunded me", "Our CEO is furious", "the 4th time I cancel it",
             "see you at 5pm then"] * SMALL_BATCH
    for u in d.assess_many(texts):
        assert u.urgent and u.score >= d.user_score and u.reasons
    assert [u.reasons[0].source for u in d.assess_many(texts[:3] * SMALL_BATCH)] == [
        "user"] * 3 * SMALL_BATCH
    assert d.assess("zorglub money").category == "billing"
    assert not d.assess("zorglub alone").reasons


def test_a_negated_phrase_in_a_batch_is_settled_in_its_clause():
    d = default_detector()
    texts = ["There is no smell of gas, it's just a rattling noise",
             "No, I will not wait: there is a strong smell of gas in the flat"]
    batch = d.assess_many(texts * SMALL_BATCH)
    assert not batch[0].urgent and not any(r.category == "safety" for r in batch[0].reasons)
    assert batch[1].urgent and batch[1].category == "safety"
    assert batch[:2] == [d.assess(t) for t in texts]


def test_words_many_finds_the_regex_words_and_where_they_start():
    texts, _ = _texts(300, seed=11)
    flat, lengths, starts = words_many(texts)
    assert sum(lengths) == len(flat) == len(starts)
    at = 0
    for text, n in zip(texts, lengths):
        assert flat[at:at + n] == words(text)
        if text.isascii():
            assert starts[at:at + n].tolist() == [a for a, _ in word_spans(text)]
        else:
            assert (starts[at:at + n] == -1).all()
        at += n


def test_word_offsets_are_the_word_spans():
    texts, _ = _texts(200, seed=5)
    rng = random.Random(1)
    for text in texts + ["now know now now", "ab abab ab b a ab"]:
        ws, spans = words(text), word_spans(text)
        wanted = rng.sample(range(len(ws)), min(len(ws), 3))
        assert word_offsets(text, ws, wanted) == {j: spans[j] for j in wanted}


def test_matching_a_batch_is_matching_each_text():
    phrases = PhraseSet([*shipped_phrases(), *USER])
    texts, _ = _texts(100, seed=2)
    wss = [words(t) for t in texts]
    for language in ("en", "de", "fr"):
        one_by_one = [phrases.match(ws, language) for ws in wss]
        assert phrases.match_many(wss, language) == one_by_one


def _row_as_it_was(model, ws, categories=(), negated=(), calm=False):
    """The model's row as the word-by-word reader built it (the order of its set matters:
    logits add the weights in that order)."""
    get = model.vocabulary.get
    found = {i for i in map(get, ws) if i is not None}
    for a, b in zip(ws, ws[1:]):
        i = get(f"{a} {b}")
        if i is not None:
            found.add(i)
    for name in [*(PHRASE_FEATURE + c for c in categories),
                 *(NEGATED_FEATURE + c for c in negated), *([PHRASE_FEATURE + CALM] * calm)]:
        i = get(name)
        if i is not None:
            found.add(i)
    return list(found)


def test_rows_of_a_batch_are_in_the_order_the_logits_need():
    model = default_detector().model
    texts, _ = _texts(300, seed=9)
    wss = [words(t) for t in texts]
    families = [(["billing"], ["safety"], True) if k % 3 == 0 else None
                for k in range(len(wss))]
    expected = [_row_as_it_was(model, ws, *(f or ())) for ws, f in zip(wss, families)]
    assert model.rows(wss, families) == expected  # a batch: numpy
    assert [model.row(ws, *(f or ())) for ws, f in zip(wss, families)] == expected  # one


def test_logits_add_each_rows_weights_in_its_order_in_float32():
    model = default_detector().model
    rng = np.random.default_rng(0)
    size = len(model.weights) - 1
    rows = [rng.choice(size, n, replace=False).tolist()
            for n in [0, 1, 3, ADD_COLUMNS - 1, ADD_COLUMNS, ADD_COLUMNS + 1, 500, 7] * 5]
    expected = np.tile(model.weights[-1], (len(rows), 1))
    for k, row in enumerate(rows):
        for i in row:  # one after another, in float32, as the rows were always summed
            expected[k] += model.weights[i]
    for some in (rows, rows[:3]):  # the batch and the few-rows ways
        assert np.array_equal(model.logits(some), expected[:len(some)])


def test_the_phrase_trie_costs_the_garbage_collector_little():
    gc.collect()
    before = len(gc.get_objects())
    phrases = PhraseSet(shipped_phrases())
    phrases.match(words("charged twice"), "en")  # builds the English trie
    gc.collect()
    gc.collect()
    # ~60,000 nodes: kept in untracked dicts and tuples, not one object (or more) each.
    assert len(gc.get_objects()) - before < 5_000
    assert re.search("charged", " ".join(p.text for p in phrases.phrases))
