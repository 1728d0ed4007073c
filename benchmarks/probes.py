"""Minimal-pair robustness probes: Frankly, VADER and TextBlob side by side on one suite.

    python benchmarks/probes.py [--probes tests/data/probes.tsv]
                                [--systems accurate,fast,vader,textblob] [--failures accurate]

``tests/data/probes.tsv`` holds short customer-feedback texts written for this suite (none is
taken from a data set), each with the label, or labels, a careful annotator would give it.
Rows come in minimal pairs: rows sharing a ``pair`` id differ by one word, one emoji, the
casing... (issue 3, item 5). A row passes when the system's label is one of its expected
labels; a pair passes when every one of its rows passes. Sarcasm is reported on its own and
left out of the overall rates: the issue asks for it to be measured, not passed.

Labels come from the same functions run.py measures with (``measure.load_system``), so
VADER's compound thresholds and TextBlob's polarity sign are mapped exactly as there.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frankly.errors import FranklyError
from frankly.result import LABELS

HERE = Path(__file__).resolve().parent
DEFAULT_PROBES = HERE.parent / "tests" / "data" / "probes.tsv"
DEFAULT_SYSTEMS = "accurate,fast,vader,textblob"
COLUMNS = ("id", "category", "pair", "text", "expected")
ALTERNATIVE_SEPARATOR = "|"  # "negative|neutral": both labels are right for this row

# The categories of issue 3, item 5, in the order the table shows them.
CATEGORIES = ("negation", "negated_negative", "contrast", "intensifier_downtoner",
              "emoji_emoticon", "caps_elongation", "slang_typo", "question_conditional",
              "neutral_fact", "sarcasm")
# Measured and shown, but not part of the overall rates (issue 3, item 5).
REPORTED_ONLY = ("sarcasm",)
# Targets from issue 3, item 5, for each Frankly model: the overall row pass rate (sarcasm
# excluded), and at least VADER's row pass rate in every category that counts.
OVERALL_TARGET = 0.90
CATEGORY_PEER = "vader"
PEERS = ("vader", "textblob")

Predict = Callable[[list[str]], list[str]]


@dataclass(frozen=True)
class Probe:
    id: str
    category: str
    pair: str
    text: str
    expected: tuple[str, ...]  # one label, or the few that are all right

    def passes(self, label: str) -> bool:
        return label in self.expected


def load_probes(path: Path = DEFAULT_PROBES) -> list[Probe]:
    """Read the probe TSV; raise ValueError naming the line of any malformed row."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise ValueError(f"{path}: expected the header {'<TAB>'.join(COLUMNS)}, "
                             f"found {header!r}")
        probes = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if len(row) != len(COLUMNS):
                raise ValueError(f"{where}: expected {len(COLUMNS)} tab-separated fields, "
                                 f"found {len(row)}")
            probe_id, category, pair, text, expected = row
            labels = tuple(expected.split(ALTERNATIVE_SEPARATOR))
            if category not in CATEGORIES:
                raise ValueError(f"{where}: unknown category {category!r}; expected one of "
                                 f"{', '.join(CATEGORIES)}")
            if not set(labels) <= set(LABELS) or len(set(labels)) != len(labels):
                raise ValueError(f"{where}: expected labels from {', '.join(LABELS)} joined "
                                 f"by {ALTERNATIVE_SEPARATOR!r}, found {expected!r}")
            if not (probe_id and pair and text.strip()):
                raise ValueError(f"{where}: id, pair and text must not be empty")
            probes.append(Probe(probe_id, category, pair, text, labels))
    return probes


def _rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pairs: dict[str, bool] = {}
    for row in rows:
        pairs[row["pair"]] = pairs.get(row["pair"], True) and row["passed"]
    passed = sum(row["passed"] for row in rows)
    pairs_passed = sum(pairs.values())
    return {"rows": len(rows), "passed": passed,
            "rate": passed / len(rows) if rows else float("nan"),
            "pairs": len(pairs), "pairs_passed": pairs_passed,
            "pair_rate": pairs_passed / len(pairs) if pairs else float("nan")}


def run_probes(predict: Predict, probes: list[Probe]) -> dict[str, Any]:
    """Pass rates of ``predict`` (texts to labels) per category and overall.

    Returns ``{"categories": {category: rates}, "overall": rates, "rows": [...]}`` where
    rates hold ``rows``, ``passed``, ``rate``, ``pairs``, ``pairs_passed`` and ``pair_rate``;
    ``overall`` leaves out the categories in ``REPORTED_ONLY`` (sarcasm), and ``rows`` has
    every probe with its prediction.
    """
    predicted = predict([p.text for p in probes])
    if len(predicted) != len(probes):
        raise ValueError(f"predict returned {len(predicted)} labels for {len(probes)} texts")
    rows = [{"id": p.id, "category": p.category, "pair": p.pair, "text": p.text,
             "expected": list(p.expected), "predicted": label, "passed": p.passes(label)}
            for p, label in zip(probes, predicted)]
    present = [c for c in CATEGORIES if any(r["category"] == c for r in rows)]
    return {"categories": {c: _rates([r for r in rows if r["category"] == c])
                           for c in present},
            "overall": _rates([r for r in rows if r["category"] not in REPORTED_ONLY]),
            "excluded_from_overall": list(REPORTED_ONLY),
            "rows": rows}


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join({"l": ":---", "r": "---:", "c": ":---:"}[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _cell(rates: dict[str, Any]) -> str:
    return f"{100 * rates['rate']:.1f} / {100 * rates['pair_rate']:.1f}"


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, bool]]:
    """(target, goal, measured, met) for each Frankly system in ``results``."""
    out = []
    peer = results.get(CATEGORY_PEER)
    for name, result in results.items():
        if name in PEERS:
            continue
        overall = result["overall"]["rate"]
        out.append((f"{name}: overall row pass rate (sarcasm excluded)",
                    f">= {100 * OVERALL_TARGET:.0f}%", f"{100 * overall:.1f}%",
                    overall >= OVERALL_TARGET))
        if peer is None:
            continue
        below = [f"{c} ({100 * r['rate']:.1f}% vs {100 * peer['categories'][c]['rate']:.1f}%)"
                 for c, r in result["categories"].items()
                 if c not in REPORTED_ONLY and c in peer["categories"]
                 and r["rate"] < peer["categories"][c]["rate"]]
        out.append((f"{name}: row pass rate >= {CATEGORY_PEER}'s, every category but sarcasm",
                    "no category below", "below in " + "; ".join(below) if below else "none",
                    not below))
    return out


def markdown(results: dict[str, dict[str, Any]],
             skipped: dict[str, str] | None = None) -> str:
    """The category x system table (and the targets) as Markdown, for RESULTS.md.

    ``results`` maps a system name to what ``run_probes`` returned for it; ``skipped`` maps
    a system that could not be measured to the reason, which is shown as a note.
    """
    names = list(results)
    first = next(iter(results.values()))
    sizes = {c: f"{r['rows']} ({r['pairs']})" for c, r in first["categories"].items()}
    rows = [[c, sizes[c], *(_cell(results[n]["categories"][c]) for n in names)]
            for c in first["categories"] if c not in REPORTED_ONLY]
    overall = first["overall"]
    rows.append(["**overall**", f"{overall['rows']} ({overall['pairs']})",
                 *(f"**{_cell(results[n]['overall'])}**" for n in names)])
    rows += [[f"{c} (reported, not in overall)", sizes[c],
              *(_cell(results[n]["categories"][c]) for n in names)]
             for c in first["categories"] if c in REPORTED_ONLY]
    out = [("Percent of probe rows passed / percent of minimal pairs with every row passed. "
            "A row passes when the system's label is one of the row's expected labels. "
            "Probes: `tests/data/probes.tsv` (written for this suite); sarcasm is left out "
            "of the overall rates."), ""]
    out += _table(["Category", "Rows (pairs)", *names], rows, "lr" + "r" * len(names))
    checks = targets(results)
    if checks:
        out += ["", *_table(["Target", "Goal", "Measured", "Status"],
                            [[t, g, m, "**PASS**" if ok else "**FAIL**"]
                             for t, g, m, ok in checks], "lllc")]
    for name, reason in (skipped or {}).items():
        out += ["", f"- {name} not measured: {reason}"]
    return "\n".join(out) + "\n"


def failures_markdown(result: dict[str, Any]) -> str:
    """The failed rows of one system, grouped by category, as a Markdown list."""
    out = []
    for category in CATEGORIES:
        failed = [r for r in result["rows"] if r["category"] == category and not r["passed"]]
        if not failed:
            continue
        out.append(f"- **{category}** ({len(failed)} of "
                   f"{result['categories'][category]['rows']} rows)")
        out += [f"  - `{r['id']}` {r['text']!r}: expected "
                f"{ALTERNATIVE_SEPARATOR.join(r['expected'])}, got {r['predicted']}"
                for r in failed]
    return "\n".join(out or ["- none"]) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Score Frankly, VADER and TextBlob on the minimal-pair probe suite.")
    parser.add_argument("--probes", type=Path, default=DEFAULT_PROBES,
                        help="probe TSV (default: tests/data/probes.tsv)")
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS,
                        help=f"comma-separated: frankly model names or model directories, "
                             f"vader, textblob (default: {DEFAULT_SYSTEMS})")
    parser.add_argument("--failures", default="accurate", metavar="SYSTEM",
                        help="list the failed probes of this system (default: accurate)")
    args = parser.parse_args(argv)
    if not args.probes.is_file():
        parser.error(f"no probe file at {args.probes}")
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from measure import Skipped, load_system

    probes = load_probes(args.probes)
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    failed = False
    for name in args.systems:
        print(f"{name} ...", file=sys.stderr, flush=True)
        try:
            predict, _, _ = load_system(name)
            results[name] = run_probes(predict, probes)
        except Skipped as exc:
            skipped[name] = str(exc)
        except (ImportError, OSError, FranklyError) as exc:
            # A system that fails to load is reported; the others' numbers still show.
            skipped[name] = f"error: {type(exc).__name__}: {exc}"
            failed = True
    if not results:
        print("no system could be measured: " + "; ".join(f"{k}: {v}" for k, v in
                                                        skipped.items()), file=sys.stderr)
        return 1
    print("## Robustness probes\n")
    print(markdown(results, skipped))
    if args.failures in results:
        print(f"### Failed probes: {args.failures}\n")
        print(failures_markdown(results[args.failures]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
