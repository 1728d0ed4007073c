"""The endpoints. Each one checks the key, applies the use policy and calls the library."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Awaitable, Callable, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from frankly import __version__, policy
from frankly.errors import FranklyError, InputError
from frankly.service.auth import Caller, require
from frankly.service.schemas import (AnalyzeRequest, AnalyzeResponse, ErrorResponse,
                                     FeedbackRequest, FeedbackResponse, Health,
                                     OverrideRequest)

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 413, 422, 429)}
# One page of listed items or audit rows at most: a page of 500 is about 1 MB of JSON.
MAX_PAGE = 500


class TooManyTexts(FranklyError):
    code = "too_many_texts"
    status = 413


def state(request: Request) -> Any:
    return request.app.state.frankly


def need(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller's key must be valid, have ``scope`` and be within its rate."""

    async def check(request: Request) -> Caller:
        s = state(request)
        header = request.headers.get("authorization")
        caller = s.keys.cached(header)
        if caller is None:  # the store must be read or written: not on the event loop
            caller = await s.db(s.keys.authenticate, header)
        s.keys.check_rate(caller)
        require(caller, scope)
        return caller

    check.__name__ = f"need_{scope}"
    return check


Reader = Annotated[Caller, Depends(need("read"))]
Writer = Annotated[Caller, Depends(need("write"))]
Admin = Annotated[Caller, Depends(need("admin"))]


def _k(s: Any) -> int:
    return s.settings.min_group_size


def _some(values: list[Any] | None) -> tuple[Any, ...] | None:
    """A list filter for the store: None (no filter) when the client gave no values."""
    return tuple(values) if values else None


def _utc(value: datetime | None, name: str) -> datetime | None:
    """A query time in UTC (a naive one is UTC already); InputError when it falls outside
    the years 1 to 9999 once moved to UTC (0001-01-01T00:00:00+01:00 does)."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise InputError(f"{name} {value.isoformat()} is outside the years 1 to 9999 in "
                         f"UTC") from None


def _check_count(n: int, limit: int) -> None:
    if n > limit:
        raise TooManyTexts(f"{n:,} texts in one request; the limit is {limit:,}: split them "
                           f"over several requests")


@router.get("/health", response_model=Health, tags=["service"])
async def health(request: Request) -> Any:
    """Whether the service is up (no key needed)."""
    s = getattr(request.app.state, "frankly", None)
    if s is None:
        return {"status": "degraded", "version": __version__, "model": None,
                "database": "unavailable"}
    try:
        await s.db(s.store.ping)
        database = "ok"
    except Exception:
        database = "unavailable"
    return {"status": "ok" if database == "ok" else "degraded", "version": __version__,
            "model": s.analyzer.model.id, "database": database}


@router.get("/metrics", response_class=PlainTextResponse, tags=["service"], responses=ERRORS)
async def metrics(request: Request, caller: Reader) -> str:
    """Counters and latency histograms in the Prometheus text format."""
    s = state(request)
    return s.metrics.render()


@router.get("/v1/policy", tags=["service"], responses=ERRORS)
async def use_policy(caller: Reader) -> dict[str, Any]:
    """What Frankly refuses to do, and why."""
    return {"policy": policy.POLICY_TEXT, "protected_subject_kinds": list(policy.PROTECTED_KINDS),
            "subject_kinds": list(policy.SUBJECT_KINDS)}


@router.post("/v1/analyze", response_model=AnalyzeResponse, tags=["analysis"],
             responses=ERRORS)
async def analyze(body: AnalyzeRequest, request: Request, caller: Reader) -> Any:
    """Analyse texts and return one result per text, in order. Nothing is stored.

    A text over the length limit gets a result with ``error`` set; the others are analysed.
    """
    s = state(request)
    policy.refuse_per_person(body.subject_kind, "per-text sentiment results", k=_k(s))
    _check_count(len(body.texts), s.settings.max_texts_per_request)
    limit = s.settings.max_chars_per_text
    targets = body.targets or None
    if targets and not body.aspects:
        raise InputError("targets need aspects: drop \"aspects\": false")
    analyzer = s.reader(evidence=body.evidence, sentences=body.sentences,
                        aspects=body.aspects)

    ok = [t for t in body.texts if len(t) <= limit]
    read = iter(await s.analyse_texts(analyzer, ok, tuple(targets or ())))
    results = [next(read).to_dict() if len(text) <= limit
               else _too_long(text, limit, s.analyzer.model.id) for text in body.texts]
    failed = sum(r["error"] is not None for r in results)
    s.metrics.count("texts_analyzed", len(results))
    return {"results": results, "failed": failed}


def _too_long(text: str, limit: int, model: str) -> dict[str, Any]:
    from frankly.analyzer import EMPTY_SCORES
    from frankly.ingest import too_long
    from frankly.result import Result

    message = too_long(text, limit)
    return Result(text=text, label="neutral", scores=EMPTY_SCORES, model=model,
                  needs_review=True, review_reason=message, error=message).to_dict()


@router.post("/v1/feedback", response_model=FeedbackResponse, tags=["feedback"],
             responses=ERRORS)
async def ingest(body: FeedbackRequest, request: Request, caller: Writer) -> Any:
    """Analyse and store feedback items (redacted). Resending an item with the same ``id``
    never stores it twice. An invalid item fails alone, with a reason; the rest are stored.
    """
    from frankly.ingest import FeedbackItem

    s = state(request)
    _check_count(len(body.items), s.settings.max_texts_per_request)
    items = [FeedbackItem(text=i.text, item_id=i.id, source=i.source, brand=i.brand,
                          created_at=i.created_at, subject_id=i.subject_id,
                          subject_kind=i.subject_kind, metadata=i.metadata)
             for i in body.items]
    reports = await s.analyse(s.ingestor.ingest, items)
    out = [r.to_dict() for r in reports]
    counts = {status: sum(r.status == status for r in reports)
              for status in ("created", "duplicate", "failed")}
    s.metrics.count("items_ingested", counts["created"])
    s.metrics.count("items_duplicate", counts["duplicate"])
    s.metrics.count("items_failed", counts["failed"])
    return {"items": out, "created": counts["created"], "duplicates": counts["duplicate"],
            "failed": counts["failed"]}


@router.get("/v1/feedback", tags=["feedback"], responses=ERRORS)
async def list_feedback(
        request: Request, caller: Reader,
        start: datetime | None = None, end: datetime | None = None,
        label: Annotated[list[Literal["negative", "neutral", "positive", "mixed"]] | None,
                         Query()] = None,
        urgent: bool | None = None,
        source: Annotated[list[str] | None, Query()] = None,
        brand: Annotated[list[str] | None, Query()] = None,
        aspect_category: str | None = None,
        subject_kind: Annotated[list[Literal["customer", "unknown", "employee", "student"]]
                                | None, Query()] = None,
        overridden: bool | None = None, handled: bool | None = None,
        q: Annotated[str | None, Query(max_length=200,
                                       description="Text the stored item contains")] = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> dict[str, Any]:
    """Stored items, newest first, a page at a time (pass ``next_cursor`` back as
    ``cursor``). Items about employees or students are never listed one by one."""
    from frankly.store import ItemQuery

    kinds = tuple(subject_kind) if subject_kind else ("customer", "unknown")
    s = state(request)
    for kind in kinds:
        policy.refuse_per_person(kind, "listing items one by one", k=_k(s))
    query = ItemQuery(start=_utc(start, "start"), end=_utc(end, "end"),
                      labels=_some(label), urgent=urgent,
                      sources=_some(source), brands=_some(brand),
                      aspect_category=aspect_category, subject_kinds=kinds,
                      overridden=overridden, handled=handled, search=q, cursor=cursor,
                      limit=limit)
    page = await s.db(s.store.list_items, query)
    return {"items": [i.to_dict() for i in page.items], "next_cursor": page.next_cursor}


async def _item(s: Any, item_id: str, what: str) -> Any:
    from frankly.errors import NotFoundError

    item = await s.db(s.store.get_item, item_id)
    if item is None:
        raise NotFoundError(f"no stored item has id {item_id!r}")
    policy.refuse_per_person(item.subject_kind, what, k=_k(s))
    return item


@router.get("/v1/feedback/{item_id}", tags=["feedback"], responses=ERRORS)
async def get_feedback(item_id: str, request: Request, caller: Reader) -> dict[str, Any]:
    """One stored item: the model's output, any override and the effective label."""
    return (await _item(state(request), item_id, "a per-person result")).to_dict()


@router.patch("/v1/feedback/{item_id}", tags=["feedback"], responses=ERRORS)
async def override(item_id: str, body: OverrideRequest, request: Request,
                   caller: Writer) -> dict[str, Any]:
    """A person overrides the label or the urgency (or marks the item handled), with a
    reason. The model's output is kept; the change goes to the audit trail."""
    s = state(request)
    if body.label is None and body.urgent is None and body.handled is None:
        raise InputError("nothing to change: give label, urgent or handled (with a reason)")
    await _item(s, item_id, "overriding a per-person result")
    item = await s.db(s.store.override, item_id, label=body.label, urgent=body.urgent,
                      handled=body.handled, reason=body.reason, actor=caller.actor)
    s.metrics.count("overrides")
    return item.to_dict()


@router.get("/v1/feedback/{item_id}/audit", tags=["feedback"], responses=ERRORS)
async def item_audit(item_id: str, request: Request, caller: Reader) -> dict[str, Any]:
    """Every override of one item: who, when, the field, before, after and why."""
    s = state(request)
    await _item(s, item_id, "a per-person audit trail")
    page = await s.db(s.store.audit_trail, item_id=item_id, limit=MAX_PAGE)
    return {"entries": [e.to_dict() for e in page.items], "next_cursor": page.next_cursor}


@router.get("/v1/audit", tags=["feedback"], responses=ERRORS)
async def audit(request: Request, caller: Admin, cursor: str | None = None,
                limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> dict[str, Any]:
    """The whole audit trail of overrides, newest first."""
    s = state(request)
    page = await s.db(s.store.audit_trail, cursor=cursor, limit=limit)
    return {"entries": [e.to_dict() for e in page.items], "next_cursor": page.next_cursor}


@router.get("/v1/stats", tags=["feedback"], responses=ERRORS)
async def stats(
        request: Request, caller: Reader,
        start: datetime | None = None, end: datetime | None = None,
        interval: Literal["day", "week"] = "day",
        by: Literal["label", "source", "urgent", "aspect", "brand", "subject_kind"] = "label",
        source: Annotated[list[str] | None, Query()] = None,
        brand: Annotated[list[str] | None, Query()] = None,
        subject_kind: Annotated[list[Literal["customer", "unknown", "employee", "student"]]
                                | None, Query()] = None) -> dict[str, Any]:
    """Counts and shares per day or week, each share with a 95% (Wilson) interval.

    A period that holds items about employees or students from fewer than k distinct people
    is suppressed (k = ``min_group_size``, 10 by default).
    """
    from frankly.store import StatsQuery

    s = state(request)
    query = StatsQuery(start=_utc(start, "start"), end=_utc(end, "end"),
                       interval=interval, by=by,
                       sources=_some(source), brands=_some(brand),
                       subject_kinds=_some(subject_kind),
                       min_group=s.settings.min_group_size)
    result = await s.db(s.store.stats, query)
    return result if isinstance(result, dict) else result.to_dict()


@router.get("/v1/subjects/{subject_id}/export", tags=["subjects"], responses=ERRORS)
async def export_subject(subject_id: str, request: Request, caller: Admin,
                         scores: bool = True) -> dict[str, Any]:
    """Everything held about one person (the right of access). For employees and students,
    scores are never exported per person: ask with ``scores=false``."""
    s = state(request)
    data = await s.db(s.store.export_subject, subject_id)
    kinds = set(data.get("subject_kinds", ()))
    protected = sorted(kinds & set(policy.PROTECTED_KINDS))
    if protected and scores:
        policy.refuse_per_person(protected[0], "exporting one person's scores (ask again "
                                 "with scores=false for their stored items without scores)",
                                 k=_k(s))
    if protected:
        data = _without_scores(data)
    return data


def _without_scores(data: dict[str, Any]) -> dict[str, Any]:
    kept = ("id", "text", "text_chars", "source", "brand", "created_at", "ingested_at",
            "subject_kind", "metadata")
    out = dict(data)
    out["items"] = [{k: v for k, v in item.items() if k in kept} for item in data["items"]]
    out["overrides"] = [{k: v for k, v in e.items() if k not in ("before", "after")}
                        for e in data.get("overrides", [])]
    out["scores_withheld"] = ("Frankly does not export sentiment or urgency scores about "
                              "one employee or student: see GET /v1/policy")
    return out


@router.delete("/v1/subjects/{subject_id}", tags=["subjects"], responses=ERRORS)
async def erase_subject(subject_id: str, request: Request, caller: Admin) -> dict[str, Any]:
    """Erase everything held about one person (the right to erasure)."""
    s = state(request)
    n = await s.db(s.store.erase_subject, subject_id)
    s.metrics.count("subjects_erased")
    return {"erased_items": n}
