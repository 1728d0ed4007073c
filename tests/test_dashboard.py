"""The web dashboard in process: login, sessions and CSRF, every page with seeded data, the
override flow and its audit trail, the use policy, escaping of every user text, static
files. The flows that touch the database run on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
import re
from datetime import date, timedelta
from typing import Any, Iterator

import markupsafe
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient  # noqa: E402

import frankly  # noqa: E402
from dashboard_seed import (BRAND_PAYLOAD, EMPLOYEE_TEXT, IMG, LAST, SCRIPT,  # noqa: E402
                            TOP_URGENT, seed)
from frankly.config import ServiceSettings  # noqa: E402
from frankly.dashboard import session as sess  # noqa: E402
from frankly.dashboard.text import segments  # noqa: E402
from frankly.service import create_app  # noqa: E402
from frankly.store import open_store  # noqa: E402

PAGES = ["/", "/aspects", "/urgent", "/explorer", "/alerts"]


@pytest.fixture(scope="module")
def analyzer() -> Any:
    return frankly.load("fast")


class Board:
    def __init__(self, client: TestClient, store: Any, keys: dict[str, tuple[Any, str]],
                 facts: dict[str, Any]) -> None:
        self.client = client
        self.store = store
        self.keys = keys
        self.facts = facts

    def login(self, scope: str = "write") -> TestClient:
        form = self.client.get("/login")
        r = self.client.post("/login", data={"key": self.keys[scope][1],
                                             "csrf": csrf_of(form.text), "next": "/"},
                             follow_redirects=False)
        assert r.status_code == 303, r.text
        return self.client

    def csrf(self, path: str = "/urgent") -> str:
        return csrf_of(self.client.get(path).text)

    def forget_keys(self) -> None:
        self.client.app.state.frankly.keys.forget()


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _board(url: str, analyzer: Any) -> Iterator[Board]:
    store = open_store(url)
    facts = seed(store)
    settings = ServiceSettings(database_url=store.url, retention_days=None)
    app = create_app(settings, analyzer=analyzer, store=store)
    keys = {scope: store.create_key(name=f"{scope} person", scopes=(scope,))
            for scope in ("read", "write")}
    with TestClient(app, base_url="http://testserver") as client:
        yield Board(client, store, keys, facts)
    store.close()


@pytest.fixture()
def board(url: str, analyzer: Any) -> Iterator[Board]:
    """Seeded, on SQLite and on PostgreSQL (``url`` in conftest.py)."""
    yield from _board(url, analyzer)


@pytest.fixture()
def sqlite_board(tmp_path: Any, analyzer: Any) -> Iterator[Board]:
    yield from _board(f"sqlite:///{tmp_path / 'board.db'}", analyzer)


# -- access ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES + ["/item?id=top-urgent"])
def test_pages_without_a_session_redirect_to_the_login_page(sqlite_board: Board,
                                                            path: str) -> None:
    r = sqlite_board.client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    login = sqlite_board.client.get(r.headers["location"])
    assert login.status_code == 200 and 'type="password"' in login.text


def test_a_key_logs_in_with_a_safe_session_cookie(sqlite_board: Board) -> None:
    c = sqlite_board.client
    form = c.get("/login?next=/aspects")
    r = c.post("/login", data={"key": sqlite_board.keys["read"][1], "csrf": csrf_of(form.text),
                               "next": "/aspects"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/aspects"
    cookie = next(v for v in r.headers.get_list("set-cookie")
                  if v.startswith(sess.SESSION_COOKIE + "="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert f"max-age={sess.SESSION_SECONDS}" in flags
    assert sqlite_board.keys["read"][1] not in cookie  # the key never leaves the server
    page = c.get("/aspects")
    assert page.status_code == 200 and "read person" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_key_or_a_missing_login_token_is_refused(sqlite_board: Board) -> None:
    c = sqlite_board.client
    form = c.get("/login")
    bad = c.post("/login", data={"key": "fk_nope", "csrf": csrf_of(form.text)})
    assert bad.status_code == 401 and "unknown or revoked" in bad.text
    assert sess.SESSION_COOKIE not in c.cookies
    no_token = c.post("/login", data={"key": sqlite_board.keys["read"][1]})
    assert no_token.status_code == 403 and sess.SESSION_COOKIE not in c.cookies
    c.cookies.delete(sess.LOGIN_COOKIE)  # a token without its own pre-login cookie
    stolen = c.post("/login", data={"key": sqlite_board.keys["read"][1],
                                    "csrf": csrf_of(form.text)})
    assert stolen.status_code == 403


def test_login_never_redirects_off_the_site(sqlite_board: Board) -> None:
    c = sqlite_board.client
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = c.get("/login")
        r = c.post("/login", data={"key": sqlite_board.keys["read"][1],
                                   "csrf": csrf_of(form.text), "next": target},
                   follow_redirects=False)
        assert r.headers["location"] == "/"
        c.cookies.clear()


def test_a_tampered_or_expired_session_is_logged_out(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    good = c.cookies[sess.SESSION_COOKIE]
    payload, mac = good.split(".")
    other_key = sqlite_board.keys["write"][0].id  # a read session claiming a write key
    forged = json.dumps({"k": other_key, "e": 4102444800, "n": "x"}).encode()
    forged_payload = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    for value in (f"{forged_payload}.{mac}", good + "x", "garbage", good):
        c.cookies.clear()
        c.cookies.set(sess.SESSION_COOKIE, value)
        assert c.get("/", follow_redirects=False).status_code == (200 if value == good
                                                                  else 303)
    signer = c.app.state.dashboard.signer(sqlite_board.store)
    expired = signer.issue(sqlite_board.keys["read"][0].id, now=0.0)
    c.cookies.clear()
    c.cookies.set(sess.SESSION_COOKIE, expired)
    assert c.get("/", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_sessions(board: Board) -> None:
    c = board.login("read")
    assert c.get("/").status_code == 200
    board.store.revoke_key(board.keys["read"][0].id)
    board.forget_keys()  # skip the few seconds of cache
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_logout_needs_the_token_and_ends_the_session(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/", follow_redirects=False).status_code == 200
    r = c.post("/logout", data={"csrf": sqlite_board.csrf("/")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/", follow_redirects=False).status_code == 303


def test_api_routes_take_bearer_keys_not_the_session(sqlite_board: Board) -> None:
    c = sqlite_board.login("write")
    assert c.get("/v1/stats").status_code == 401  # the cookie is no API credential
    r = c.get("/v1/stats", headers={"Authorization": f"Bearer {sqlite_board.keys['read'][1]}"})
    assert r.status_code == 200
    schema = c.get("/openapi.json").json()
    assert not {"/", "/login", "/urgent", "/override"} & set(schema["paths"])


# -- pages -----------------------------------------------------------------------------------

def test_every_page_renders_the_seeded_data(board: Board) -> None:
    c = board.login("read")
    overview = c.get("/")
    total = int(re.search(r'id="total-items">([\d,]+)<', overview.text).group(1)
                .replace(",", ""))
    # The day with three employees is withheld (k = 10): its 24 customers and 3 employees.
    assert total == board.facts["items"] - 24 - 3
    assert "withheld" in overview.text and "data-chart=\"shares\"" in overview.text
    aspects = c.get("/aspects")
    assert "parcel delivery" in aspects.text and "price and value" in aspects.text
    urgent = c.get("/urgent")
    assert urgent.text.index(f'data-item="{TOP_URGENT}"') < urgent.text.index(
        'data-item="payload"')  # 0.99 before 0.97
    assert '<mark class="urgent"' in urgent.text
    explorer = c.get("/explorer?q=refund")
    assert 'data-item="' in explorer.text and '<mark class="neg"' in explorer.text
    alerts = c.get("/alerts")
    assert alerts.status_code == 200
    assert "Negative share spike" in alerts.text and "parcel delivery" in alerts.text
    assert "two-proportion z-test" in alerts.text and "Holm" in alerts.text
    item = c.get(f"/item?id={TOP_URGENT}")
    assert "Card charged twice" in item.text and "No one has changed this item" in item.text


def test_the_overview_counts_what_the_store_counts(board: Board) -> None:
    c = board.login("read")
    start = board.facts["first_day"].isoformat()
    end = board.facts["last_day"].isoformat()
    everything = c.get(f"/?start={start}&end={end}")
    total = int(re.search(r'id="total-items">([\d,]+)<', everything.text).group(1)
                .replace(",", ""))
    # All seeded items but the withheld day's (24 customers there, 3 employees).
    assert total == board.facts["items"] - 24 - 3
    web = c.get(f"/?start={start}&end={end}&source=web")
    web_total = int(re.search(r'id="total-items">([\d,]+)<', web.text).group(1)
                    .replace(",", ""))
    assert 0 < web_total < total
    data = chart_data(web.text, "volume")
    assert sum(v for v in data["volume"] if v) == web_total
    assert data["periods"][0] == start and data["periods"][-1] == end


def test_a_long_range_is_drawn_per_week(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    page = c.get("/?start=2026-05-01&end=2026-11-20").text
    assert "per week" in page
    data = chart_data(page, "volume")
    days = [date.fromisoformat(p) for p in data["periods"]]
    assert all(d.weekday() == 0 for d in days) and days[0] <= date(2026, 5, 1) < days[1]
    total = int(re.search(r'id="total-items">([\d,]+)<', page).group(1).replace(",", ""))
    assert sum(v for v in data["volume"] if v) == total > 0
    # The employees' week is withheld as a whole (3 people < k), its customers with it.
    assert data["volume"].count(None) == 1


def chart_data(page: str, kind: str) -> Any:
    match = re.search(rf'<script type="application/json" data-chart="{kind}"[^>]*>(.*?)'
                      r'</script>', page, re.S)
    assert match, f"no {kind} chart data"
    return json.loads(match.group(1))


def test_filters_reach_the_explorer_and_the_queue(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    negatives = c.get("/explorer?label=negative")
    labels = re.findall(r'<span class="pill (negative|neutral|positive|mixed)"', negatives.text)
    assert labels and set(labels) == {"negative"}
    email = c.get("/urgent?source=email").text
    assert TOP_URGENT not in email  # it came from the web
    assert "Next page" in c.get("/explorer").text  # more than one page of 50


def test_a_long_explorer_range_is_read_60_days_at_a_time(sqlite_board: Board) -> None:
    from dashboard_seed import new_item

    old = LAST - timedelta(days=100)  # in the second window of 60 days
    sqlite_board.store.add_items([new_item("old-one", old, "negative",
                                           "An old refund story from spring")])
    c = sqlite_board.login("read")
    first = c.get("/explorer?q=refund+story&start=2026-01-01&end=2026-11-20")
    assert "Showing 2026-09-22 to 2026-11-20 of your range" in first.text
    assert 'data-item="old-one"' not in first.text
    older = re.search(r'<a href="([^"]+)">Go on with the (\d+) days before', first.text)
    assert older and older.group(2) == str((LAST.date() - timedelta(days=60)
                                            - LAST.date().replace(month=1, day=1)).days + 1)
    second = c.get(html_unescape(older.group(1)))
    assert 'data-item="old-one"' in second.text and "q=refund" in older.group(1)


def html_unescape(text: str) -> str:
    return text.replace("&amp;", "&")


def test_a_bad_date_is_an_error_page_not_a_crash(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    r = c.get("/?start=yesterday")
    assert r.status_code == 422 and "2026-11-26" in r.text
    assert c.get("/explorer?cursor=garbage").status_code == 422


# -- the override flow ------------------------------------------------------------------------

def test_marking_handled_and_overriding_go_to_the_audit_trail(board: Board) -> None:
    c = board.login("write")
    token = board.csrf("/urgent")
    r = c.post("/override", data={"csrf": token, "item": TOP_URGENT, "action": "handled",
                                  "reason": "refunded by phone", "next": "/urgent"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/urgent?saved={TOP_URGENT}"
    queue = c.get(r.headers["location"]).text
    assert f'data-item="{TOP_URGENT}"' not in queue and "Saved your change" in queue
    assert f'data-item="{TOP_URGENT}"' in c.get("/urgent?handled=yes").text
    c.post("/override", data={"csrf": token, "item": TOP_URGENT, "action": "label",
                              "label": "neutral", "reason": "a billing question",
                              "next": "/explorer"})
    stored = board.store.get_item(TOP_URGENT)
    assert stored.handled and stored.label == "neutral" and stored.model["label"] == "negative"
    trail = board.store.audit_trail(item_id=TOP_URGENT).items
    assert [(e.field, e.after, e.reason) for e in trail] == [
        ("label", "neutral", "a billing question"), ("handled", True, "refunded by phone")]
    assert {e.actor for e in trail} == {f"key:{board.keys['write'][0].id} (write person)"}
    page = c.get(f"/item?id={TOP_URGENT}").text
    assert "refunded by phone" in page and "a billing question" in page
    assert "write person" in page


def test_a_post_without_the_sessions_token_is_403_and_changes_nothing(board: Board) -> None:
    c = board.login("write")
    for data in ({}, {"csrf": "forged"}, {"csrf": ""}):
        r = c.post("/override", data={**data, "item": TOP_URGENT, "action": "handled",
                                      "reason": "x"})
        assert r.status_code == 403
    # A token from another session (another key) does not fit this one either.
    other = Board(TestClient(c.app), board.store, board.keys, board.facts).login("read")
    foreign = csrf_of(other.get("/urgent").text)
    assert c.post("/override", data={"csrf": foreign, "item": TOP_URGENT,
                                     "action": "handled", "reason": "x"}).status_code == 403
    assert not board.store.get_item(TOP_URGENT).handled
    assert board.store.audit_trail(item_id=TOP_URGENT).items == ()


def test_a_read_key_sees_no_forms_and_cannot_change_items(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    queue = c.get("/urgent").text
    assert "Mark handled" not in queue and "can read only" in queue
    r = c.post("/override", data={"csrf": sqlite_board.csrf(), "item": TOP_URGENT,
                                  "action": "handled", "reason": "x"})
    assert r.status_code == 403 and "write" in r.text
    assert not sqlite_board.store.get_item(TOP_URGENT).handled


def test_an_override_needs_a_reason_and_a_known_item(sqlite_board: Board) -> None:
    c = sqlite_board.login("write")
    token = sqlite_board.csrf()
    r = c.post("/override", data={"csrf": token, "item": TOP_URGENT, "action": "label",
                                  "label": "neutral", "reason": " "})
    assert r.status_code == 422 and "reason" in r.text
    r = c.post("/override", data={"csrf": token, "item": "nope", "action": "handled"})
    assert r.status_code == 404
    r = c.post("/override", data={"csrf": token, "item": TOP_URGENT, "action": "label",
                                  "label": "furious", "reason": "x"})
    assert r.status_code == 422


# -- the use policy ---------------------------------------------------------------------------

def test_employees_are_never_shown_one_by_one(board: Board) -> None:
    c = board.login("write")
    for path in ("/urgent", "/urgent?handled=yes", "/explorer?start=2026-01-01",
                 "/explorer?q=EMPLOYEE", "/aspects?start=2026-01-01"):
        assert EMPLOYEE_TEXT not in c.get(path).text, path
    r = c.get("/item?id=emp-0")
    assert r.status_code == 403 and EMPLOYEE_TEXT not in r.text and "EU AI Act" in r.text
    r = c.post("/override", data={"csrf": board.csrf(), "item": "emp-0", "action": "handled",
                                  "reason": "x"})
    assert r.status_code == 403 and not board.store.get_item("emp-0").handled
    day = board.facts["employee_day"].isoformat()
    one_day = c.get(f"/?start={day}&end={day}").text
    assert "withheld" in one_day and "fewer than 10 distinct people" in one_day
    assert chart_data(one_day, "volume")["volume"] == [None]


# -- escaping ---------------------------------------------------------------------------------

def escape(text: str) -> str:
    """As Jinja's autoescape writes it (markupsafe: &lt; &gt; &amp; &#34; &#39;)."""
    return str(markupsafe.escape(text))


RAW = [SCRIPT, "<img src=x onerror=alert(1)>", "<b>bold</b>", "</script><script>alert(2)"]


def assert_escaped(page: str) -> None:
    for raw in RAW:
        assert raw not in page, raw


def test_user_text_source_and_brand_are_shown_as_text_on_every_page(
        sqlite_board: Board) -> None:
    c = sqlite_board.login("write")
    seen = {}
    for path in PAGES + ["/item?id=payload", "/explorer?q=refund", "/?source=" + IMG,
                        "/explorer?brand=" + BRAND_PAYLOAD]:
        page = c.get(path).text
        assert_escaped(page)
        seen[path] = page
    # ...and they are there, escaped: the queue shows the text, the filters the names.
    assert escape(SCRIPT) in seen["/urgent"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen["/item?id=payload"]
    assert escape(BRAND_PAYLOAD) in seen["/"]  # a brand filter option
    assert escape(IMG) in seen["/?source=" + IMG]


def test_payloads_sent_through_the_api_come_out_escaped(sqlite_board: Board,
                                                       analyzer: Any) -> None:
    c = sqlite_board.login("write")
    r = c.post("/v1/feedback", headers={"Authorization": f"Bearer "
                                        f"{sqlite_board.keys['write'][1]}"},
               json={"items": [{"id": "api-xss", "text": f"{SCRIPT} refund now, it broke",
                                "source": IMG, "brand": BRAND_PAYLOAD,
                                "created_at": (LAST - timedelta(hours=1)).isoformat()}]})
    assert r.json()["created"] == 1
    for path in ("/explorer", "/item?id=api-xss", "/", "/urgent", "/aspects"):
        assert_escaped(c.get(path).text)


def test_chart_data_cannot_end_its_script_block(sqlite_board: Board) -> None:
    board = sqlite_board.client.app.state.dashboard
    value = {"periods": ["</script><script>alert(1)</script>", "<!--", "a'b&c"]}
    out = board.env.from_string('{% from "macros.html" import chart_data %}'
                                '{{ chart_data("volume", "c", v) }}').render(v=value)
    body = out.split(">", 1)[1].rsplit("</script>", 1)[0]
    assert "<" not in body and json.loads(body) == value


# -- static files and text segments -----------------------------------------------------------

def test_chart_js_is_served_from_the_package_with_a_long_cache(sqlite_board: Board) -> None:
    c = sqlite_board.login("read")
    page = c.get("/").text
    src = re.search(r'<script src="(/static/chart\.umd\.min\.js\?v=[0-9a-f]+)"', page).group(1)
    r = c.get(src)
    assert r.status_code == 200 and r.text.startswith("/*!\n * Chart.js v4.")
    assert "max-age=31536000" in r.headers["cache-control"]
    assert "immutable" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("text/javascript")
    again = c.get(src, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert c.head(src).status_code == 200
    assert "MIT License" in c.get("/static/chart.js.LICENSE.md").text
    for bad in ("/static/web.py", "/static/..%2Fweb.py", "/static/nothing.js"):
        assert c.get(bad).status_code == 404


def test_segments_mark_each_character_at_most_once() -> None:
    text = "Late again, but kind staff"
    spans = [{"start": 0, "end": 10, "mark": "neg", "weight": -0.2},
             {"start": 5, "end": 10, "mark": "neg", "weight": -0.9},  # overlaps, stronger
             {"start": 21, "end": 26, "mark": "pos", "weight": 0.5},
             {"start": 20, "end": 99, "mark": "pos"},  # outside the text
             {"start": 3, "end": 3, "mark": "pos"}, {"start": None, "end": 2}]
    out = segments(text, spans)
    assert "".join(s["text"] for s in out) == text
    assert [(s["text"], s["mark"]) for s in out if s["mark"]] == [("again", "neg"),
                                                                  ("staff", "pos")]
    assert segments(None, spans) == [] and segments("", spans) == []


@pytest.mark.parametrize("module", ["frankly.dashboard.session", "frankly.dashboard.text"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    failed, attempted = doctest.testmod(importlib.import_module(module))
    assert attempted > 0 and failed == 0


def test_session_cookies_need_the_servers_secret() -> None:
    a, b = sess.Signer(b"a" * 32), sess.Signer(b"b" * 32)
    cookie = a.issue("key1")
    assert a.read(cookie).key_id == "key1" and b.read(cookie) is None
    session = a.read(cookie)
    assert a.check_csrf(session, a.csrf(session)) and not a.check_csrf(session, b.csrf(session))
    assert not a.check_csrf(session, None)
    nonce = a.login_nonce()
    assert a.check_login(nonce, a.login_token(nonce))
    assert not a.check_login(nonce, b.login_token(nonce))
    assert not a.check_login(a.login_nonce(now=0.0), a.login_token(nonce))
    with pytest.raises(ValueError):
        sess.Signer(b"short")
