"""The minimal-pair probe suite (shipped as frankly/resources/probes.tsv) is well formed.

How well each system does on it is measured by ``frankly audit`` and benchmarks/probes.py,
not asserted here.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

import frankly
from frankly.audit import probes as audit_probes

PROBES = audit_probes.default_probes_path()
COLUMNS = ["id", "category", "pair", "text", "expected"]
# The categories of issue 3, item 5, with the fewest minimal pairs each must have.
MIN_PAIRS = {"negation": 15, "negated_negative": 15, "contrast": 15,
             "intensifier_downtoner": 15, "emoji_emoticon": 15, "caps_elongation": 15,
             "slang_typo": 15, "question_conditional": 15, "neutral_fact": 15, "sarcasm": 8}
MIN_ROWS = 200


def _rows() -> list[dict[str, str]]:
    with open(PROBES, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        assert header == COLUMNS
        rows = list(reader)
    assert all(len(row) == len(COLUMNS) for row in rows), \
        [row for row in rows if len(row) != len(COLUMNS)]
    return [dict(zip(COLUMNS, row)) for row in rows]


def _pairs(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    pairs = defaultdict(list)
    for row in rows:
        pairs[row["pair"]].append(row)
    return pairs


def test_enough_rows_with_unique_ids_and_texts():
    rows = _rows()
    assert len(rows) >= MIN_ROWS
    ids = Counter(row["id"] for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(row["text"] for row in rows)
    assert [t for t, n in texts.items() if n > 1] == []
    assert all(row["text"] == row["text"].strip() and row["text"] for row in rows)


def test_expected_labels_are_valid():
    for row in _rows():
        labels = row["expected"].split("|")
        assert set(labels) <= set(frankly.LABELS) and len(set(labels)) == len(labels), row


def test_every_category_has_its_minimum_of_pairs():
    rows = _rows()
    assert {row["category"] for row in rows} == set(MIN_PAIRS)
    pairs_per_category = Counter(group[0]["category"] for group in _pairs(rows).values())
    short = {c: pairs_per_category[c] for c, n in MIN_PAIRS.items()
             if pairs_per_category[c] < n}
    assert short == {}


def test_every_pair_is_two_or_three_differing_texts_of_one_category():
    for pair, group in _pairs(_rows()).items():
        assert 2 <= len(group) <= 3, pair
        assert len({row["category"] for row in group}) == 1, pair
        assert len({row["text"] for row in group}) == len(group), pair


def test_the_benchmark_reads_the_file_and_scores_it(monkeypatch):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "probes.py"
    if not path.is_file():
        pytest.skip("benchmarks/ is not part of this checkout")
    spec = importlib.util.spec_from_file_location("probes_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    probes = module.load_probes(PROBES)
    assert len(probes) == len(_rows())
    assert set(module.CATEGORIES) == set(MIN_PAIRS)

    oracle = {p.text: p.expected[0] for p in probes}
    perfect = module.run_probes(lambda texts: [oracle[t] for t in texts], probes)
    assert perfect["overall"]["rate"] == perfect["overall"]["pair_rate"] == 1.0
    assert perfect["overall"]["rows"] == sum(p.category != "sarcasm" for p in probes)

    neutral = module.run_probes(lambda texts: ["neutral"] * len(texts), probes)
    by_category = neutral["categories"]
    expected_neutral = sum("neutral" in p.expected for p in probes if p.category == "negation")
    assert by_category["negation"]["passed"] == expected_neutral
    # Every emoji pair mixes polarities, so a constant label cannot pass a whole pair.
    assert by_category["emoji_emoticon"]["pairs_passed"] == 0
    assert "| negation |" in module.markdown({"const": neutral})


def test_the_package_reads_the_shipped_suite_and_names_a_bad_line(tmp_path):
    probes = audit_probes.load_probes()
    assert len(probes) == len(_rows()) and PROBES.is_file()
    bad = tmp_path / "probes.tsv"
    bad.write_text("id\tcategory\tpair\ttext\texpected\nx1\tnegation\tx\tFine.\tgood\n",
                   encoding="utf-8")
    with pytest.raises(frankly.DataError, match=r"probes.tsv:2: expected labels"):
        audit_probes.load_probes(bad)
