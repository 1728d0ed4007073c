"""``frankly report``: one self-contained HTML file from an analysed file, for people who run
batch jobs: the dashboard's overview, aspects, urgent list and alerts, with no server.

The rows are streamed, a chunk at a time, into a temporary SQLite store (each row's analysis
rebuilt from its columns by :mod:`frankly.dashboard.analysed`), and the dashboard's own view
functions and ``*_body.html`` templates compute and render the sections, so a report shows
what the dashboard would show for the same items. Memory stays bounded whatever the file
size: the rows live on disk, and every section reads a bounded amount from the store.

The file inlines its stylesheet, Chart.js and the chart script, and names nothing outside
itself: it opens offline, from disk. A Content-Security-Policy in the page lets only those
scripts run (by their hashes), so even text that slipped past escaping could not run. Every
user text is escaped by Jinja2; chart data travel as JSON in ``<script type=
"application/json">`` blocks, with ``<``, ``>`` and ``&`` written as ``\\u003c`` and so on.

Rows whose analysis failed (the ``error`` column), or whose time or scores cannot be
read, are counted and listed in the report, never dropped silently. A report about
employees or students (``subject_kind``) holds aggregates only, over at least ``k``
distinct people, and no text at all.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Sequence

from frankly.batch.job import CHUNK_ROWS
from frankly.dashboard import analysed
from frankly.errors import DataError, InputError, MissingDependencyError
from frankly.policy import (DEFAULT_MIN_GROUP, SUPPRESSED_REASON, PolicyError,
                            check_subject_kind, is_protected)

# The most urgent items listed (the dashboard's page size); --urgent-limit changes it, up
# to one page of the store (store.MAX_PAGE).
URGENT_SHOWN = 50
URGENT_MAX = 500
# Failed rows named one by one (place and reason); the rest are counted.
FAILED_SHOWN = 100
# The periods the alerts compare when the file has times: weeks where the overview is drawn
# per week (a long file), else days.
ALERT_PERIODS = ("day", "week")
# Vendored banners name their project's web site; the report must name nothing outside
# itself, so those lines go (the copyright lines and the licence stay).
_BANNER_URL = re.compile(r"^ \* https?://\S+\n", re.M)

Progress = Callable[[int], None]


@dataclass
class ReportSummary:
    """What ``write_report`` did: rows read, stored (in the report) and failed, and the
    first ``FAILED_SHOWN`` failed rows as (place, reason)."""

    output: Path
    bytes: int = 0
    rows: int = 0
    stored: int = 0
    failed: int = 0
    failed_rows: list[tuple[str, str]] = field(default_factory=list)
    urgent: int = 0
    needs_review: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    people: int | None = None
    time_column: str | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, place: str, reason: str) -> None:
        self.failed += 1
        if len(self.failed_rows) < FAILED_SHOWN:
            self.failed_rows.append((place, reason))


def _needs() -> None:
    try:
        import jinja2  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        raise MissingDependencyError("frankly report needs Jinja2 and SQLAlchemy: pip install "
                                     "'frankly[report]'") from None


def write_report(input: str | Path, output: str | Path, *, input_format: str | None = None,
                 text_column: str = "text", time_column: str | None = None,
                 source_column: str | None = None, brand_column: str | None = None,
                 subject_kind: str = "unknown", subject_column: str | None = None,
                 compare_days: int | None = None, alert_period: str | None = None,
                 urgent_limit: int = URGENT_SHOWN, k: int = DEFAULT_MIN_GROUP,
                 chunk_rows: int = CHUNK_ROWS, progress: Progress | None = None,
                 workdir: str | Path | None = None, redact: bool = True) -> ReportSummary:
    """Write the report of ``input`` (an analysed CSV, JSONL or Parquet file, or a folder
    of Parquet parts from ``frankly batch``) to ``output``, atomically.

    ``time_column`` defaults to ``created_at`` when the file has it; without one the file is
    one period (no trend, no comparison, no alerts; the report says so). ``source_column``
    and ``brand_column`` default to ``source`` and ``brand`` when present. For
    ``subject_kind`` employee or student, ``subject_column`` names who wrote each row: the
    report holds aggregates only, and PolicyError is raised (nothing written) when fewer
    than ``k`` distinct people stand behind the file. ``compare_days``: the aspects
    compare the last N days with the N before (default: half the file's span each).
    ``workdir``: where the temporary store goes (default: the system's temporary folder).
    ``redact`` (the default): personal data in the texts shown (e-mail addresses, phone
    numbers, payment cards, IBANs, IP addresses, URLs carrying secrets) becomes typed
    placeholders such as ``[EMAIL]``, as in the service's store: a report is made to be
    passed around.
    """
    _needs()
    kind = check_subject_kind(subject_kind)
    protected = is_protected(kind)
    if protected and not subject_column:
        raise InputError(f"a report about {kind}s needs the column naming who wrote each row "
                         f"(--subject-column), to count the distinct people behind it")
    if alert_period is not None and alert_period not in ALERT_PERIODS:
        raise InputError(f"alert_period must be day or week, got {alert_period!r}")
    for name, value in (("urgent_limit", urgent_limit), ("compare_days", compare_days),
                        ("k", k), ("chunk_rows", chunk_rows)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise InputError(f"{name} must be a whole number of at least 1, got {value!r}")
    if urgent_limit > URGENT_MAX:
        raise InputError(f"urgent_limit must be at most {URGENT_MAX}, got {urgent_limit}")
    output = Path(output)
    if output.is_dir():
        raise DataError(f"cannot write {output}: it is a folder; --output names the HTML "
                        f"file to write")
    if not output.parent.is_dir():
        raise DataError(f"cannot write {output}: the folder {output.parent} does not exist")
    found = analysed.find_input(input)
    if any(t.path.resolve() == output.resolve() for t in found.tables):
        raise DataError(f"--output {output} would overwrite the input: name another file")
    options = dict(text=text_column, time=time_column, source=source_column,
                   brand=brand_column, subject=subject_column if protected else None)
    # Every file's columns are checked before any row is read: a typo fails at once.
    columns = []
    for table in found.tables:
        with found.open(table, input_format) as reader:
            columns.append(analysed.resolve_columns(reader, **options))
    summary = ReportSummary(output=output, time_column=columns[0].time)
    if found.unfinished:
        summary.notes.append(f"the batch job in {found.name} has not finished: this report "
                             f"covers the {len(found.tables):,} parts written so far")
    if any(c.time is None for c in columns) and any(c.time is not None for c in columns):
        raise DataError(f"some parts of {found.name} have the time column "
                        f"{summary.time_column!r} and others do not")

    from frankly.store import open_store

    with tempfile.TemporaryDirectory(prefix="frankly-report-", dir=workdir) as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'report.db'}")
        try:
            people = _load(store, found, columns, summary, kind=kind, redact=redact,
                           input_format=input_format, chunk_rows=chunk_rows,
                           progress=progress)
            if protected:
                summary.people = len(people)
                if len(people) < k:
                    raise PolicyError(f"{len(people)} distinct {kind}s in {found.name}: "
                                      f"{SUPPRESSED_REASON} No report was written.")
            sections = _sections(store, summary, kind=kind, k=k, compare_days=compare_days,
                                 alert_period=alert_period, urgent_limit=urgent_limit)
        finally:
            store.close()
    html = render(sections, summary, source=found.name, kind=kind, k=k)
    data = html.encode("utf-8")
    _write_atomic(output, data)
    summary.bytes = len(data)
    return summary


# -- loading --------------------------------------------------------------------------------

def _load(store: Any, found: analysed.Input, columns: Sequence[analysed.Columns],
          summary: ReportSummary, *, kind: str, redact: bool, input_format: str | None,
          chunk_rows: int,
          progress: Progress | None) -> set[str]:
    """Stream every row into ``store``; the distinct people (protected kinds only)."""
    protected = is_protected(kind)
    people: set[str] = set()
    for table, cols in zip(found.tables, columns):
        with found.open(table, input_format) as reader:
            for chunk in analysed.rows(reader, table, chunk_rows):
                items = []
                for place, row in chunk:
                    summary.rows += 1
                    try:
                        items.append(analysed.to_item(place, row, cols, kind=kind,
                                                         redact=redact))
                    except analysed.RowError as exc:
                        summary.fail(place, str(exc))
                for item in _add(store, items, summary):
                    a = item.analysis
                    summary.stored += 1
                    summary.labels[a["label"]] = summary.labels.get(a["label"], 0) + 1
                    summary.needs_review += bool(a["needs_review"])
                    summary.urgent += bool((a["urgency"] or {}).get("urgent"))
                    if protected:
                        people.add(item.subject_id or "")
                if progress is not None:
                    progress(len(chunk))
    return people


def _add(store: Any, items: list[Any], summary: ReportSummary) -> list[Any]:
    """Store ``items``; the ones stored. A chunk the store refuses is halved until the
    refused rows stand alone, and those are failed with the store's reason."""
    if not items:
        return []
    try:
        store.add_items(items)
        return items
    except InputError as exc:
        if len(items) == 1:
            reason = re.sub(r"^item \d+: ", "", str(exc))
            summary.fail(items[0].item_id, reason)
            return []
    half = len(items) // 2
    return _add(store, items[:half], summary) + _add(store, items[half:], summary)


# -- sections -------------------------------------------------------------------------------

def _sections(store: Any, summary: ReportSummary, *, kind: str, k: int,
              compare_days: int | None, alert_period: str | None,
              urgent_limit: int) -> dict[str, Any]:
    """Each section's data, from the dashboard's views (None for a section left out)."""
    from frankly.dashboard import views

    protected = is_protected(kind)
    span = store.day_span()
    out: dict[str, Any] = {"overview": None, "aspects": None, "alerts": None, "urgent": None,
                           "aspect_days": None}
    if span is None:  # nothing stored: every row failed, or the file has none
        return out
    first, last = span
    if summary.time_column is None:
        overview = views.overview(store, start=first, end=last, k=k)
        overview.update(whole_file=True, periods=["whole file"], interval="period")
        aspects = views.aspects(store, start=first, end=last, k=k, examples=not protected)
        aspects["compare"] = False
    else:
        overview = views.overview(store, start=first, end=last, k=k)
        days = (last - first).days + 1
        length = compare_days or max(1, math.ceil(days / 2))
        aspects = views.aspects(store, start=last - timedelta(days=length - 1), end=last,
                                k=k, examples=not protected)
        out["aspect_days"] = length
        period = alert_period or ("week" if overview["interval"] == "week" else "day")
        out["alerts"] = views.alerts(store, period=period, k=k)
    aspects["show_examples"] = not protected
    out["overview"], out["aspects"] = overview, aspects
    if not protected:
        urgent = views.urgent_queue(store, limit=urgent_limit)
        if summary.time_column is None:
            for item in urgent["items"]:
                item["created_at"] = None
        out["urgent"] = urgent
    return out


# -- rendering ------------------------------------------------------------------------------

def _static(name: str) -> str:
    return (resources.files("frankly.dashboard") / "static" / name).read_text(encoding="utf-8")


def inline_assets() -> dict[str, str]:
    """The stylesheet and the two scripts, ready to inline: Chart.js with its licence and
    without its banners' web addresses. ValueError if one could end its element early."""
    chart = _BANNER_URL.sub("", _static("chart.umd.min.js"))
    licence = _static("chart.js.LICENSE.md").strip()
    chart = f"/*! Chart.js is used under the MIT licence:\n\n{licence}\n*/\n{chart}"
    assets = {"css": _static("dashboard.css"), "chart_js": chart,
              "dashboard_js": _static("dashboard.js")}
    for name, text in assets.items():
        lower = text.lower()
        if "</script" in lower or "</style" in lower or "<!--" in lower or "\r" in text:
            raise ValueError(f"the report cannot inline {name}: it holds '</script', "
                             f"'</style', '<!--' or a carriage return")
    return assets


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_policy(assets: dict[str, str]) -> str:
    """Only the inlined stylesheet and scripts (by hash), nothing fetched, no forms."""
    return (f"default-src 'none'; script-src {_hash(assets['chart_js'])} "
            f"{_hash(assets['dashboard_js'])}; style-src {_hash(assets['css'])}; "
            f"img-src data:; base-uri 'none'; form-action 'none'")


def render(sections: dict[str, Any], summary: ReportSummary, *, source: str, kind: str,
           k: int) -> str:
    """The report's HTML: the dashboard's body templates inside ``report.html``."""
    import markupsafe

    from frankly.dashboard import templating

    env = templating.environment()
    assets = inline_assets()

    def body(template: str, data: dict[str, Any] | None) -> markupsafe.Markup | None:
        if data is None:
            return None
        return markupsafe.Markup(env.get_template(template).render(data=data))

    context = {
        "source": source, "summary": summary, "kind": kind, "k": k,
        "protected": is_protected(kind), "sections": sections,
        "overview_body": body("overview_body.html", sections["overview"]),
        "aspects_body": body("aspects_body.html", sections["aspects"]),
        "alerts_body": body("alerts_body.html", sections["alerts"]),
        "urgent_body": body("urgent_body.html", sections["urgent"]),
        "csp": content_policy(assets),
        **{name: markupsafe.Markup(text) for name, text in assets.items()},
    }
    return env.get_template("report.html").render(**context)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
