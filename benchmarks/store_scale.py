"""Storage at scale: ingestion speed in batches of 500, and stats latency over many items.

    python benchmarks/store_scale.py                      # SQLite in a temporary folder
    python benchmarks/store_scale.py --items 100000       # a quicker run
    python benchmarks/store_scale.py --url postgresql+psycopg://user@host/db

Storage alone: the items are synthetic, shaped like ``Result.to_dict()`` of real feedback
(evidence spans, 0-2 aspects, urgency, a redacted text of review length), so the analysis
cost is left out and the store's own cost is what is measured. Every item goes in through
``Store.add_items`` in batches, so the roll-ups are built exactly as in service use; the
script then checks that the roll-ups add up to the number of items.

Prints one JSON line on stdout (progress goes to stderr), for RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from frankly.store import NewItem, StatsQuery, open_store

SEED = 13
BATCH = 500  # the ingestion batch size
DAYS = 365  # a year of feedback
SOURCES = ("web", "email", "app", "chat")
BRANDS = ("acme", "globex", "initech")
# Mostly customers, some staff and student surveys (share of items), and how many
# distinct people of each kind write.
KINDS = (("customer", 0.90, 50_000), ("employee", 0.05, 300), ("student", 0.02, 200),
         ("unknown", 0.03, 0))
LABELS = (("negative", 0.35), ("neutral", 0.25), ("positive", 0.35), ("mixed", 0.05))
CATEGORIES = ("delivery and shipping", "staff", "price and value", "product quality",
              "app and website", "billing", "support", "food")
WORDS = ("the parcel arrived late and support never answered my email but the staff in "
         "store were friendly and the price was fair for what you get overall").split()
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
JITTER_S = 6 * 3600  # how late an item may reach the store after it was written


def _pick(rng: random.Random, weighted: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    x, acc = rng.random(), 0.0
    for entry in weighted:
        acc += entry[1]
        if x < acc:
            return entry
    return weighted[-1]


def make_items(n: int, rng: random.Random, offset: int, total: int) -> list[NewItem]:
    """Items ``offset`` to ``offset + n`` of ``total`` spread over a year.

    Feedback arrives roughly in time order (item j is stamped j/total of the way through
    the year, up to six hours early), while client item ids are random (uuid4-like), the
    costly case for the unique index.
    """
    step = DAYS * 86400 / total
    items = []
    for i in range(n):
        kind, _, people = _pick(rng, KINDS)
        label = _pick(rng, LABELS)[0]
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
        p = rng.random()
        scores = {"negative": p / 2, "neutral": (1 - p) / 2, "positive": 0.5}
        urgent = rng.random() < 0.05
        aspects = [{"term": "parcel", "start": 4, "end": 10, "category": rng.choice(CATEGORIES),
                    "label": rng.choice(("negative", "neutral", "positive")),
                    "scores": scores, "source": "extracted"}
                   for _ in range(rng.choice((0, 1, 1, 2)))]
        analysis = {
            "label": label, "scores": scores, "confidence": 0.5, "needs_review": False,
            "review_reason": None, "error": None, "model": "frankly-fast 1.0.0",
            "language": "en",
            "evidence": [{"start": 0, "end": 11, "text": text[:11], "weight": -0.8,
                          "source": "model"},
                         {"start": 12, "end": 20, "text": text[12:20], "weight": 0.4,
                          "source": "model"}],
            "urgency": {"urgent": urgent, "score": 0.7 if urgent else 0.05,
                        "category": "outage", "reasons": [], "review_reason": None},
            "aspects": aspects,
        }
        when = START + timedelta(seconds=(offset + i) * step - rng.randrange(JITTER_S))
        items.append(NewItem(
            item_id=f"{rng.getrandbits(128):032x}", created_at=when, source=rng.choice(SOURCES),
            brand=rng.choice(BRANDS),
            subject_id=f"{kind}-{rng.randrange(people)}" if people else None,
            subject_kind=kind, text=text, text_chars=len(text),
            metadata={"ticket": offset + i}, analysis=analysis))
    return items


def timed_ingest(store: Any, rng: random.Random, offset: int, batches: int,
                 total: int) -> float:
    """Items per second over ``batches`` add_items calls of 500 (item making not timed)."""
    spent = 0.0
    for b in range(batches):
        batch = make_items(BATCH, rng, offset + b * BATCH, total)
        t = time.perf_counter()
        store.add_items(batch)
        spent += time.perf_counter() - t
    return BATCH * batches / spent


def timed_stats(store: Any, query: StatsQuery, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        store.stats(query)
        times.append((time.perf_counter() - t) * 1000)
    return {"first_ms": round(times[0], 1), "p50_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000,
                        help="items stored before stats are timed (default 1,000,000)")
    parser.add_argument("--ingest-batches", type=int, default=40,
                        help="batches of 500 timed for the ingestion rate (default 40)")
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--keep", metavar="PATH",
                        help="SQLite file to create and keep (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=20, help="timings per stats query")
    args = parser.parse_args(argv)

    folder = None
    url = args.url
    if url is None and args.keep:
        url = f"sqlite:///{Path(args.keep).resolve()}"
    if url is None:
        folder = tempfile.TemporaryDirectory(prefix="frankly-store-scale-")
        url = f"sqlite:///{Path(folder.name) / 'frankly.db'}"
    rng = random.Random(SEED)
    store = open_store(url)
    if store.count_items():
        raise SystemExit(f"{store.url} already holds items: give an empty database")
    try:
        # 1. Ingestion: batches of 500 into a fresh store, each batch one transaction.
        ingest_rate = timed_ingest(store, rng, 0, args.ingest_batches, args.items)
        done = BATCH * args.ingest_batches
        print(f"ingest into an empty store: {ingest_rate:,.0f} items/s", file=sys.stderr)

        # 2. Fill up to --items the same way, in bigger batches to save wall time.
        t0 = time.perf_counter()
        while done < args.items:
            n = min(5000, args.items - done)
            store.add_items(make_items(n, rng, done, args.items))
            done += n
            if done % 100_000 == 0:
                print(f"  {done:,} items ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        fill_rate = (done - BATCH * args.ingest_batches) / max(time.perf_counter() - t0, 1e-9)

        # The roll-ups must add up to the items they summarise.
        stored = store.count_items()
        rolled = sum(b.total or 0 for b in store.stats(StatsQuery(min_group=1)).buckets)
        if rolled != stored:
            raise SystemExit(f"roll-ups count {rolled} items but the store holds {stored}")

        # 3. Stats latency over everything stored.
        queries = {
            "day_by_label": StatsQuery(by="label"),
            "week_by_label": StatsQuery(interval="week", by="label"),
            "day_by_aspect": StatsQuery(by="aspect"),
            "week_by_source": StatsQuery(interval="week", by="source"),
            "day_urgent_web_30d": StatsQuery(start=START + timedelta(days=300),
                                             end=START + timedelta(days=329), by="urgent",
                                             sources=["web"]),
            "week_employees_by_label": StatsQuery(interval="week", by="label",
                                                  subject_kinds=["employee"]),
        }
        latency = {name: timed_stats(store, q, args.repeats) for name, q in queries.items()}
        for name, numbers in latency.items():
            print(f"stats {name}: {numbers}", file=sys.stderr)

        # 4. Ingestion again, now that the store is full (its indexes no longer fit in
        # SQLite's page cache): the rate a long-running service settles at.
        full_rate = timed_ingest(store, rng, done, args.ingest_batches, args.items)
        print(f"ingest into a store of {stored:,} items: {full_rate:,.0f} items/s",
              file=sys.stderr)
        result = {
            "benchmark": "store_scale", "database": store.dialect, "items": stored,
            "ingest_batch": BATCH, "ingest_items_per_s": round(ingest_rate),
            "ingest_items_per_s_when_full": round(full_rate),
            "fill_items_per_s": round(fill_rate),
            "stats_ms_p50_worst": max(v["p50_ms"] for v in latency.values()),
            "stats_ms_max_worst": max(v["max_ms"] for v in latency.values()),
            "stats": latency,
        }
    finally:
        store.close()
        if folder is not None:
            folder.cleanup()
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
