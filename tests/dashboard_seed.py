"""Seeded data for the dashboard tests: six weeks of feedback with a spike on the last day,
urgent items with known scores, payloads that must be shown as text, and employees."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from frankly.store import NewItem, Store

LAST = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
DAYS = 42
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# A brand that would end a <script> block early if chart data were not escaped.
BRAND_PAYLOAD = "<b>bold</b></script><script>alert(2)</script>"
PAYLOAD_TEXT = f"{SCRIPT} The parcel {IMG} never came & I want a refund"
EMPLOYEE_TEXT = "EMPLOYEE-ONLY-TEXT my manager ignores the safety rota"
TOP_URGENT = "top-urgent"
WORDS = ("the parcel came late and the courier was rude but the refund was quick and the "
         "staff were kind").split()


def analysis(label: str, text: str, *, urgent: bool = False, score: float = 0.05,
             aspects: list[tuple[str, str]] = ()) -> dict[str, Any]:
    scores = {"negative": 0.1, "neutral": 0.1, "positive": 0.8}
    if label == "negative":
        scores = {"negative": 0.8, "neutral": 0.1, "positive": 0.1}
    elif label == "neutral":
        scores = {"negative": 0.1, "neutral": 0.8, "positive": 0.1}
    words = text.split(" ")
    first = len(words[0])
    evidence = [{"start": 0, "end": first, "text": text[:first],
                 "weight": -0.7 if label == "negative" else 0.6, "source": "model"}]
    found = []
    for term, category, alabel in [(t, c, lab) for c, lab in aspects
                                   for t in (c.split()[0],)]:
        at = text.find(term)
        found.append({"term": term if at >= 0 else None, "start": at if at >= 0 else None,
                      "end": at + len(term) if at >= 0 else None, "category": category,
                      "label": alabel, "scores": scores, "source": "extracted"})
    reasons = []
    if urgent:
        at = text.find("refund")
        if at >= 0:
            reasons.append({"category": "billing", "start": at, "end": at + 6,
                            "text": "refund", "source": "phrase"})
    return {"label": label, "scores": scores, "confidence": max(scores.values()),
            "needs_review": False, "review_reason": None, "error": None,
            "model": "frankly-fast test", "language": "en", "evidence": evidence,
            "urgency": {"urgent": urgent, "score": score, "category": "billing" if urgent
                        else None, "reasons": reasons, "review_reason": None},
            "aspects": found}


def new_item(item_id: str, when: datetime, label: str, text: str, *, source: str = "web",
             brand: str = "acme", kind: str = "customer", subject: str | None = None,
             urgent: bool = False, score: float = 0.05,
             aspects: list[tuple[str, str]] = ()) -> NewItem:
    return NewItem(item_id=item_id, created_at=when, source=source, brand=brand,
                   subject_id=subject, subject_kind=kind, text=text, text_chars=len(text),
                   metadata={}, analysis=analysis(label, text, urgent=urgent, score=score,
                                                  aspects=aspects))


def seed(store: Store) -> dict[str, Any]:
    """Fill ``store``; what the tests need to know about it."""
    rng = random.Random(5)
    items = []
    for d in range(DAYS):
        day = LAST - timedelta(days=DAYS - 1 - d)
        latest = d == DAYS - 1
        for i in range(24):
            negative_share = 0.7 if latest else 0.2
            label = ("negative" if rng.random() < negative_share else
                     rng.choice(("positive", "positive", "neutral")))
            words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
            text = f"{'parcel' if i % 2 else 'price'} " + " ".join(words)
            delivery_label = ("negative" if (latest and rng.random() < 0.9)
                              or rng.random() < 0.2 else "positive")
            aspects = [("parcel delivery", delivery_label)] if i % 2 else \
                [("price and value", "negative" if rng.random() < 0.3 else "positive")]
            items.append(new_item(
                f"d{d:02d}-{i:02d}", day + timedelta(minutes=10 * i), label, text,
                source=("web", "email", "app")[i % 3], brand=("acme", "globex")[i % 2],
                urgent=i % 12 == 0, score=0.5 + 0.01 * i, aspects=aspects))
    items.append(new_item(TOP_URGENT, LAST - timedelta(days=3), "negative",
                          "Card charged twice, I need a refund today", urgent=True,
                          score=0.99, aspects=[("price and value", "negative")]))
    items.append(new_item("payload", LAST - timedelta(hours=2), "negative", PAYLOAD_TEXT,
                          source=IMG, brand=BRAND_PAYLOAD, urgent=True, score=0.97,
                          aspects=[("parcel delivery", "negative")]))
    # Three employees on one day, one of them urgent: never listed, aggregates withheld.
    for n in range(3):
        items.append(new_item(f"emp-{n}", LAST - timedelta(days=10, hours=n), "negative",
                              EMPLOYEE_TEXT, kind="employee", subject=f"employee-{n}",
                              urgent=n == 0, score=0.999))
    store.add_items(items)
    return {"items": len(items), "last_day": LAST.date(), "first_day":
            (LAST - timedelta(days=DAYS - 1)).date(),
            "employee_day": (LAST - timedelta(days=10)).date()}
