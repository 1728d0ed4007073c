"""``frankly report``: one self-contained HTML file from an analysed file (CSV, JSONL, Parquet
or a folder of batch parts), built with the dashboard's views and body templates. Checks the
sections against what the file holds, failed rows, files without times, the use policy,
escaping of every user text (parsed, not grepped), the one-line errors and the command."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jinja2")
pytest.importorskip("sqlalchemy")

import report_data as rd  # noqa: E402
from frankly.cli.main import main  # noqa: E402
from frankly.dashboard import analysed, report  # noqa: E402
from frankly.errors import DataError, InputError  # noqa: E402
from frankly.policy import PolicyError  # noqa: E402

# Every element the report's templates write; an injected one (img, b, iframe...) is not.
TAGS = {"html", "head", "meta", "link", "title", "style", "body", "header", "span", "nav",
        "a", "main", "h1", "h2", "p", "div", "section", "table", "thead", "tbody", "tr",
        "th", "td", "canvas", "script", "mark", "strong", "ul", "li", "footer"}
CHARTS = {"volume", "shares", "aspects", "alerts"}


class Parsed(HTMLParser):
    """The elements of a page, its scripts (attributes and content) and its text, as a
    browser's HTML parser splits them (script and style content is raw text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._raw: tuple[str, dict[str, str | None]] | None = None
        self._buffer: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw, self._buffer = (tag, dict(attrs)), []

    def handle_endtag(self, tag: str) -> None:
        if self._raw is not None and tag == self._raw[0]:
            content = "".join(self._buffer)
            if tag == "script":
                self.scripts.append((self._raw[1], content))
            else:
                self.styles.append(content)
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._buffer.append(data)
        else:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def charts(self) -> dict[str, Any]:
        return {a["data-chart"]: json.loads(body) for a, body in self.scripts
                if a.get("type") == "application/json"}

    def by_id(self, ident: str) -> bool:
        return any(attrs.get("id") == ident for _, attrs in self.elements)


def build(tmp_path: Path, source: Path | str = rd.ANALYSED, name: str = "report.html",
          **options: Any) -> tuple[report.ReportSummary, str, Parsed]:
    out = tmp_path / name
    summary = report.write_report(source, out, **options)
    html = out.read_text(encoding="utf-8")
    assert summary.bytes == len(html.encode("utf-8"))
    return summary, html, Parsed(html)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[report.ReportSummary, str, Parsed]:
    return build(tmp_path_factory.mktemp("report"))


def run(capsys: Any, *argv: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, status: int, *needles: str) -> None:
    assert code == status, err
    assert err.startswith("frankly: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


# -- what the report shows --------------------------------------------------------------------

def test_every_section_shows_what_the_file_holds(made: Any) -> None:
    summary, html, page = made
    assert (summary.rows, summary.stored, summary.failed) == (rd.ROWS, rd.ROWS - 3, 3)
    assert summary.urgent == rd.URGENT and summary.needs_review == 1
    assert summary.time_column == "created_at"
    for section in ("overview", "aspects", "urgent", "alerts", "failed"):
        assert page.by_id(section), section
    charts = page.charts()
    assert set(charts) == CHARTS
    volume = charts["volume"]
    assert volume["periods"][0] == rd.FIRST_DAY and volume["periods"][-1] == rd.LAST_DAY
    assert sum(volume["volume"]) == summary.stored  # every stored row, once
    assert volume["volume"][-1] == 10  # the spike on the last day
    shares = charts["shares"]["shares"]["negative"]
    assert shares["share"][-1] == 1.0 and 0 < shares["low"][-1] < 1.0  # a 95% band
    # Aspects: ranked by negative share; the delivery rise is compared with the half before.
    categories = charts["aspects"]["categories"]
    assert categories[0] == "website and app" and "delivery and shipping" in categories
    assert charts["aspects"]["share"] == sorted(charts["aspects"]["share"], reverse=True)
    assert "previous" in charts["aspects"]
    assert "2026-10-22 to 2026-11-11, against the 21 days before (2026-10-01 to 2026-10-21)" \
        in page.all_text
    # Alerts: the last day's spike is flagged, by the dashboard's tests.
    assert "Negative share spike." in page.all_text and "Urgent volume spike." in page.all_text
    assert charts["alerts"]["periods"][-1] == rd.LAST_DAY
    # The urgent list: most urgent first, with its reasons, sentiment and place in the file.
    assert f"The {rd.URGENT} urgent rows" in page.all_text
    items = [a for t, a in page.elements if t == "div" and a.get("class") == "item"]
    assert len(items) == rd.URGENT and items[0]["data-item"] == rd.PAYLOAD_PLACE
    assert 'Why urgent: billing (“refund me”); deadline (“today”)' in page.all_text
    assert "urgent 0.99 · " + rd.END_SCRIPT in page.all_text
    assert not any(t == "form" for t, _ in page.elements)


def test_failed_rows_are_counted_listed_and_left_out(made: Any) -> None:
    summary, html, page = made
    assert dict(summary.failed_rows) == rd.FAILED
    text = page.all_text
    assert "3 rows could not be used" in text
    for place, reason in rd.FAILED.items():
        assert f"{place}{reason}" in text.replace("\n", "")


def test_the_file_is_self_contained_and_runs_only_its_own_scripts(made: Any) -> None:
    _, html, page = made
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I)
    assert {t for t, _ in page.elements} <= TAGS
    for tag, attrs in page.elements:
        assert "src" not in attrs, tag
        href = attrs.get("href")
        assert href is None or href.startswith("#") or href == "data:,", href
    code = [body for attrs, body in page.scripts if "type" not in attrs]
    assert len(code) == 2 and code[0].startswith("/*! Chart.js is used under the MIT")
    assert "Permission is hereby granted" in code[0] and "Chart.js v4." in code[0]
    assert "franklyCharts" in code[1]
    csp = next(a["content"] for t, a in page.elements
               if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp.startswith("default-src 'none'; ")

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert re.search(r"script-src ([^;]+);", csp)[1].split() == [
        f"'sha256-{digest(body)}'" for body in code]
    assert f"style-src 'sha256-{digest(page.styles[0])}'" in csp


def test_payloads_in_texts_sources_terms_and_reasons_stay_text(made: Any) -> None:
    _, html, page = made
    for raw in rd.PAYLOADS + ("<b>bold</b>", "<img src=x onerror=alert(1)>"):
        assert raw not in html, raw
    # The parser sees no element or attribute the payloads would add...
    assert not any(t in ("img", "b") for t, _ in page.elements)
    assert not any(name.startswith("on") for _, attrs in page.elements for name in attrs)
    scripts = [attrs for attrs, _ in page.scripts]
    assert len(scripts) == 2 + len(CHARTS)
    assert all(a.get("type") == "application/json" for a in scripts[:-2])
    # ...and shows every payload as text: the text, the source, the brand, the reasons.
    text = page.all_text
    assert rd.PAYLOAD_TEXT in text
    assert f"source: {rd.IMG}" in text and f"brand: {rd.END_SCRIPT}" in text
    assert f"</script> (“{rd.SCRIPT}”)" in text
    assert "The courier said <b>bold</b> things & left" not in text  # not urgent: not listed
    # An aspect category that would end a <script> block stays inside its JSON.
    chart = next(body for attrs, body in page.scripts if attrs.get("data-chart") == "aspects")
    assert "<" not in chart and ">" not in chart
    assert {rd.IMG, rd.END_SCRIPT} <= set(json.loads(chart)["categories"])


def test_the_same_file_gives_the_same_bytes(tmp_path: Path) -> None:
    first = build(tmp_path, name="a.html")[1]
    assert build(tmp_path, name="b.html")[1] == first


# -- inputs ---------------------------------------------------------------------------------

def test_jsonl_parquet_and_a_batch_folder_give_the_same_figures(tmp_path: Path,
                                                                made: Any) -> None:
    pytest.importorskip("pyarrow")
    typed = [rd.typed(r) for r in rd.rows()]
    folder = tmp_path / "scored"
    folder.mkdir()
    for n, start in enumerate(range(0, len(typed), 40)):
        rd.write_parquet(folder / f"part-00000-{n:06d}.parquet", typed[start:start + 40])
    (folder / "_frankly_job.json").write_text("{}")
    (folder / "_SUCCESS").write_text("")
    (folder / "_frankly_summary.json").write_text("{}")
    expected = made[2].charts()
    inputs = {"jsonl": rd.write_jsonl(tmp_path / "a.jsonl", typed),
              "parquet": rd.write_parquet(tmp_path / "a.parquet", typed), "folder": folder}
    for kind, path in inputs.items():
        summary, _, page = build(tmp_path, path, name=f"{kind}.html")
        assert page.charts() == expected, kind
        assert (summary.stored, summary.failed, summary.urgent) == (
            rd.ROWS - 3, 3, rd.URGENT), kind
        assert summary.notes == []
    places = dict(build(tmp_path, folder, name="f.html")[0].failed_rows)
    assert places == {"part-00000-000002.parquet, row 16": rd.FAILED["line 97"],
                      "part-00000-000002.parquet, row 17": rd.FAILED["line 98"],
                      "part-00000-000002.parquet, row 18": rd.FAILED["line 99"]}
    first = [a for t, a in build(tmp_path, folder, name="g.html")[2].elements
             if t == "div" and a.get("class") == "item"][0]
    assert first["data-item"] == "part-00000-000002.parquet, row 13"
    # A job that has not finished yet: the report says which parts it covers.
    (folder / "_SUCCESS").unlink()
    summary, _, page = build(tmp_path, folder, name="unfinished.html")
    assert summary.notes and "has not finished" in page.all_text


def test_a_file_without_times_is_one_period_and_says_so(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "created_at"} for r in rd.rows()]
    source = rd.write_csv(tmp_path / "untimed.csv", rows)
    summary, html, page = build(tmp_path, source)
    assert summary.time_column is None and summary.failed == 2  # "next tuesday" is fine now
    assert page.by_id("no-time")
    assert "treats the whole file as one period" in page.all_text
    charts = page.charts()
    assert charts["volume"] == {"periods": ["whole file"], "volume": [summary.stored]}
    assert "alerts" not in charts and "previous" not in charts["aspects"]
    assert "one period: no time column" in page.all_text and "Volume per period" in html
    assert "Before" not in page.all_text and "No tests run: alerts compare" in page.all_text
    assert " UTC" not in page.all_text and "2000-01" not in html


def test_the_time_column_can_be_named(tmp_path: Path, made: Any) -> None:
    rows = [{("sent_at" if k == "created_at" else k): v for k, v in r.items()}
            for r in rd.rows()]
    source = rd.write_csv(tmp_path / "sent.csv", rows)
    assert build(tmp_path, source, name="none.html")[0].time_column is None
    summary, _, page = build(tmp_path, source, time_column="sent_at")
    assert summary.time_column == "sent_at" and page.charts() == made[2].charts()
    with pytest.raises(DataError, match=r"has no column 'when' \(--time-column\)"):
        report.write_report(source, tmp_path / "x.html", time_column="when")


def test_prediction_columns_renamed_for_a_clash_are_found(tmp_path: Path, made: Any) -> None:
    rows = []
    for r in rd.rows():
        out = {("frankly_" + k if k in ("label", "urgent") else k): v for k, v in r.items()}
        out.update(label="gold label", urgent="ask the team")  # the input's own columns
        rows.append(out)
    summary, _, page = build(tmp_path, rd.write_csv(tmp_path / "clash.csv", rows))
    assert page.charts() == made[2].charts() and summary.urgent == rd.URGENT


def test_a_value_the_store_cannot_hold_fails_its_row_alone(tmp_path: Path) -> None:
    rows = rd.rows()
    rows[0]["source"] = "s" * 201
    rows[1]["aspects"] = f"staff ({'c' * 101}, positive)"
    rows[2]["aspects"] = "not an aspect list"
    rows[3]["score_neutral"] = "nan"
    summary, _, _ = build(tmp_path, rd.write_csv(tmp_path / "long.csv", rows))
    failed = dict(summary.failed_rows)
    assert summary.failed == 7 and summary.stored == rd.ROWS - 7
    assert failed["line 2"] == "source is longer than 200 characters"
    assert failed["line 3"] == "an aspect category is longer than 100 characters"
    assert failed["line 4"] == "aspects is not in the form 'term (category, label); ...'"
    assert failed["line 5"] == "score_neutral must be a finite number, got 'nan'"


def test_a_chunk_the_store_refuses_is_split_until_the_bad_row_stands_alone() -> None:
    class Store:
        def __init__(self) -> None:
            self.stored: list[str] = []

        def add_items(self, items: list[Any]) -> None:
            bad = [i for i, item in enumerate(items) if item.item_id in ("line 4", "line 9")]
            if bad:
                raise InputError(f"item {bad[0]}: a value the database cannot store")
            self.stored += [item.item_id for item in items]

    class Item:
        def __init__(self, item_id: str) -> None:
            self.item_id = item_id

    store = Store()
    summary = report.ReportSummary(output=Path("x"))
    added = report._add(store, [Item(f"line {n}") for n in range(2, 12)], summary)
    assert [i.item_id for i in added] == store.stored
    assert store.stored == [f"line {n}" for n in range(2, 12) if n not in (4, 9)]
    assert summary.failed_rows == [("line 4", "a value the database cannot store"),
                                   ("line 9", "a value the database cannot store")]


def test_rows_are_streamed_and_the_report_does_not_grow_with_them(
        tmp_path: Path, made: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from frankly.store import Store

    batches: list[int] = []
    add = Store.add_items

    def watched(self: Any, items: Any) -> Any:
        items = list(items)
        batches.append(len(items))
        return add(self, items)

    monkeypatch.setattr(Store, "add_items", watched)
    summary, _, page = build(tmp_path, chunk_rows=10)
    assert max(batches) <= 10 and sum(batches) == summary.stored
    assert page.charts() == made[2].charts()  # chunk edges change nothing
    # Ten times the rows: the same sections, about the same size (the urgent list is capped).
    many = [dict(r, id=f"{r['id']}-{n}") for n in range(10) for r in rd.rows()]
    big = build(tmp_path, rd.write_csv(tmp_path / "many.csv", many), name="many.html",
                urgent_limit=rd.URGENT)[0]
    assert big.stored == 10 * summary.stored
    assert big.bytes < 1.1 * made[0].bytes


def test_the_urgent_list_can_be_shorter(tmp_path: Path) -> None:
    _, _, page = build(tmp_path, urgent_limit=5)
    items = [a for t, a in page.elements if t == "div" and a.get("class") == "item"]
    assert len(items) == 5 and items[0]["data-item"] == rd.PAYLOAD_PLACE
    assert f"The 5 most urgent of {rd.URGENT} urgent rows" in page.all_text


# -- the use policy -------------------------------------------------------------------------

def test_about_employees_the_report_holds_aggregates_only(tmp_path: Path) -> None:
    rows = rd.employee_rows(12) + [dict(r, created_at="2026-10-09T10:00:00Z")
                                   for r in rd.employee_rows(3, days=1)]
    source = rd.write_csv(tmp_path / "staff.csv", rows)
    summary, html, page = build(tmp_path, source, subject_kind="employee",
                                subject_column="person")
    assert summary.people == 12 and summary.stored == 39
    assert "EMPLOYEE" not in html  # no text, no example, no urgent list
    assert "keeps failing" not in html and "Checkout" not in html  # no reason, no term
    assert page.by_id("policy") and not page.by_id("queue")
    assert "Not listed: feedback about employees is never shown one by one" in page.all_text
    assert "Examples" not in page.all_text
    charts = page.charts()
    # The fourth day (three people) is withheld; the three days of twelve are shown.
    assert charts["volume"]["volume"][:3] == [12, 12, 12]
    assert charts["volume"]["volume"][-1] is None
    assert "withheld" in page.all_text and "fewer than 10 distinct people" in page.all_text


def test_no_word_of_an_employees_text_goes_into_the_store(tmp_path: Path) -> None:
    row = rd.rows()[6]  # charged twice: urgent, with reasons, evidence and an aspect
    columns = analysed.Columns(text="text", time="created_at", source=None, brand=None,
                               subject="id", fields=analysed.prediction_columns(list(row)))
    customer = analysed.to_item("line 8", row, columns, kind="customer")
    assert customer.text == row["text"] and customer.analysis["evidence"]
    assert customer.analysis["urgency"]["reasons"][0]["text"] == "charged twice"
    item = analysed.to_item("line 8", row, columns, kind="employee")
    assert item.subject_id == row["id"] and item.subject_kind == "employee"
    a = item.analysis
    assert item.text is None and a["evidence"] == []
    assert [(x["term"], x["category"], x["label"]) for x in a["aspects"]] == [
        (None, "orders", "negative")]
    assert [(r["category"], r["text"]) for r in a["urgency"]["reasons"]] == [
        ("billing", None), ("billing", None), ("deadline", None)]
    assert a["urgency"]["score"] == 0.98 and a["label"] == "negative"


def test_too_few_people_write_no_report(tmp_path: Path, capsys: Any) -> None:
    source = rd.write_csv(tmp_path / "team.csv", rd.employee_rows(5))
    out = tmp_path / "team.html"
    with pytest.raises(PolicyError, match="5 distinct students"):
        report.write_report(source, out, subject_kind="student", subject_column="person")
    code, _, err = run(capsys, "report", "-i", source, "-o", out, "--subject-kind",
                       "employee", "--subject-column", "person")
    one_line_error(code, err, 1, "5 distinct employees", "No report was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team.csv"]
    code, _, err = run(capsys, "report", "-i", source, "-o", out, "--subject-kind",
                       "employee")
    one_line_error(code, err, 2, "needs --subject-column")
    with pytest.raises(InputError, match="subject-column"):
        report.write_report(source, out, subject_kind="employee")


# -- errors and the command -----------------------------------------------------------------

def test_a_file_that_is_not_analysed_says_what_is_missing_and_what_to_do(
        tmp_path: Path, capsys: Any) -> None:
    raw = rd.write_csv(tmp_path / "raw.csv", [{"id": "1", "text": "Lovely staff"}])
    code, _, err = run(capsys, "report", "--input", raw, "--output", tmp_path / "r.html")
    one_line_error(code, err, 1, "raw.csv is not an analysed file", "no label, score_negative",
                   f"frankly analyze --input {raw} --output analysed.csv")
    partial = rd.write_csv(tmp_path / "partial.csv", [
        {k: v for k, v in r.items() if k != "score_neutral"} for r in rd.rows()])
    with pytest.raises(DataError, match=r"no score_neutral column\. Make one with"):
        report.write_report(partial, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("argv, needles", [
    (["-i", "nowhere.csv"], ["cannot read nowhere.csv: no such file or folder"]),
    (["-t", "body"], ["has no column 'body' (--text-column)", "its columns are: 'id'"]),
    (["--source-column", "channel"], ["has no column 'channel' (--source-column)"]),
    (["-o", "missing-folder/r.html"], ["the folder missing-folder does not exist"]),
])
def test_mistakes_are_one_line(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch,
                               argv: list[str], needles: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    options = {"-i": str(rd.ANALYSED), "-o": "r.html"}
    for flag, value in zip(argv[::2], argv[1::2]):
        options[flag] = value
    code, _, err = run(capsys, "report", *[x for kv in options.items() for x in kv])
    one_line_error(code, err, 1, *needles)


def test_the_command_writes_the_report_and_sums_it_up(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "report.html"
    code, printed, err = run(capsys, "report", "--input", rd.ANALYSED, "--output", out,
                             "--alert-period", "week", "--compare-days", "7")
    assert code == 0, err
    size = out.stat().st_size
    assert printed.startswith(f"wrote {out} ({size:,} bytes): 95 of 98 rows in the report, "
                              f"26 urgent\n")
    assert "3 rows failed and are left out (listed in the report):" in printed
    assert "line 98: created_at 'next tuesday' is not a date" in printed
    page = Parsed(out.read_text(encoding="utf-8"))
    assert "Week of 2026-11-09 against 6 week(s) before it" in page.all_text
    assert "2026-11-05 to 2026-11-11, against the 7 days before" in page.all_text
    code, printed, _ = run(capsys, "report", "--help")
    assert code == 0 and "--time-column" in printed and "--subject-kind" in printed


def test_inlined_assets_cannot_end_their_element() -> None:
    assets = report.inline_assets()
    for text in assets.values():
        assert "</script" not in text.lower() and "<!--" not in text
    assert not re.search(r"https?://", assets["chart_js"])


@pytest.mark.parametrize("module", ["frankly.dashboard.analysed",
                                    "frankly.dashboard.templating"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    failed, attempted = doctest.testmod(importlib.import_module(module))
    assert attempted > 0 and failed == 0


def test_times_are_read_as_utc() -> None:
    from datetime import date, datetime, timezone

    utc = timezone.utc
    for value in ("2026-11-20T09:00:00Z", "2026-11-20 10:00+01:00", "2026-11-20T09:00",
                  datetime(2026, 11, 20, 9), datetime(2026, 11, 20, 9, tzinfo=utc)):
        assert analysed.parse_time(value, "t") == datetime(2026, 11, 20, 9, tzinfo=utc)
    assert analysed.parse_time(date(2026, 11, 20), "t") == datetime(2026, 11, 20, tzinfo=utc)
    for value, message in (("", "t is empty"), (None, "t is empty"),
                           ("20/11/2026", "t '20/11/2026' is not a date or time"),
                           (1763629200, "t is a int, not a date or time")):
        with pytest.raises(analysed.RowError, match=message):
            analysed.parse_time(value, "t")


def test_parquet_timestamps_are_times(tmp_path: Path, made: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    typed = [rd.typed(r) for r in rd.rows() if r["created_at"] != "next tuesday"]
    for r in typed:
        r["created_at"] = analysed.parse_time(r["created_at"], "created_at")
    table = pa.Table.from_pylist(typed).cast(pa.Table.from_pylist(typed).schema.set(
        2, pa.field("created_at", pa.timestamp("us", tz="UTC"))))
    pq.write_table(table, tmp_path / "stamped.parquet")
    summary, _, page = build(tmp_path, tmp_path / "stamped.parquet")
    assert summary.failed == 2 and page.charts() == made[2].charts()


def test_spans_are_found_again_in_the_text() -> None:
    assert analysed.find_span("Charged  twice, then charged twice", "charged twice", 5) == (
        21, 34)
    assert analysed.find_span("Charged\ntwice", "charged twice") == (0, 13)
    assert analysed.find_span("nothing here", "refund") == (None, None)
    assert analysed.parse_reasons("other: a; b; deadline: today") == [
        ("other", "a; b"), ("deadline", "today")]
    assert analysed.parse_aspects("a; b (staff, positive)") == [("a; b", "staff", "positive")]
    with pytest.raises(analysed.RowError):
        analysed.parse_aspects("staff (staff, furious)")


def test_personal_data_in_the_texts_is_redacted_unless_asked_not_to(tmp_path: Path) -> None:
    rows = [dict(r, text=f"{r['text']} Mail jane.doe@example.com") for r in rd.rows()]
    source = rd.write_csv(tmp_path / "pii.csv", rows)
    _, html, _ = build(tmp_path, source)
    assert "jane.doe@example.com" not in html and "[EMAIL]" in html
    _, raw, _ = build(tmp_path, source, name="raw.html", redact=False)
    assert "jane.doe@example.com" in raw
