"""The analysed file the report tests read (tests/data/report/analysed.csv, invented rows in
frankly analyze's output shape), what is known about it, and the same rows in other shapes:
JSONL, Parquet, a folder of batch parts, without times, about employees."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

from helpers import DATA

ANALYSED = DATA / "report" / "analysed.csv"
SCRIPT = "<script>alert(1)</script>"
END_SCRIPT = "</script><script>alert(2)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, END_SCRIPT, IMG)
PAYLOAD_TEXT = f"{SCRIPT} My parcel never came {IMG} so refund me today {END_SCRIPT}"
PAYLOAD_PLACE = "line 94"  # the most urgent row (score 0.995)
ROWS = 98
FAILED = {"line 97": "not analysed: expected a str, got int 42",
          "line 98": "created_at 'next tuesday' is not a date or time like 2026-11-20 or "
                     "2026-11-20T09:00:00Z",
          "line 99": "label is 'angry', not one of negative, neutral, positive, mixed"}
URGENT = 26
FIRST_DAY, LAST_DAY = "2026-10-01", "2026-11-11"
FLOATS = ("score_negative", "score_neutral", "score_positive", "confidence", "urgency_score")
BOOLS = ("needs_review", "urgent")


def rows() -> list[dict[str, str]]:
    with open(ANALYSED, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def typed(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as frankly analyze writes it to JSONL or Parquet: numbers, booleans and
    nulls instead of text (the failed row's text is a number, as in its error)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value == "":
            out[key] = None
        elif key in FLOATS:
            out[key] = float(value)
        elif key in BOOLS:
            out[key] = value == "true"
        else:
            out[key] = value
    return out


def write_csv(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    records = list(records)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return path


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_parquet(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = list(records)
    types = {key: pa.float64() if key in FLOATS else pa.bool_() if key in BOOLS
             else pa.string() for key in records[0]}
    pq.write_table(pa.Table.from_pylist(records, schema=pa.schema(list(types.items()))), path)
    return path


def employee_rows(people: int, days: int = 3) -> list[dict[str, str]]:
    """``people`` employees each writing one row a day for ``days`` days (the analysed
    rows' texts, each with EMPLOYEE in it)."""
    base = [r for r in rows() if r["label"] in ("negative", "positive", "neutral", "mixed")
            and r["error"] == "" and r["created_at"].startswith("2026-10")]
    out = []
    for day in range(days):
        for person in range(people):
            r = dict(base[(day * people + person) % len(base)])
            r["text"] = "EMPLOYEE " + r["text"]
            r["created_at"] = f"2026-10-{day + 1:02d}T10:{person:02d}:00Z"
            r["person"] = f"employee-{person}"
            out.append(r)
    return out
