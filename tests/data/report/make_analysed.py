"""Write analysed.csv beside this script: invented feedback in the shape frankly analyze writes
(python tests/data/report/make_analysed.py). The CSV is committed; this is how it was made."""
import csv
from datetime import datetime, timedelta
from pathlib import Path

SCRIPT = "<script>alert(1)</script>"
END = "</script><script>alert(2)</script>"
IMG = '"><img src=x onerror=alert(1)>'

T = [
    ("The parcel arrived two days late and the box was crushed.", "negative",
     "late (-0.81); crushed (-0.64)", None,
     "parcel (delivery and shipping, negative); box (packaging, negative)"),
    ("Lovely staff at the Leeds store, they sorted my return in minutes.", "positive",
     "Lovely (+0.92); sorted (+0.35)", None,
     "staff (staff, positive); return (returns and refunds, positive)"),
    ("Checkout keeps failing on the app, I have tried three times.", "negative",
     "keeps failing (-0.88)", ("technical", 0.71, "technical: keeps failing"),
     "Checkout (website and app, negative); app (website and app, negative)"),
    ("Price went up again but the quality is still good.", "mixed",
     "went up (-0.41); good (+0.66)", None,
     "Price (price and value, negative); quality (product quality, positive)"),
    ("Delivery was quick and the driver was polite.", "positive",
     "quick (+0.71); polite (+0.58)", None,
     "Delivery (delivery and shipping, positive); driver (delivery and shipping, positive)"),
    ("Ordered a kettle, it does what it says.", "neutral", "does what it says (+0.12)", None,
     "kettle (product quality, neutral)"),
    ("I was charged twice for one order, please refund me today.", "negative",
     "charged twice (-0.77); refund (-0.30)",
     ("billing", 0.98, "billing: charged twice; billing: refund me; deadline: today"),
     "order (orders, negative)"),
    ("Great value for money, will buy again.", "positive", "Great (+0.95)", None,
     "value (price and value, positive)"),
]
SCORES = {"negative": (0.82, 0.11, 0.07), "positive": (0.05, 0.09, 0.86),
          "neutral": (0.12, 0.76, 0.12), "mixed": (0.44, 0.08, 0.48)}
SOURCES = ("web", "email", "app")
BRANDS = ("acme", "globex")
FIELDS = ["id", "text", "created_at", "source", "brand", "label", "score_negative",
          "score_neutral", "score_positive", "confidence", "needs_review", "review_reason",
          "error", "language", "evidence", "urgent", "urgency_score", "urgency_category",
          "urgency_reasons", "aspects"]


def row(n, when, text, label, evidence, urgency, aspects, source=None, brand=None, **extra):
    neg, neu, pos = SCORES[label]
    out = {"id": f"r{n:03d}", "text": text, "created_at": when, "source": source or
           SOURCES[n % 3], "brand": brand or BRANDS[n % 2], "label": label,
           "score_negative": neg, "score_neutral": neu, "score_positive": pos,
           "confidence": max(neg, neu, pos), "needs_review": "false", "review_reason": "",
           "error": "", "language": "en", "evidence": evidence,
           "urgent": "true" if urgency else "false",
           "urgency_score": urgency[1] if urgency else 0.03,
           "urgency_category": urgency[0] if urgency else "",
           "urgency_reasons": urgency[2] if urgency else "", "aspects": aspects}
    out.update(extra)
    return out


rows = []
start = datetime(2026, 10, 1, 9, 30)
n = 0
for day in range(42):
    when = start + timedelta(days=day)
    for k in range(2):
        t = T[(day * 2 + k) % len(T)]
        if day == 41:  # the last day: a spike of late parcels and failed checkouts
            t = T[(0, 2)[k]]
        rows.append(row(n, (when + timedelta(hours=3 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"), *t))
        n += 1
last = start + timedelta(days=41)
for k in range(8):  # more of the spike
    t = T[(0, 2, 0, 6)[k % 4]]
    rows.append(row(n, (last + timedelta(hours=6, minutes=7 * k)).strftime("%Y-%m-%d %H:%M"), *t))
    n += 1
# Payloads: in texts, sources, brands, aspect terms and categories, urgency reasons.
payload = f"{SCRIPT} My parcel never came {IMG} so refund me today {END}"
rows.append(row(n, "2026-11-10T12:00:00Z", payload, "negative", "never came (-0.9)",
                ("billing", 0.995, f"billing: refund me; deadline: today; {END[:9]}: {SCRIPT}"),
                f"parcel (delivery and shipping, negative); {IMG[2:]} ({IMG}, negative); "
                f"{SCRIPT} ({END}, negative)", source=IMG, brand=END,
                urgency_category=END))
n = len(rows)
rows.append(row(n, "2026-11-09", "The courier said <b>bold</b> things & left", "negative",
                "left (-0.5)", None, "courier (delivery and shipping, negative)",
                source=END, brand=IMG))
n = len(rows)
# Not urgent-assessed (a language urgency does not read), and needs review.
rows.append(row(n, "2026-11-08T08:00:00+02:00", "Die Lieferung kam nicht an.", "negative",
                "", None, "", language="de", urgent="false", urgency_score="",
                urgency_reasons="unsupported language for urgency: de", needs_review="true",
                review_reason="low confidence"))
n = len(rows)
# Rows that cannot be used: the analysis failed; a time that is not one; a label that is not.
rows.append(row(n, "2026-11-07", "", "neutral", "", None, "",
                error="expected a str, got int 42", urgency_score=""))
n = len(rows)
rows.append(row(n, "next tuesday", "The app is fine.", "neutral", "", None, ""))
n = len(rows)
rows.append(row(n, "2026-11-06", "Meh.", "neutral", "", None, ""))
n = len(rows)
rows[-1]["label"] = "angry"

with open(Path(__file__).with_name("analysed.csv"), "w", newline="", encoding="utf-8") as fh:
    w = csv.DictWriter(fh, FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)

