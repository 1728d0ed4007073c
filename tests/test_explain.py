"""Evidence candidates and the mixed-threshold choice, on small hand-made inputs."""

from __future__ import annotations

import numpy as np

from frankly import explain
from frankly.models.base import WordScores
from frankly.training.mixed import choose_mixed_threshold, mixed_documents

CLASSES = ("negative", "neutral", "positive")


def words(spans, raw):
    raw = np.asarray(raw, dtype=float)
    return WordScores(spans=np.asarray(spans), raw=raw, counts=np.ones(len(raw)),
                      rest=np.zeros(3), rest_count=0.0, bias=np.zeros(3))


def test_candidates_group_supporting_words_within_a_sentence():
    # "great lovely . awful" : two positive words, then a negative one in a new sentence
    ws = words([(0, 5), (6, 12), (13, 14), (15, 20)],
               [[0, 0, 4], [0, 0, 3], [0, 0, 0], [4, 0, 0]])
    support, opposing = explain.candidates(ws, 2, CLASSES, 1.0, 1.0, np.array([0, 0, 0, 1]))
    assert (support[0].start, support[0].end) == (0, 12)   # "great lovely" as one span
    assert support[0].polarity > 0
    assert [(o.start, o.end) for o in opposing][:1] == [(15, 20)] and opposing[0].polarity < 0


def test_spans_never_cross_sentences_or_exceed_three_words():
    ws = words([(i * 2, i * 2 + 1) for i in range(6)], [[0, 0, 1]] * 6)
    support, _ = explain.candidates(ws, 2, CLASSES, 1.0, 1.0, np.array([0, 0, 0, 0, 1, 1]))
    for c in support:
        n_words = (c.end - c.start + 1) // 2
        assert n_words <= explain.MAX_SPAN_WORDS
        assert not (c.start < 8 < c.end)  # word 4 (offset 8) starts the second sentence


def test_words_sharing_a_span_are_merged():
    # an emoji spelt out as three words keeps one span in the evidence
    ws = words([(0, 4), (5, 6), (5, 6), (5, 6)], [[0, 0, 1], [0, 0, 2], [0, 0, 2], [0, 0, 2]])
    support, _ = explain.candidates(ws, 2, CLASSES, 1.0, 1.0, np.zeros(4, dtype=np.int64))
    spans = [(c.start, c.end) for c in support]
    assert len(spans) == len(set(spans))


def test_shift_vector_is_in_calibrated_units():
    hits = [explain.TermShift(0, 4, 3.0), explain.TermShift(5, 9, -1.0)]
    assert explain.shift_vector(hits, CLASSES, temperature=2.0).tolist() == [2.0, 0.0, 6.0]


class _Stub:
    """An analyzer whose sentence scores follow the words 'good' and 'bad'."""

    class model:  # noqa: N801 - mimics Analyzer.model
        chunk_chars = 800

    def analyze_many(self, texts):
        from frankly.result import Result, Sentence
        from frankly.text.sentences import split_sentences

        for text in texts:
            sentences = []
            for s in split_sentences(text):
                part = text[s.start:s.end].lower()
                p = {"positive": 0.9 if "good" in part else 0.05,
                     "negative": 0.9 if "bad" in part else 0.05}
                p["neutral"] = 1 - p["positive"] - p["negative"]
                sentences.append(Sentence(s.start, s.end, max(p, key=p.get), p))
            yield Result(text=text, label="neutral", scores={"negative": 0.3, "neutral": 0.4,
                                                            "positive": 0.3},
                         model="stub", sentences=tuple(sentences))


def test_mixed_threshold_is_chosen_on_documents_of_two_gold_sentences():
    dev = {"d": [("This was a good purchase overall", "positive"),
                 ("Such a bad experience with them", "negative"),
                 ("The parcel came on a Tuesday", "neutral")] * 5}
    docs = mixed_documents(dev)
    assert all(len(text.split(". ")) >= 2 for text, _ in docs)
    assert sum(m for _, m in docs) == 2 * len(docs) // 9
    result = choose_mixed_threshold(_Stub(), docs)
    assert result["f1"] == 1.0 and 0.5 <= result["threshold"] <= 0.9
