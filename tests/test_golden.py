"""A golden file of customer feedback we wrote: the accurate model must get >= 95% right."""

from __future__ import annotations

import csv

import pytest

import frankly

from helpers import DATA, shipped_models


def _golden() -> list[tuple[str, str]]:
    with open(DATA / "golden.tsv", encoding="utf-8") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh, delimiter="\t")]


def test_golden_file_is_big_and_balanced_enough():
    rows = _golden()
    assert len(rows) >= 40
    assert {label for _, label in rows} == set(frankly.LABELS)
    texts = {t for t, _ in rows}
    for tricky in ("Not bad at all, I'm pleasantly surprised.",
                   "No problems at all, it has worked flawlessly for months.",
                   "I wouldn't recommend it to anyone."):
        assert tricky in texts


@pytest.mark.skipif("accurate" not in shipped_models(), reason="accurate model not built")
def test_accurate_model_gets_the_golden_file_right():
    rows = _golden()
    results = list(frankly.load("accurate").analyze_many(t for t, _ in rows))
    wrong = [(t, y, r.label) for (t, y), r in zip(rows, results) if r.label != y]
    assert 1 - len(wrong) / len(rows) >= 0.95, wrong
