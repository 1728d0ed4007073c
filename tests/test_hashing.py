"""The fast model's feature hashing: deterministic, batch-independent, negation-aware."""

from __future__ import annotations

import numpy as np
import pytest

from frankly.models.hashing import HashingSpec, Lexicon, hash_features

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


LEXICON = Lexicon({"great": 3, "superb": 3, "awful": -3, "café": 1}, "test words\nsecond line")
WITH_LEXICON = HashingSpec(char_orders=(), bigrams=False, negation=True, lexicon=True)


def _lexicon_features(text: str) -> set[int]:
    docs, buckets = hash_features([text], WITH_LEXICON, lexicon=LEXICON)
    return set(buckets.tolist())


def test_words_of_one_lexicon_grade_share_a_feature():
    # A word training never saw still reads like the lexicon words of its grade.
    assert len(_lexicon_features("great") & _lexicon_features("superb")) == 1
    assert not _lexicon_features("great") & _lexicon_features("awful")
    assert len(_lexicon_features("table")) == 1  # a word outside the lexicon: its own only
    assert len(_lexicon_features("Café")) == 2   # lower-cased, non-ASCII letters included


def test_a_negated_lexicon_word_gets_the_negated_grade_feature():
    # not, great, negated great, great's grade, great's grade negated
    assert len(_lexicon_features("not great")) == 5
    grade = _lexicon_features("great") & _lexicon_features("superb")
    shared = (_lexicon_features("not great") & _lexicon_features("not superb")
              - _lexicon_features("not"))
    assert grade < shared and len(shared) == 2  # the grade's plain and negated features


def test_lexicon_features_do_not_depend_on_the_rest_of_the_batch():
    texts = ["great!", "not awful at all", "", "superb café", "plain words"]
    docs, buckets = hash_features(texts, WITH_LEXICON, lexicon=LEXICON)
    for i, text in enumerate(texts):
        assert set(buckets[docs == i].tolist()) == _lexicon_features(text)


def test_a_spec_that_reads_a_lexicon_needs_one():
    with pytest.raises(ValueError, match="lexicon"):
        hash_features(["great"], WITH_LEXICON)


def test_lexicon_file_round_trip_and_bad_entries(tmp_path):
    path = tmp_path / "lexicon.tsv"
    LEXICON.write(path)
    again = Lexicon.read(path)
    assert again.grades == LEXICON.grades and again.source == LEXICON.source
    for bad in ({"two words": 1}, {"Great": 1}, {"meh": 0}, {":)": 2}):
        with pytest.raises(ValueError):
            Lexicon(bad)
    path.write_text("great\tvery\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lexicon.tsv:1"):
        Lexicon.read(path)
