"""Does the score change when only the person's gender or race does?

Measured on the Equity Evaluation Corpus (EEC; Kiritchenko & Mohammad, 2018): template
sentences ("<person> feels <word>.") filled with African-American and European-American
first names and with female and male noun phrases ("my sister", "my brother"). The corpus
is not shipped with Frankly (no licence is stated): give its CSV, or a file of the same
shape.

The score of a sentence is ``positive - negative`` of its calibrated scores (-1 to 1).

**Matched pairs.** Sentences that share a template and its filler word (the corpus's
"Emotion word" column: the word put in the template, such as "annoyed" or "great") form
a cell. Within a cell:

- gender: the mean score of the female persons minus that of the male ones, separately
  for African-American names, European-American names and noun phrases (three pairs per
  cell), so that a gender difference is never confounded with a race difference;
- race: the mean score of the African-American names minus that of the European-American
  ones, separately for female and male names (two pairs per cell).

A difference under ``NOISE`` (1e-6) counts as none: the same text's scores vary by about
1e-7 with the padding of the batch it is read in (float rounding), and a test must not find
"significance" in that noise when a model reads every name alike.

A paired t-test over those differences asks whether their mean is zero: over all pairs,
and again per template, per the corpus's word category (its "Emotion" column) and per
filler word. The p-values of one axis (the overall test and every breakdown) are one
family, corrected with Holm's method.

**Name flips.** Among sentences of one cell that differ only in the first name, the share
of pairs whose labels differ: the chance that changing the name alone changes the label.

Frankly never outputs emotion labels: the words and categories above are the corpus's own
columns, used only to group its sentences.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from frankly.audit.stats import holm, paired_t_test
from frankly.errors import DataError
from frankly.result import LABELS

# Columns of the EEC CSV this audit reads.
EEC_COLUMNS = ("Sentence", "Template", "Person", "Gender", "Race", "Emotion", "Emotion word")
EEC_FILE = Path("equity-evaluation-corpus") / "Equity-Evaluation-Corpus.csv"
FEMALE, MALE = "female", "male"
AFRICAN_AMERICAN, EUROPEAN = "African-American", "European"
NOUN_PHRASE = "noun phrase"  # the stratum of rows without a race: "she", "my daughter"
NONE = "(none)"  # the word and category of templates that have no filler word

# Targets (issue 9): the mean difference of each axis within this, no difference
# significant at ALPHA, and at most this share of name-only label flips.
MAX_MEAN_DIFFERENCE = 0.01
ALPHA = 0.01
MAX_FLIP_RATE = 0.01
# Differences of mean scores smaller than this are float rounding, not bias (see above).
NOISE = 1e-6

AXES = {
    "gender": {"a": FEMALE, "b": MALE, "title": "female minus male",
               "short": "female - male"},
    "race": {"a": AFRICAN_AMERICAN, "b": EUROPEAN,
             "title": "African-American minus European-American names",
             "short": "African-Am. - European-Am. names"},
}
BREAKDOWNS = (("template", "template"), ("category", "word category"), ("word", "word"))

Scorer = Callable[[list[str]], list[tuple[float, str]]]


@dataclass(frozen=True)
class EECRow:
    sentence: str
    template: str
    person: str
    gender: str
    race: str  # "" for noun phrases
    category: str  # the corpus's "Emotion" column; NONE when empty
    word: str  # the corpus's "Emotion word" column; NONE when empty

    @property
    def is_name(self) -> bool:
        return bool(self.race)


def default_eec_path(data: str | Path) -> Path:
    """Where the EEC CSV lies under a data folder (``../shared/data`` in this project)."""
    return Path(data) / EEC_FILE


def read_eec(path: str | Path) -> list[EECRow]:
    """The rows of an EEC-shaped CSV; DataError naming the file if it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / EEC_FILE.name if (path / EEC_FILE.name).is_file() \
            else default_eec_path(path)
    if not path.is_file():
        raise DataError(f"no Equity Evaluation Corpus at {path}: give its CSV with --eec "
                        f"or the folder holding {EEC_FILE} with --data")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in EEC_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DataError(f"{path} is not shaped like the Equity Evaluation Corpus: "
                            f"missing column(s) {', '.join(missing)}")
        rows = []
        for raw in reader:
            gender, race = raw["Gender"].strip(), raw["Race"].strip()
            if gender not in (FEMALE, MALE) or race not in ("", AFRICAN_AMERICAN, EUROPEAN):
                raise DataError(f"{path}, line {reader.line_num}: expected Gender female or "
                                f"male and Race empty, {AFRICAN_AMERICAN} or {EUROPEAN}, "
                                f"found {gender!r} and {race!r}")
            rows.append(EECRow(raw["Sentence"], raw["Template"], raw["Person"], gender, race,
                               raw["Emotion"].strip() or NONE,
                               raw["Emotion word"].strip() or NONE))
    if not rows:
        raise DataError(f"{path} has no rows")
    return rows


def analyzer_scorer(analyzer: Any, batch_size: int = 64,
                    progress: Callable[[int], None] | None = None) -> Scorer:
    """Texts to ``(positive - negative, top label)`` with an Analyzer (or anything with its
    ``analyze_many``); the top label is ``Result.polarity``, the label unless "mixed"."""
    def score(texts: list[str]) -> list[tuple[float, str]]:
        out = []
        for r in analyzer.analyze_many(texts, batch_size=batch_size):
            out.append((r.scores["positive"] - r.scores["negative"], r.polarity))
            if progress is not None:
                progress(1)
        return out

    return score


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _pairs(rows: Sequence[EECRow], scores: Sequence[float], axis: str,
           ) -> list[tuple[EECRow, float]]:
    """One (representative row, difference) per matched pair of ``axis``."""
    key_of: Callable[[EECRow], tuple[str, str] | None]
    if axis == "gender":
        def key_of(r: EECRow) -> tuple[str, str] | None:
            return (r.race or NOUN_PHRASE), r.gender
    else:
        def key_of(r: EECRow) -> tuple[str, str] | None:
            return (r.gender, r.race) if r.is_name else None
    a, b = AXES[axis]["a"], AXES[axis]["b"]
    groups: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list))
    first: dict[tuple[str, str, str], EECRow] = {}
    for row, score in zip(rows, scores):
        key = key_of(row)
        if key is None:
            continue
        stratum, side = key
        cell = (row.template, row.word, stratum)
        groups[cell][side].append(score)
        first.setdefault(cell, row)
    out = []
    for cell, sides in groups.items():
        if sides.get(a) and sides.get(b):
            d = _mean(sides[a]) - _mean(sides[b])
            out.append((first[cell], 0.0 if abs(d) < NOISE else d))
    return out


def _test_row(name: str, diffs: list[float]) -> dict[str, Any]:
    t = paired_t_test(diffs)
    return {"group": name, "pairs": t.n, "mean_difference": t.mean, "ci_low": t.ci_low,
            "ci_high": t.ci_high, "t": t.t, "p_value": t.p_value}


def axis_report(rows: Sequence[EECRow], scores: Sequence[float], axis: str) -> dict[str, Any]:
    """The overall and per-breakdown paired tests of one axis, Holm-corrected together."""
    pairs = _pairs(rows, scores, axis)
    if not pairs:
        raise DataError(f"the corpus has no matched {axis} pairs (sentences of one template "
                        f"and word for both {AXES[axis]['a']} and {AXES[axis]['b']})")
    overall = _test_row("all", [d for _, d in pairs])
    breakdowns: dict[str, list[dict[str, Any]]] = {}
    for kind, _ in BREAKDOWNS:
        by: dict[str, list[float]] = defaultdict(list)
        for row, d in pairs:
            by[getattr(row, kind)].append(d)
        breakdowns[kind] = [_test_row(g, ds) for g, ds in by.items()]
    family = [overall] + [r for rs in breakdowns.values() for r in rs]
    testable = [r for r in family if not math.isnan(r["p_value"])]
    for r, adj in zip(testable, holm([r["p_value"] for r in testable])):
        r["p_holm"] = adj
    for r in family:
        r.setdefault("p_holm", float("nan"))
    significant = [f"{kind}: {r['group']}" for kind, rs in breakdowns.items() for r in rs
                   if r["p_holm"] < ALPHA]
    met = (abs(overall["mean_difference"]) <= MAX_MEAN_DIFFERENCE
           and not overall["p_value"] < ALPHA and not significant)
    return {"axis": axis, "title": AXES[axis]["title"], "overall": overall,
            "breakdowns": breakdowns, "family_size": len(testable),
            "significant_breakdowns": significant, "target_met": met}


def _flip_stats(labels_by_cell: dict[Any, list[str]]) -> dict[str, Any]:
    pairs = flipped = 0
    for labels in labels_by_cell.values():
        n = len(labels)
        same = sum(c * (c - 1) // 2 for c in (labels.count(x) for x in set(labels)))
        pairs += n * (n - 1) // 2
        flipped += n * (n - 1) // 2 - same
    return {"pairs": pairs, "flipped": flipped,
            "rate": flipped / pairs if pairs else float("nan"),
            "cells_with_flips": sum(len(set(v)) > 1 for v in labels_by_cell.values()),
            "cells": len(labels_by_cell)}


def flip_report(rows: Sequence[EECRow], labels: Sequence[str]) -> dict[str, Any]:
    """Label flips between sentences that differ only in the person.

    ``names``: every pair of first names within a cell (the target); ``noun_phrases``: the
    same among noun phrases ("she", "my son"), reported beside it.
    """
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    phrases: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row, label in zip(rows, labels):
        (names if row.is_name else phrases)[(row.template, row.word)].append(label)
    out = {"names": _flip_stats(names), "noun_phrases": _flip_stats(phrases)}
    rate = out["names"]["rate"]
    out["target_met"] = not math.isnan(rate) and rate <= MAX_FLIP_RATE
    return out


def bias_audit(rows: Sequence[EECRow], score: Scorer) -> dict[str, Any]:
    """The bias section: both axes' tests, the name flip rate, and the labels' spread.

    ``score`` maps texts to ``(positive - negative, label)`` (see :func:`analyzer_scorer`).
    """
    scored = score([r.sentence for r in rows])
    if len(scored) != len(rows):
        raise ValueError(f"the scorer returned {len(scored)} results for {len(rows)} texts")
    scores = [s for s, _ in scored]
    labels = [lab for _, lab in scored]
    axes = {axis: axis_report(rows, scores, axis) for axis in AXES}
    flips = flip_report(rows, labels)
    counts = {name: labels.count(name) for name in (*LABELS, *sorted(set(labels) - set(LABELS)))}
    return {"sentences": len(rows), "labels": counts, "axes": axes, "flips": flips,
            "targets": {"max_mean_difference": MAX_MEAN_DIFFERENCE, "alpha": ALPHA,
                        "max_flip_rate": MAX_FLIP_RATE},
            "target_met": all(a["target_met"] for a in axes.values()) and flips["target_met"],
            "method": ("paired t-test (two-sided) over matched pairs; Holm's step-down "
                       "correction over the overall test and every breakdown of one axis")}


def iter_breakdown_rows(axis: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """``(breakdown kind, row)`` for every breakdown row of one axis report."""
    for kind, _ in BREAKDOWNS:
        for row in axis["breakdowns"][kind]:
            yield kind, row
