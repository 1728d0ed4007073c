"""The fast model's feature hashing: deterministic, batch-independent, negation-aware."""

from __future__ import annotations

import numpy as np

from frankly.models.hashing import HashingSpec, hash_features

WORDS_ONLY = HashingSpec(char_orders=(), bigrams=False, negation=True)


def _features(text: str, spec: HashingSpec) -> list[int]:
    docs, buckets = hash_features([text], spec)
    return sorted(buckets.tolist())


def test_features_do_not_depend_on_the_rest_of_the_batch():
    spec = HashingSpec()
    texts = ["Great service!", "not bad at all", "", "email me at x@y.com :)", "ok"]
    docs, buckets = hash_features(texts, spec)
    for i, text in enumerate(texts):
        assert sorted(buckets[docs == i].tolist()) == _features(text, spec)


def test_negation_adds_features_only_inside_its_clause():
    # words: not, bad, at, all -> 4 word features + 3 negated (bad, at, all)
    assert len(_features("not bad at all", WORDS_ONLY)) == 7
    # the full stop ends the scope: "great" is not negated
    assert len(_features("no problems. great", WORDS_ONLY)) == 3 + 1
    # beyond three words the scope ends
    assert len(_features("never one two three four", WORDS_ONLY)) == 5 + 3
    assert len(_features("good service", WORDS_ONLY)) == 2


def test_negated_word_differs_from_the_plain_word():
    plain = set(_features("bad", WORDS_ONLY))
    negated = set(_features("not bad", WORDS_ONLY)) - set(_features("not", WORDS_ONLY))
    assert plain < negated and len(negated - plain) == 1


def test_links_handles_and_case_are_normalised():
    spec = HashingSpec()
    assert _features("@Acme GREAT https://t.co/abc", spec) == \
        _features("@other great http://x.io/zzz", spec)


def test_odd_text_never_crashes():
    spec = HashingSpec()
    texts = ["\x00\x00", "\ud800 lone surrogate", "😀" * 1000, "a" * 100_000, " \n\t "]
    docs, buckets = hash_features(texts, spec)
    assert len(docs) == len(buckets) and np.all(docs < len(texts))
