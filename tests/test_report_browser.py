"""``frankly report``'s file in a real headless Chromium (Debian's, driven by Playwright),
opened from disk with the network off: its charts draw, it asks for nothing but itself, no
payload runs (no dialog, no error, not even a refused script), and a screenshot of it lands
in the test's folder.

Skipped without /usr/bin/chromium (apt-get install chromium) or without Playwright's Python
package (pip install playwright; no browser download is needed, it drives Debian's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from browser import INK, chromium, require_browser

require_browser()
pytest.importorskip("jinja2")
pytest.importorskip("sqlalchemy")


import report_data as rd  # noqa: E402
from frankly.dashboard.report import write_report  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Opened:
    """A report opened from disk, offline, and everything it did: requests, console
    errors (a script the page's policy refused would be one), dialogs."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           offline=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def check_drawn(self, canvases: list[str], shot: Path) -> None:
        for canvas in canvases:
            self.page.wait_for_function("id => window.Chart && Chart.getChart(id)", arg=canvas)
            assert self.page.evaluate(INK, canvas) > 2000, f"{canvas} is blank"
        assert self.page.evaluate("() => window.franklyCharts.length") == len(canvases)
        self.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert self.requests == [self.url]  # nothing fetched: not a script, font or icon
        assert self.errors == [] and self.dialogs == []

    def close(self) -> None:
        self.context.close()


def test_the_report_opens_offline_draws_its_charts_and_shows_payloads_as_text(
        browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report(rd.ANALYSED, out)
    opened = Opened(browser, out)
    page = opened.page
    try:
        opened.check_drawn(["chart-volume", "chart-shares", "chart-aspects", "chart-alerts"],
                           tmp_path / "report.png")
        first = page.locator("#queue .item").first
        assert first.get_attribute("data-item") == rd.PAYLOAD_PLACE
        assert first.locator(".text").inner_text() == rd.PAYLOAD_TEXT
        assert rd.IMG in first.locator(".meta").inner_text()
        assert page.evaluate("() => document.querySelectorAll('img, b, iframe').length") == 0
        assert page.evaluate("() => document.scripts.length") == 6  # 4 data blocks, 2 scripts
        # The charts read what the data blocks hold, payload names included.
        labels = page.evaluate("() => Chart.getChart('chart-aspects').data.labels")
        assert rd.END_SCRIPT in labels and rd.IMG in labels
        total = page.evaluate("() => Chart.getChart('chart-volume').data.datasets[0].data"
                              ".reduce((a, b) => a + (b || 0), 0)")
        assert total == int(page.inner_text("#total-items").replace(",", ""))
        assert page.inner_text("#failed-count") == "3"
        page.click("header nav a[href='#failed']")  # in-page links work from disk
        assert page.evaluate("() => location.hash") == "#failed"
    finally:
        opened.close()


def test_reports_without_times_and_about_employees_draw_too(browser: Any,
                                                            tmp_path: Path) -> None:
    untimed = rd.write_csv(tmp_path / "untimed.csv", [
        {k: v for k, v in r.items() if k != "created_at"} for r in rd.rows()])
    write_report(untimed, tmp_path / "untimed.html")
    opened = Opened(browser, tmp_path / "untimed.html")
    try:
        opened.check_drawn(["chart-volume", "chart-shares", "chart-aspects"],
                           tmp_path / "untimed.png")
        assert opened.page.is_visible("#no-time")
    finally:
        opened.close()
    staff = rd.write_csv(tmp_path / "staff.csv", rd.employee_rows(12))
    write_report(staff, tmp_path / "staff.html", subject_kind="employee",
                 subject_column="person")
    opened = Opened(browser, tmp_path / "staff.html")
    try:
        opened.check_drawn(["chart-volume", "chart-shares", "chart-aspects", "chart-alerts"],
                           tmp_path / "staff.png")
        assert "EMPLOYEE" not in opened.page.inner_text("body")
    finally:
        opened.close()
