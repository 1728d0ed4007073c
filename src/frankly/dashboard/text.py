"""Stored text cut into segments to highlight (evidence, urgency reasons, aspect terms).

Templates print each segment as text, inside ``<mark>`` when it is highlighted, and Jinja
escapes every one of them: no HTML is ever built from a stored text here.

>>> [(s["text"], s["mark"]) for s in segments("Late again, but kind staff",
...     [{"start": 0, "end": 4, "mark": "neg"}, {"start": 21, "end": 26, "mark": "pos"}])]
[('Late', 'neg'), (' again, but kind ', None), ('staff', 'pos')]
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping


def segments(text: str | None, spans: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``text`` as consecutive segments ``{"text", "mark", "title"}``; a span is
    ``{"start", "end", "mark", "title"?, "weight"?}``.

    Spans outside the text, or empty, are dropped. Where spans overlap, the one with the
    larger ``abs(weight)`` (else the earlier one) wins and the other is dropped, so no
    character is marked twice.
    """
    if not text:
        return []
    n = len(text)
    good = []
    for span in spans:
        start, end = span.get("start"), span.get("end")
        if (not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool)
                or not 0 <= start < end <= n):
            continue
        good.append(span)
    good.sort(key=lambda s: (-abs(float(s.get("weight") or 0.0)), s["start"]))
    taken: list[Mapping[str, Any]] = []
    for span in good:
        if all(span["end"] <= t["start"] or span["start"] >= t["end"] for t in taken):
            taken.append(span)
    taken.sort(key=lambda s: s["start"])
    out: list[dict[str, Any]] = []
    at = 0
    for span in taken:
        if span["start"] > at:
            out.append({"text": text[at:span["start"]], "mark": None, "title": None})
        out.append({"text": text[span["start"]:span["end"]], "mark": span.get("mark"),
                    "title": span.get("title")})
        at = span["end"]
    if at < n:
        out.append({"text": text[at:], "mark": None, "title": None})
    return out


def evidence_spans(evidence: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The evidence of an item as spans: words that pushed towards negative ("neg") or
    positive ("pos"), with their weight in the title."""
    out = []
    for e in evidence:
        weight = e.get("weight")
        if not isinstance(weight, (int, float)) or weight == 0:
            continue
        out.append({"start": e.get("start"), "end": e.get("end"),
                    "mark": "neg" if weight < 0 else "pos", "weight": weight,
                    "title": f"{'towards negative' if weight < 0 else 'towards positive'} "
                             f"({weight:+.2f})"})
    return out


def reason_spans(reasons: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Urgency reasons as spans, titled with their category."""
    return [{"start": r.get("start"), "end": r.get("end"), "mark": "urgent",
             "title": f"urgent: {r.get('category')}"} for r in reasons]


def aspect_spans(aspects: Iterable[Mapping[str, Any]],
                 category: str | None = None) -> list[dict[str, Any]]:
    """Aspect terms (of one category, or all) as spans, titled with category and label."""
    return [{"start": a.get("start"), "end": a.get("end"), "mark": "aspect",
             "title": f"{a.get('category')}: {a.get('label')}"}
            for a in aspects if category is None or a.get("category") == category]
