"""Check (and fill in offsets of) aspect-annotated sentences that we write ourselves.

    python scripts/check_aspect_data.py training-data/aspects-written-a.jsonl [--write]

One JSON object per line:
    {"id": "a0001", "domain": "restaurant", "text": "The waiter was rude but the pasta was great.",
     "aspects": [{"term": "waiter", "polarity": "negative", "category": "staff"},
                 {"term": "pasta", "polarity": "positive", "category": "food"}]}
An aspect may give "occurrence": k (1-based) when its term occurs several times in the
text; "start"/"end" (character offsets) are filled in by ``--write``. Prints every problem
and exits non-zero if there is one.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

POLARITIES = {"positive", "negative", "neutral"}
CATEGORIES = {"product quality", "price and value", "delivery and shipping", "customer service",
              "usability", "reliability and defects", "billing", "staff", "food", "ambience",
              "other"}


def _occurrences(text: str, term: str) -> list[int]:
    pattern = re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)")
    return [m.start() for m in pattern.finditer(text)]


def check(path: Path, write: bool) -> int:
    problems = 0
    rows = []
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    stats = collections.Counter()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{where}: not JSON: {exc}")
            problems += 1
            continue
        text, rid = row.get("text", ""), row.get("id", "")
        if not text or not rid:
            print(f"{where}: needs id and text")
            problems += 1
            continue
        if rid in seen_ids:
            print(f"{where}: duplicate id {rid}")
            problems += 1
        if text.strip().lower() in seen_texts:
            print(f"{where}: duplicate text")
            problems += 1
        seen_ids.add(rid)
        seen_texts.add(text.strip().lower())
        spans = []
        for a in row.get("aspects", []):
            term = a.get("term", "")
            if a.get("polarity") not in POLARITIES:
                print(f"{where}: {term!r}: polarity must be one of {sorted(POLARITIES)}")
                problems += 1
            if a.get("category") not in CATEGORIES:
                print(f"{where}: {term!r}: category {a.get('category')!r} not in the taxonomy")
                problems += 1
            if term != term.strip() or not term:
                print(f"{where}: term {term!r} is empty or has outer spaces")
                problems += 1
                continue
            found = _occurrences(text, term)
            k = int(a.get("occurrence", 1))
            if not found:
                print(f"{where}: term {term!r} is not in the text (case and spelling must match)")
                problems += 1
                continue
            if k > len(found):
                print(f"{where}: term {term!r} occurs {len(found)} times, occurrence {k} asked")
                problems += 1
                continue
            start = found[k - 1]
            a["start"], a["end"] = start, start + len(term)
            for s in spans:
                if s[0] < a["end"] and start < s[1]:
                    print(f"{where}: aspects {term!r} and {s[2]!r} overlap")
                    problems += 1
            spans.append((start, a["end"], term, k))
            stats[a.get("polarity")] += 1
            stats["aspect:" + str(a.get("category"))] += 1
        stats["sentences"] += 1
        stats["no aspect"] += not row.get("aspects")
        rows.append(row)
    print(f"{path}: {stats['sentences']} sentences, {stats['no aspect']} without aspects; "
          + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())
                      if k not in ("sentences", "no aspect")))
    if write and not problems:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                        encoding="utf-8")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", type=Path, nargs="+")
    ap.add_argument("--write", action="store_true", help="fill in start/end offsets")
    args = ap.parse_args()
    problems = sum(check(p, args.write) for p in args.files)
    if problems:
        print(f"{problems} problem(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
