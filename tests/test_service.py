"""The REST service end to end, in process: keys, analysis, ingestion with redaction,
listing, stats, overrides and their audit trail, export and erasure, the use policy."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402

import frankly  # noqa: E402
from frankly.config import ServiceSettings  # noqa: E402
from frankly.service import create_app  # noqa: E402
from frankly.store import open_store  # noqa: E402

EMAIL_TEXT = "Refund never arrived, write to me at jane.doe@example.com or call +1 415 555 2671"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def analyzer():
    return frankly.load("fast")


@pytest.fixture()
def service(url, analyzer):
    # Every service test runs on SQLite and on PostgreSQL (``url`` in conftest.py).
    store = open_store(url)
    settings = ServiceSettings(database_url=store.url, max_texts_per_request=20,
                               max_chars_per_text=500, max_body_bytes=64_000,
                               retention_days=None)
    app = create_app(settings, analyzer=analyzer, store=store)
    keys = {scope: store.create_key(name=f"{scope}-test", scopes=(scope,))[1]
            for scope in ("read", "write", "admin")}
    with TestClient(app) as client:
        yield Service(client, store, keys)
    store.close()


class Service:
    def __init__(self, client: TestClient, store, keys: dict[str, str]) -> None:
        self.client = client
        self.store = store
        self.keys = keys

    def call(self, method: str, path: str, scope: str = "admin", **kw):
        headers = {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kw)

    def ingest(self, items: list[dict], scope: str = "write"):
        return self.call("POST", "/v1/feedback", scope, json={"items": items})


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    return body["error"]["code"]


# -- access ----------------------------------------------------------------------------------

def test_health_needs_no_key_and_says_what_runs(service):
    r = service.client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["database"] == "ok"
    assert r.json()["model"].startswith("frankly-fast")


@pytest.mark.parametrize("method,path", [
    ("POST", "/v1/analyze"), ("POST", "/v1/feedback"), ("GET", "/v1/feedback"),
    ("GET", "/v1/stats"), ("GET", "/metrics"), ("GET", "/v1/subjects/s1/export"),
    ("DELETE", "/v1/subjects/s1"), ("PATCH", "/v1/feedback/x"), ("GET", "/v1/audit")])
def test_every_endpoint_but_health_needs_a_key(service, method, path):
    r = service.call(method, path, scope=None, json={})
    assert r.status_code == 401
    assert error_code(r) == "unauthorized"
    assert "Bearer" in r.json()["error"]["message"]
    bad = service.client.request(method, path, json={},
                                 headers={"Authorization": "Bearer fk_not-a-real-key"})
    assert bad.status_code == 401


def test_scopes_nest_and_say_which_is_missing(service):
    r = service.ingest([{"text": "fine"}], scope="read")
    assert r.status_code == 403 and error_code(r) == "insufficient_scope"
    assert "'write'" in r.json()["error"]["message"]
    assert service.ingest([{"text": "fine"}], scope="admin").status_code == 200
    assert service.call("GET", "/v1/audit", "write").status_code == 403
    assert service.call("POST", "/v1/analyze", "read", json={"texts": ["ok"]}).status_code == 200


def test_a_revoked_key_stops_working(service):
    key, secret = service.store.create_key(name="temp", scopes=("read",))
    service.keys["temp"] = secret
    assert service.call("GET", "/v1/policy", "temp").status_code == 200
    service.store.revoke_key(key.id)
    service.client.app.state.frankly.keys._cache.clear()  # skip the few seconds of cache
    assert service.call("GET", "/v1/policy", "temp").status_code == 401


def test_rate_limit_answers_429_with_retry_after(service):
    _, secret = service.store.create_key(name="slow", scopes=("read",), rate_limit=1.0)
    service.keys["slow"] = secret
    codes = [service.call("GET", "/v1/policy", "slow").status_code for _ in range(5)]
    assert codes[0] == 200 and codes[-1] == 429
    r = service.call("GET", "/v1/policy", "slow")
    assert error_code(r) == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    # Other keys are not slowed by it.
    assert service.call("GET", "/v1/policy", "read").status_code == 200


# -- analysis ----------------------------------------------------------------------------------

def test_analyze_returns_one_result_per_text_in_order(service):
    texts = ["Support was wonderful, thank you!", "The parcel arrived broken and late.", ""]
    r = service.call("POST", "/v1/analyze", "read", json={"texts": texts})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["text"] for x in results] == texts
    assert results[0]["label"] == "positive" and results[1]["label"] == "negative"
    assert results[2]["needs_review"] and results[2]["review_reason"]
    assert abs(sum(results[0]["scores"].values()) - 1) < 1e-6
    assert service.store.count_items() == 0  # analysis stores nothing


def test_analyze_targets_and_per_text_errors(service):
    long = "great " * 200
    r = service.call("POST", "/v1/analyze", "read",
                     json={"texts": ["The battery is awful", long], "targets": ["battery"]})
    first, second = r.json()["results"]
    assert [a["term"] for a in first["aspects"] if a["source"] == "target"] == ["battery"]
    assert second["error"] and "limit is 500" in second["error"] and r.json()["failed"] == 1


def test_request_limits_are_clear_errors(service):
    r = service.call("POST", "/v1/analyze", "read", json={"texts": ["a"] * 21})
    assert r.status_code == 413 and error_code(r) == "too_many_texts"
    assert "limit is 20" in r.json()["error"]["message"]
    r = service.call("POST", "/v1/analyze", "read", json={"texts": ["x" * 70_000]})
    assert r.status_code == 413 and error_code(r) == "request_too_large"
    r = service.call("POST", "/v1/analyze", "read", json={"texts": "not a list"})
    assert r.status_code == 422 and error_code(r) == "invalid_request"
    assert "texts" in r.json()["error"]["message"]
    r = service.call("POST", "/v1/analyze", "read", content=b"{not json",
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and error_code(r) == "invalid_request"
    r = service.call("GET", "/v1/nowhere")
    assert r.status_code == 404 and error_code(r) == "not_found"


# -- ingestion, redaction ------------------------------------------------------------------------

def test_ingest_is_idempotent_on_the_client_id(service):
    items = [{"id": "t-1", "text": "Great blender", "source": "reviews"},
             {"id": "t-2", "text": "The courier lost my parcel", "source": "email"}]
    r = service.ingest(items)
    assert r.json()["created"] == 2 and [i["status"] for i in r.json()["items"]] == [
        "created", "created"]
    again = service.ingest(items + [{"id": "t-3", "text": "ok"}])
    assert [i["status"] for i in again.json()["items"]] == ["duplicate", "duplicate", "created"]
    assert service.store.count_items() == 3


def test_a_bad_item_fails_alone_with_a_reason(service):
    r = service.ingest([{"id": "ok-1", "text": "Lovely staff"},
                        {"id": "long-1", "text": "word " * 200},
                        {"id": "bad-date", "text": "fine", "created_at": "yesterday-ish"}])
    assert r.status_code == 200
    statuses = {i["id"]: i for i in r.json()["items"]}
    assert statuses["ok-1"]["status"] == "created"
    assert statuses["long-1"]["status"] == "failed"
    assert "limit is 500" in statuses["long-1"]["error"]["message"]
    assert statuses["bad-date"]["status"] == "failed"
    assert "ISO 8601" in statuses["bad-date"]["error"]["message"]
    assert service.store.count_items() == 1


def test_personal_data_is_redacted_before_it_is_stored(service):
    r = service.ingest([{"id": "pii", "text": EMAIL_TEXT, "subject_id": "cust-42",
                         "metadata": {"reply_to": "jane.doe@example.com", "channel": "web"}}])
    assert r.json()["created"] == 1
    item = service.call("GET", "/v1/feedback/pii", "read").json()
    assert "jane.doe" not in item["text"] and "[EMAIL]" in item["text"]
    assert "555" not in item["text"] and "[PHONE]" in item["text"]
    assert item["metadata"] == {"reply_to": "[EMAIL]", "channel": "web"}
    assert item["text_chars"] == len(EMAIL_TEXT)
    for span in item["evidence"] + item["aspects"]:  # offsets point into the stored text
        if span.get("start") is not None:
            snippet = span.get("text", span.get("term"))
            assert item["text"][span["start"]:span["end"]] == snippet
    # The analysis ran on the original text: the same label as analysing it directly.
    direct = service.call("POST", "/v1/analyze", "read", json={"texts": [EMAIL_TEXT]})
    assert item["model"]["label"] == direct.json()["results"][0]["label"]
    if service.store.dialect != "sqlite":
        return
    # Nothing in the database file holds the address or the raw subject id.
    path = service.store.url.removeprefix("sqlite:///")
    raw = b"".join(open(p, "rb").read() for p in (path, path + "-wal")
                   if os.path.exists(p))  # WAL: fresh rows sit in the -wal file
    assert b"[EMAIL]" in raw  # the stored row was read
    assert b"jane.doe" not in raw and b"cust-42" not in raw


def test_store_text_false_keeps_scores_and_metadata_only(tmp_path, analyzer):
    store = open_store(f"sqlite:///{tmp_path / 'notext.db'}")
    settings = ServiceSettings(database_url=store.url, store_text=False,
                               retention_days=None)
    _, key = store.create_key(name="w", scopes=("admin",))
    with TestClient(create_app(settings, analyzer=analyzer, store=store)) as client:
        auth = {"Authorization": f"Bearer {key}"}
        client.post("/v1/feedback", headers=auth, json={"items": [
            {"id": "n1", "text": "The waiter Tom was rude and the soup was cold"}]})
        item = client.get("/v1/feedback/n1", headers=auth).json()
    assert item["text"] is None and item["label"] == "negative"
    assert all("text" not in e and "start" not in e for e in item["evidence"])
    assert all("term" not in a and a["category"] for a in item["aspects"])
    store.close()


def test_logs_never_hold_feedback_text(service, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Zanzibar-pineapple-unique-phrase"
    service.ingest([{"id": "log-1", "text": f"{secret} was terrible", "subject_id": "p-9"}])
    service.call("POST", "/v1/analyze", "read", json={"texts": [secret]})
    service.call("GET", "/v1/subjects/p-9/export")
    service.call("POST", "/v1/feedback", "write", json={"items": [{"txt": secret}]})
    logged = "\n".join(r.getMessage() for r in caplog.records
                        if r.name.startswith(("frankly", "uvicorn")))
    assert secret not in logged and "p-9" not in logged


def test_no_outbound_network_connection(service, monkeypatch):
    attempts = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") \
                and self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("blocked by the test: no outbound connections")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection",
                        lambda *a, **k: attempts.append(a) or (_ for _ in ()).throw(OSError()))
    service.ingest([{"id": "net", "text": "Visit https://shop.example.com/?token=abc123 now"}])
    service.call("POST", "/v1/analyze", "read", json={"texts": ["hello there"]})
    service.call("GET", "/v1/stats")
    assert attempts == []


# -- listing, stats ------------------------------------------------------------------------------

def _seed(service, n: int = 30) -> None:
    items = []
    for i in range(n):
        good = i % 3 == 0
        items.append({"id": f"s-{i}", "text": "Great service, thank you" if good
                      else "Terrible, the parcel never arrived",
                      "source": "reviews" if i % 2 else "email", "brand": "acme",
                      "created_at": (NOW - timedelta(days=i % 5)).isoformat()})
    for i in range(0, n, 10):
        assert service.ingest(items[i:i + 10]).json()["created"] == 10


def test_list_filters_and_cursor_pages_cover_every_item_once(service):
    _seed(service)
    seen = []
    cursor = None
    while True:
        params = {"limit": 7, "source": "reviews"}
        if cursor:
            params["cursor"] = cursor
        page = service.call("GET", "/v1/feedback", "read", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 15
    negative = service.call("GET", "/v1/feedback", "read",
                            params={"label": "negative", "limit": 500}).json()["items"]
    assert negative and all(i["label"] == "negative" for i in negative)
    r = service.call("GET", "/v1/feedback", "read", params={"cursor": "garbage!!"})
    assert r.status_code == 422 and error_code(r) == "invalid_input"


def test_stats_give_shares_with_95_percent_intervals(service):
    _seed(service)
    r = service.call("GET", "/v1/stats", "read", params={"interval": "week", "by": "label"})
    assert r.status_code == 200
    buckets = r.json()["buckets"]
    assert sum(b["total"] for b in buckets) == 30
    for bucket in buckets:
        for group in bucket["groups"]:
            assert group["ci_low"] <= group["share"] <= group["ci_high"]
            assert group["share"] == pytest.approx(group["count"] / bucket["total"])
    by_source = service.call("GET", "/v1/stats", "read", params={"by": "source"}).json()
    keys = {g["key"] for b in by_source["buckets"] for g in b["groups"]}
    assert keys == {"reviews", "email"}


# -- overrides -------------------------------------------------------------------------------------

def test_override_keeps_the_model_output_and_is_audited(service):
    service.ingest([{"id": "o-1", "text": "Terrible, the parcel never arrived"}])
    r = service.call("PATCH", "/v1/feedback/o-1", "write",
                     json={"label": "neutral", "urgent": True, "reason": "courier's fault"})
    assert r.status_code == 200
    item = r.json()
    assert item["label"] == "neutral" and item["urgent"] is True and item["overridden"]
    assert item["model"]["label"] == "negative"
    trail = service.call("GET", "/v1/feedback/o-1/audit", "read").json()["entries"]
    fields = {e["field"]: e for e in trail}
    assert fields["label"]["before"] == "negative" and fields["label"]["after"] == "neutral"
    assert fields["label"]["reason"] == "courier's fault"
    assert "write-test" in fields["label"]["actor"] and fields["label"]["at"]
    assert service.call("GET", "/v1/audit").json()["entries"]
    # The stats follow the person's label.
    stats = service.call("GET", "/v1/stats", "read").json()["buckets"]
    labels = {g["key"]: g["count"] for b in stats for g in b["groups"]}
    assert labels.get("neutral") == 1 and not labels.get("negative")


def test_override_errors(service):
    r = service.call("PATCH", "/v1/feedback/missing", "write",
                     json={"label": "neutral", "reason": "x"})
    assert r.status_code == 404 and error_code(r) == "not_found"
    service.ingest([{"id": "o-2", "text": "ok"}])
    r = service.call("PATCH", "/v1/feedback/o-2", "write", json={"label": "angry", "reason": "x"})
    assert r.status_code == 422
    r = service.call("PATCH", "/v1/feedback/o-2", "write", json={"label": "neutral"})
    assert r.status_code == 422 and "reason" in r.json()["error"]["message"]
    r = service.call("PATCH", "/v1/feedback/o-2", "write", json={"reason": "nothing"})
    assert r.status_code == 422 and "nothing to change" in r.json()["error"]["message"]


# -- subjects ---------------------------------------------------------------------------

def test_export_and_erase_one_person(service):
    service.ingest([{"id": "p-1", "text": "Late again", "subject_id": "alice"},
                    {"id": "p-2", "text": "Now it works", "subject_id": "alice"},
                    {"id": "p-3", "text": "Fine", "subject_id": "bob"}])
    service.call("PATCH", "/v1/feedback/p-1", "write", json={"urgent": True, "reason": "vip"})
    export = service.call("GET", "/v1/subjects/alice/export").json()
    assert sorted(i["id"] for i in export["items"]) == ["p-1", "p-2"]
    assert export["overrides"] and export["overrides"][0]["item_id"] == "p-1"
    assert service.call("GET", "/v1/subjects/alice/export", "write").status_code == 403
    r = service.call("DELETE", "/v1/subjects/alice")
    assert r.json() == {"erased_items": 2}
    assert service.call("GET", "/v1/subjects/alice/export").json()["items"] == []
    assert service.call("GET", "/v1/feedback/p-1", "read").status_code == 404
    assert service.call("GET", "/v1/feedback/p-3", "read").status_code == 200
    assert service.call("GET", "/v1/audit").json()["entries"] == []


# -- use policy -------------------------------------------------------------------------

def test_no_per_person_results_about_employees_or_students(service):
    r = service.call("POST", "/v1/analyze", "read",
                     json={"texts": ["My manager is unfair"], "subject_kind": "employee"})
    assert r.status_code == 403 and error_code(r) == "policy_refused"
    assert "aggregate" in r.json()["error"]["message"]
    items = [{"id": f"e-{i}", "text": "The canteen food is bad", "subject_kind": "employee",
              "subject_id": f"emp-{i % 4}", "created_at": NOW.isoformat()} for i in range(8)]
    assert service.ingest(items).json()["created"] == 8  # stored for aggregates only
    assert service.call("GET", "/v1/feedback/e-1", "read").status_code == 403
    r = service.call("GET", "/v1/feedback", "read", params={"subject_kind": "employee"})
    assert r.status_code == 403
    listed = service.call("GET", "/v1/feedback", "read").json()["items"]
    assert not any(i["id"].startswith("e-") for i in listed)
    assert service.call("PATCH", "/v1/feedback/e-1", "write",
                        json={"label": "neutral", "reason": "x"}).status_code == 403
    r = service.call("GET", "/v1/subjects/emp-1/export")
    assert r.status_code == 403 and "scores=false" in r.json()["error"]["message"]
    plain = service.call("GET", "/v1/subjects/emp-1/export", params={"scores": "false"}).json()
    assert plain["items"] and all("label" not in i and "model" not in i for i in plain["items"])
    # Four distinct employees are fewer than k = 10: the period is suppressed.
    stats = service.call("GET", "/v1/stats", "read",
                         params={"subject_kind": "employee"}).json()["buckets"]
    assert stats and all(b["suppressed"] and b["total"] is None for b in stats)


def test_aggregates_over_enough_employees_are_served(service):
    items = [{"id": f"k-{i}", "text": "The canteen food is bad", "subject_kind": "employee",
              "subject_id": f"emp-{i}", "created_at": NOW.isoformat()} for i in range(12)]
    assert service.ingest(items[:6]).json()["created"] == 6
    assert service.ingest(items[6:]).json()["created"] == 6
    stats = service.call("GET", "/v1/stats", "read",
                         params={"subject_kind": "employee"}).json()["buckets"]
    assert [b["total"] for b in stats] == [12] and not stats[0]["suppressed"]


def test_policy_and_metrics_endpoints(service):
    policy = service.call("GET", "/v1/policy", "read").json()
    assert "employee" in policy["protected_subject_kinds"] and policy["policy"]
    service.call("POST", "/v1/analyze", "read", json={"texts": ["ok"]})
    text = service.call("GET", "/metrics", "read").text
    assert 'frankly_http_requests_total{method="POST",route="/v1/analyze",status="200"}' in text
    assert "frankly_texts_analyzed_total" in text
    service.call("GET", "/v1/subjects/someone-secret/export")
    assert "someone-secret" not in service.call("GET", "/metrics", "read").text


def test_openapi_documents_the_versioned_endpoints(service):
    schema = service.client.get("/openapi.json").json()
    for path in ("/v1/analyze", "/v1/feedback", "/v1/stats", "/v1/feedback/{item_id}",
                 "/v1/subjects/{subject_id}/export", "/health", "/metrics"):
        assert path in schema["paths"]
    assert service.client.get("/docs").status_code == 200


def test_an_unexpected_error_is_a_json_500_and_its_message_is_not_logged(tmp_path, caplog):
    class Broken:
        class model:
            id = "broken 0"

        def analyze_many(self, texts, **kw):
            raise RuntimeError(f"could not read {list(texts)}")

    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    _, key = store.create_key(name="a", scopes=("admin",))
    app = create_app(ServiceSettings(database_url=store.url, retention_days=None),
                     analyzer=Broken(), store=store)
    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v1/analyze", headers={"Authorization": f"Bearer {key}"},
                        json={"texts": ["my secret complaint"]})
    assert r.status_code == 500 and error_code(r) == "internal_error"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "my secret complaint" not in logged
    store.close()


def test_retention_purges_old_items_at_start(tmp_path, analyzer):
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    _, key = store.create_key(name="a", scopes=("admin",))
    auth = {"Authorization": f"Bearer {key}"}
    old = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat()
    settings = ServiceSettings(database_url=store.url, retention_days=None)
    with TestClient(create_app(settings, analyzer=analyzer, store=store)) as client:
        client.post("/v1/feedback", headers=auth, json={"items": [
            {"id": "old", "text": "Slow delivery", "created_at": old, "subject_id": "x"},
            {"id": "new", "text": "Quick delivery"}]})
    assert store.count_items() == 2
    settings = ServiceSettings(database_url=store.url, retention_days=30)
    with TestClient(create_app(settings, analyzer=analyzer, store=store)) as client:
        for _ in range(50):  # the purge runs in the background at start
            if store.count_items() == 1:
                break
            time.sleep(0.05)
        assert client.get("/v1/feedback/old", headers=auth).status_code == 404
        assert client.get("/v1/feedback/new", headers=auth).status_code == 200
    assert store.export_subject("x")["items"] == []
    store.close()


def test_a_request_can_turn_steps_off_for_speed(service):
    text = "The waiter was rude. The pasta was great."
    full = service.call("POST", "/v1/analyze", "read", json={"texts": [text]}).json()
    quick = service.call("POST", "/v1/analyze", "read", json={
        "texts": [text], "evidence": False, "sentences": False, "aspects": False}).json()
    f, q = full["results"][0], quick["results"][0]
    assert f["evidence"] and f["sentences"] and f["aspects"]
    assert q["evidence"] == [] and q["sentences"] == [] and q["aspects"] == []
    assert q["urgency"] is not None and set(q["scores"]) == set(f["scores"])
    r = service.call("POST", "/v1/analyze", "read",
                     json={"texts": [text], "targets": ["pasta"], "aspects": False})
    assert r.status_code == 422 and "targets need aspects" in r.json()["error"]["message"]


def test_concurrent_requests_share_model_calls_and_keep_their_own_results(tmp_path, analyzer):
    from concurrent.futures import ThreadPoolExecutor

    calls: list[int] = []

    class Spy:
        """The fast Analyzer, slowed a little so requests pile up, counting its calls."""

        def __init__(self, inner):
            self.inner = inner
            self.model = inner.model

        def analyze_many(self, texts, **kw):
            texts = list(texts)
            calls.append(len(texts))
            time.sleep(0.05)
            return self.inner.analyze_many(texts, **kw)

        def without(self, **kw):
            return self

    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    _, key = store.create_key(name="a", scopes=("admin",), rate_limit=10_000)
    texts = [f"Order {i} arrived {'late and broken' if i % 2 else 'early, great'}"
             for i in range(24)]
    app = create_app(ServiceSettings(database_url=store.url, retention_days=None),
                     analyzer=Spy(analyzer), store=store)
    with TestClient(app) as client:
        def post(text):
            r = client.post("/v1/analyze", headers={"Authorization": f"Bearer {key}"},
                            json={"texts": [text]})
            return r.json()["results"][0]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(post, texts))
    assert [r["text"] for r in results] == texts  # each request gets its own text back
    assert all(r["label"] == ("negative" if i % 2 else "positive")
               for i, r in enumerate(results))
    assert sum(calls) == len(texts) and len(calls) < len(texts)  # some calls were shared
    store.close()
