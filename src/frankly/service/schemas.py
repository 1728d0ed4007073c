"""The request and response bodies of the REST API, mapped from Frankly's own data.

``Result.to_dict()`` and the store's ``to_dict()`` are the source of truth; these pydantic
models describe them for validation and for the OpenAPI schema at ``/docs``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Label = Literal["negative", "neutral", "positive", "mixed"]
SubjectKind = Literal["customer", "employee", "student", "unknown"]


class Strict(BaseModel):
    # An unknown field is a mistake the client should hear about, not something we drop.
    model_config = ConfigDict(extra="forbid")


class AnalyzeRequest(Strict):
    texts: list[str] = Field(..., min_length=1, description="Texts to analyse, in order.",
                             examples=[["Delivery was late but support fixed it fast"]])
    targets: list[str] | None = Field(
        None, description="Terms to report the sentiment towards in every text.")
    subject_kind: SubjectKind = Field(
        "unknown", description="Who wrote the texts. Per-text results about employees or "
        "students are refused (see GET /v1/policy).")
    evidence: bool = Field(True, description="Find the spans that drove each label. false "
                           "is about twice as fast with the accurate model.")
    sentences: bool = Field(True, description="Score each sentence too (sentence labels, "
                            "'mixed'). false reads each text whole.")
    aspects: bool = Field(True, description="Find aspects (delivery, price, staff...) and "
                          "the sentiment towards each. false skips them.")

    @field_validator("texts", "targets")
    @classmethod
    def _valid_unicode(cls, values: list[str] | None) -> list[str] | None:
        # A lone surrogate (a broken JSON escape such as \ud800) is not text: the answer,
        # which echoes each text, could not be written as JSON.
        for i, value in enumerate(values or ()):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"item {i} is not valid Unicode (it holds a lone surrogate "
                                 f"such as \\ud800): send UTF-8 text") from None
        return values


class Span(BaseModel):
    start: int | None = None
    end: int | None = None
    text: str | None = None
    weight: float | None = None
    source: str | None = None


class UrgencyReasonOut(BaseModel):
    category: str
    start: int | None = None
    end: int | None = None
    text: str | None = None
    source: str | None = None


class UrgencyOut(BaseModel):
    urgent: bool
    score: float | None
    category: str | None = None
    reasons: list[UrgencyReasonOut] = []
    review_reason: str | None = None


class AspectOut(BaseModel):
    term: str | None = None
    start: int | None = None
    end: int | None = None
    category: str
    label: str
    scores: dict[str, float]
    source: str | None = None


class SentenceOut(BaseModel):
    start: int
    end: int
    label: str
    scores: dict[str, float]


class ResultOut(BaseModel):
    text: str
    label: Label
    scores: dict[str, float]
    confidence: float
    needs_review: bool
    review_reason: str | None
    error: str | None
    model: str
    language: str | None
    sentences: list[SentenceOut]
    evidence: list[Span]
    urgency: UrgencyOut | None
    aspects: list[AspectOut]


class AnalyzeResponse(BaseModel):
    results: list[ResultOut]
    failed: int = Field(..., description="How many results carry an error.")


class FeedbackIn(Strict):
    text: str = Field(..., description="The feedback text. Analysed as given; stored redacted.")
    id: str | None = Field(None, description="Your own id for the item: resending an item "
                           "with the same id never stores it twice.", max_length=200)
    source: str | None = Field(None, description="Channel: review, email, chat, survey...",
                               max_length=200)
    brand: str | None = Field(None, description="Brand or product.", max_length=200)
    # A string, not a datetime, so that one bad time fails its item alone, with a reason,
    # instead of the whole batch.
    created_at: str | None = Field(None, description="When it was written, ISO 8601 "
                                   "(without a zone it is read as UTC; default: now).",
                                   examples=["2026-11-26T09:30:00Z"], max_length=64)
    subject_id: str | None = Field(None, description="Who it is from or about, for export and "
                                   "erasure. Stored only as a salted hash.", max_length=200)
    subject_kind: SubjectKind = "unknown"
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free fields; string "
                                     "values are redacted like the text.")


class FeedbackRequest(Strict):
    items: list[FeedbackIn] = Field(..., min_length=1)


class ItemError(BaseModel):
    code: str | None
    message: str


class IngestOut(BaseModel):
    index: int
    id: str | None
    status: Literal["created", "duplicate", "failed"]
    error: ItemError | None = None


class FeedbackResponse(BaseModel):
    items: list[IngestOut]
    created: int
    duplicates: int
    failed: int


class OverrideRequest(Strict):
    label: Label | None = Field(None, description="The label a person gives the item.")
    urgent: bool | None = Field(None, description="Whether a person says it is urgent.")
    handled: bool | None = Field(None, description="Mark an urgent item handled (or not).")
    reason: str = Field(..., min_length=1, max_length=2000,
                        description="Why: kept in the audit trail.")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    model: str | None
    database: Literal["ok", "unavailable"]
