"""The dashboard in a real headless Chromium (Debian's chromium, driven by Playwright): pages
load with seeded data, charts draw, filters change them, the override flow works end to
end, payloads stay text, and a screenshot of each page lands in the test's folder.

Skipped without /usr/bin/chromium (apt-get install chromium) or without Playwright's Python
package (pip install playwright; no browser download is needed, it drives Debian's).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from browser import INK, chromium, require_browser

require_browser()
pytest.importorskip("jinja2")
pytest.importorskip("uvicorn")

import uvicorn  # noqa: E402
from playwright.sync_api import Page  # noqa: E402

import frankly  # noqa: E402
from dashboard_seed import BRAND_PAYLOAD, PAYLOAD_TEXT, SCRIPT, TOP_URGENT, seed  # noqa: E402
from frankly.config import ServiceSettings  # noqa: E402
from frankly.service import create_app  # noqa: E402
from frankly.store import open_store  # noqa: E402

pytestmark = pytest.mark.slow

# Each page and the canvases it must draw.
PAGES = {"overview": ("/", ["chart-volume", "chart-shares"]),
         "aspects": ("/aspects", ["chart-aspects"]),
         "urgent": ("/urgent", []),
         "explorer": ("/explorer?q=refund", []),
         "alerts": ("/alerts", ["chart-alerts"]),
         "item": (f"/item?id={TOP_URGENT}", [])}


class Server:
    def __init__(self, base: str, keys: dict[str, str], store: Any) -> None:
        self.base = base
        self.keys = keys
        self.store = store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'frankly.db'}")
    seed(store)
    keys = {scope: store.create_key(name=f"{scope} person", scopes=(scope,))[1]
            for scope in ("read", "write")}
    app = create_app(ServiceSettings(database_url=store.url, retention_days=None),
                     analyzer=frankly.load("fast"), store=store)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                       loop="asyncio", lifespan="on"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", keys, store)
    uv.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Watched:
    """A page and what it said: console errors and any dialog (an alert() that ran)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)


@pytest.fixture()
def tab(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    yield watched
    context.close()
    assert watched.dialogs == [], "a script from the data ran in the page"


def log_in(tab: Watched, server: Server, scope: str = "write", then: str = "/") -> Page:
    page = tab.page
    page.goto(server.base + then)
    assert "/login" in page.url
    page.fill("#key", server.keys[scope])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url
    return page


def test_each_page_loads_draws_its_charts_and_is_screenshotted(
        tab: Watched, server: Server, tmp_path: Path) -> None:
    page = tab.page
    page.goto(server.base + "/login")
    page.screenshot(path=str(tmp_path / "login.png"), full_page=True)
    log_in(tab, server, "read")
    for name, (path, canvases) in PAGES.items():
        response = page.goto(server.base + path)
        assert response is not None and response.status == 200, name
        page.wait_for_load_state("networkidle")
        for canvas in canvases:
            page.wait_for_function("id => window.Chart && Chart.getChart(id)", arg=canvas)
            assert page.evaluate(INK, canvas) > 2000, f"{name}: {canvas} is blank"
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        assert page.locator("header nav a.active").count() == (0 if name == "item" else 1)
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == sorted(["login.png"] + [f"{n}.png" for n in PAGES])
    assert all((tmp_path / s).stat().st_size > 10_000 for s in shots)
    # No script was refused by the Content-Security-Policy, none failed.
    assert tab.errors == []


def test_filters_change_the_charts(tab: Watched, server: Server) -> None:
    page = log_in(tab, server, "read", "/?start=2026-10-01&end=2026-11-20")
    volume = "() => Chart.getChart('chart-volume').data.datasets[0].data" \
             ".reduce((a, b) => a + (b || 0), 0)"
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-volume')")
    everything = page.evaluate(volume)
    assert everything == int(page.inner_text("#total-items").replace(",", ""))
    page.select_option("select[name=source]", "email")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**source=email**")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-volume')")
    email = page.evaluate(volume)
    assert 0 < email < everything
    assert email == int(page.inner_text("#total-items").replace(",", ""))
    # A shorter range draws fewer points.
    page.fill("input[name=start]", "2026-11-01")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**start=2026-11-01**")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-shares')")
    points = page.evaluate("() => Chart.getChart('chart-shares').data.labels.length")
    assert points == 20


def test_the_override_flow_from_queue_to_audit_trail(tab: Watched, server: Server,
                                                     tmp_path: Path) -> None:
    page = log_in(tab, server, "write", "/urgent")
    first = page.locator("#queue .item").first
    assert first.get_attribute("data-item") == TOP_URGENT  # the highest score leads
    first.locator("input[name=reason]").first.fill("Refunded by phone")
    first.locator("button", has_text="Mark handled").click()
    page.wait_for_url("**saved=**")
    assert page.locator(f'#queue .item[data-item="{TOP_URGENT}"]').count() == 0
    page.locator(".notice a").click()  # "Saved your change to item ..."
    page.wait_for_url("**/item?id=**")
    audit = page.locator("#audit")
    assert "Refunded by phone" in audit.inner_text()
    assert "write person" in audit.inner_text() and "handled" in audit.inner_text()
    # Then a person overrides the label on the item page, with a reason.
    page.locator("details summary", has_text="Override").click()
    form = page.locator("form", has=page.locator("input[name=action][value=label]"))
    form.locator("select[name=label]").select_option("neutral")
    form.locator("input[name=reason]").fill("A billing question, not a complaint")
    form.locator("button").click()
    page.wait_for_load_state()
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 2
    assert "A billing question" in rows.first.inner_text()
    assert page.locator(".card .meta .pill").first.inner_text() == "neutral"
    page.screenshot(path=str(tmp_path / "item-after-override.png"), full_page=True)
    stored = server.store.get_item(TOP_URGENT)
    assert stored.handled and stored.label == "neutral" and stored.model["label"] == "negative"


def test_payloads_are_shown_as_text(tab: Watched, server: Server) -> None:
    page = log_in(tab, server, "read", "/item?id=payload")
    assert page.inner_text(".card .text") == PAYLOAD_TEXT
    assert page.evaluate("() => document.querySelectorAll('img[src=x], b').length") == 0
    page.goto(server.base + "/explorer?q=refund")
    assert SCRIPT in page.inner_text("#results")
    page.goto(server.base + "/")
    options = page.eval_on_selector_all("select[name=brand] option",
                                        "els => els.map(e => e.textContent)")
    assert BRAND_PAYLOAD in options
    assert page.evaluate("() => document.scripts.length") == 4  # 2 data blocks, 2 files


def test_logging_out_ends_the_session(tab: Watched, server: Server) -> None:
    page = log_in(tab, server, "read", "/alerts")
    page.click("header form button")
    page.wait_for_url("**/login")
    page.goto(server.base + "/alerts")
    assert "/login" in page.url
