"""The service's fast paths (measured in benchmarks/service.py) keep its behaviour: a
cached key is still checked, small analyses on the event loop still run one at a time,
and `frankly serve --workers N` runs one listening socket per worker (so connections
spread over them) that answers without Nagle's delay."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

import anyio  # noqa: E402

from frankly.config import ServiceSettings  # noqa: E402
from frankly.service import app as service_app  # noqa: E402
from frankly.service import auth  # noqa: E402
from frankly.service.metrics import Metrics  # noqa: E402
from frankly.store import open_store  # noqa: E402


@pytest.fixture()
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'frankly.db'}")
    yield s
    s.close()


def test_a_key_is_served_from_the_cache_only_once_verified(store, monkeypatch):
    key, secret = store.create_key(name="t", scopes=("read",))
    ring = auth.KeyRing(store, 10.0)
    header = f"Bearer {secret}"
    assert ring.cached(header) is None  # never seen: the store must be asked
    caller = ring.authenticate(header)
    assert ring.cached(header) == caller
    for bad in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(auth.AuthError):
            ring.cached(bad)
    with pytest.raises(auth.AuthError):
        ring.authenticate("Bearer not-a-key")
    with pytest.raises(auth.AuthError):  # a known-unknown key is refused from the cache too
        ring.cached("Bearer not-a-key")

    store.revoke_key(key.id)
    later = time.monotonic() + auth.KEY_CACHE_SECONDS + 1
    monkeypatch.setattr(auth.time, "monotonic", lambda: later)
    assert ring.cached(header) is None  # expired: back to the store, which refuses it
    with pytest.raises(auth.AuthError):
        ring.authenticate(header)


def test_a_key_due_its_last_used_time_goes_to_the_store(store, monkeypatch):
    _, secret = store.create_key(name="t", scopes=("read",))
    ring = auth.KeyRing(store, 10.0)
    header = f"Bearer {secret}"
    caller = ring.authenticate(header)
    ring._touched[caller.key_id] -= auth.TOUCH_EVERY_SECONDS
    assert ring.cached(header) is None  # a write is due: not on the event loop


def _state() -> service_app.State:
    return service_app.State(settings=ServiceSettings(), analyzer=None, store=None,
                             ingestor=None, keys=None, metrics=Metrics(),
                             limiter=anyio.CapacityLimiter(service_app.ANALYSIS_THREADS))


def test_small_cheap_analyses_run_on_the_event_loop_and_others_in_the_thread():
    state = _state()

    async def main() -> None:
        loop = threading.get_ident()
        where = threading.get_ident
        assert await state.analyse(where, chars=10) != loop  # nothing learnt yet
        assert state.small_seconds is not None
        assert await state.analyse(where, chars=10) == loop  # small and cheap
        assert await state.analyse(where, chars=service_app.INLINE_MAX_CHARS + 1) != loop
        assert await state.analyse(where) != loop  # no size given (ingestion)
        state.small_seconds = 1.0  # small requests got slow: back to the thread
        assert await state.analyse(where, chars=10) != loop

    anyio.run(main)


def test_an_analysis_on_the_event_loop_waits_for_the_one_in_the_thread():
    state = _state()
    state.small_seconds = 0.0
    spans: dict[str, tuple[float, float]] = {}

    def work(name: str, seconds: float) -> None:
        start = time.perf_counter()
        time.sleep(seconds)
        spans[name] = (start, time.perf_counter())

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: state.analyse(work, "big", 0.2))
            await anyio.sleep(0.05)  # the big one holds the analysis slot
            tg.start_soon(lambda: state.analyse(work, "small", 0.0, chars=10))

    anyio.run(main)
    assert spans["small"][0] >= spans["big"][1]


def test_worker_sockets_are_ones_asyncio_sets_tcp_nodelay_on():
    from frankly.service.workers import listening_socket

    listener = listening_socket("127.0.0.1", 0, reuse_port=False)
    try:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        accepted, _ = listener.accept()
        # asyncio sets TCP_NODELAY only on accepted sockets whose proto is IPPROTO_TCP
        assert accepted.proto == socket.IPPROTO_TCP
        accepted.close()
        client.close()
    finally:
        listener.close()


def _listeners(port: int) -> int:
    """Listening TCP sockets on ``port`` (Linux /proc/net/tcp: state 0A is LISTEN)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            count += 1
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists() or not hasattr(socket, "SO_REUSEPORT"),
                    reason="needs Linux (SO_REUSEPORT and /proc/net/tcp)")
def test_serve_workers_each_listen_and_share_the_connections(tmp_path):
    import httpx

    port = _free_port()
    env = dict(os.environ, FRANKLY_HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    env.pop("FRANKLY_SERVE_SETTINGS", None)
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "frankly", "serve", "--model", "fast", "--workers", "2",
             "--port", str(port), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while _listeners(port) < 2:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # Two workers, two listening sockets: the kernel spreads connections over them
        # (uvicorn's one shared socket let the first worker to wake take them all).
        assert _listeners(port) == 2
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False,
                                timeout=30) for _ in range(8)]
        try:
            for c in clients:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        assert c.get("/health").json()["status"] == "ok"
                        break
                    except httpx.HTTPError:
                        assert time.monotonic() < deadline, log.read_text()
                        time.sleep(0.2)
        finally:
            for c in clients:
                c.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, log.read_text()
        assert _listeners(port) == 0  # the workers went with it
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
