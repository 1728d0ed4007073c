"""``frankly serve --workers N``: N server processes, each on its own listening socket.

uvicorn's own supervisor binds one socket and shares it: whichever worker wakes first
accepts every connection then waiting, and a keep-alive connection stays with the worker
that accepted it. A client with a few busy connections (a collector posting batches) then
kept one worker busy and the others idle (measured: 4 connections posting batches of 500
items to ``--workers 2``: one worker did 9 s of CPU, the other none). Here each worker binds
its own socket with ``SO_REUSEPORT``, and the kernel spreads new connections over the
workers' sockets by a hash of their addresses.

The parent only supervises: it restarts a worker that dies after it started serving, stops
everything if one dies at start (a bad port or app would fail every time), and on SIGINT or
SIGTERM asks every worker to finish its requests and exit. A worker whose parent is gone
(killed with SIGKILL) shuts itself down instead of serving on unsupervised.

Where the platform has no ``SO_REUSEPORT`` (Windows), uvicorn's shared socket is used.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from typing import Any

from frankly.errors import FranklyError

log = logging.getLogger("frankly.service")

# The app each worker builds, from the settings the parent puts in its environment.
APP = "frankly.service.app:app_from_environment"
# A worker that exits within this many seconds of its start failed to start: stop, since a
# restart would fail the same way.
STARTUP_SECONDS = 10.0
# How long the workers get to finish their requests after SIGINT or SIGTERM.
GRACE_SECONDS = 30.0
# How often a worker checks that its parent is alive, and the parent its workers.
POLL_SECONDS = 0.5


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT") and os.name == "posix"


def _bound_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``host:port``. Its protocol is IPPROTO_TCP, so asyncio sets
    TCP_NODELAY on the connections it accepts (with ``proto`` 0, as uvicorn creates them,
    every answer waited ~40 ms on Nagle's algorithm and a delayed ACK)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """:func:`_bound_socket`, listening and inheritable by a worker process."""
    sock = _bound_socket(host, port, reuse_port=reuse_port)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, log_level: str) -> None:  # pragma: no cover - subprocess
    """One worker process: its own socket, one uvicorn server, gone with its parent."""
    import uvicorn

    parent = os.getppid()
    config = uvicorn.Config(APP, factory=True, access_log=False, log_level=log_level)
    config.configure_logging()
    sock = listening_socket(host, port, reuse_port=True)

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass


def run_workers(uvicorn: Any, *, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve with ``workers`` processes until SIGINT or SIGTERM."""
    if not reuse_port_available():
        return _run_shared(uvicorn, host=host, port=port, workers=workers,
                           log_level=log_level)
    if port == 0:
        raise ValueError("--workers needs a fixed --port: each worker binds it")
    # Bind once here so a port in use fails now, in one line; the probe never listens, so
    # it takes no connection from the workers' sockets.
    try:
        _bound_socket(host, port, reuse_port=True).close()
    except OSError as exc:
        raise FranklyError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                           f"(choose another --port or --host)") from None

    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[Any, float]:
        process = context.Process(target=_worker, args=(host, port, log_level), daemon=False)
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    failed: str | None = None
    try:
        while not stop.wait(POLL_SECONDS):
            for i, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if time.monotonic() - started < STARTUP_SECONDS:
                    failed = (f"a server process exited at start (code {process.exitcode}); "
                              f"see its messages above")
                    stop.set()
                    break
                log.warning("server process %s exited (code %s); starting another",
                            process.pid, process.exitcode)
                running[i] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes its requests, then exits
        deadline = time.monotonic() + GRACE_SECONDS
        for process, _ in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise FranklyError(failed)


def _run_shared(uvicorn: Any, *, host: str, port: int, workers: int, log_level: str) -> None:
    """uvicorn's supervisor and its one shared socket (platforms without SO_REUSEPORT)."""
    import inspect

    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(APP, factory=True, access_log=False, log_level=log_level,
                            host=host, port=port, workers=workers)
    sock = listening_socket(host, port, reuse_port=False)
    extra = {}
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.36
        extra["target"] = uvicorn.Server(config).run
    try:
        Multiprocess(config, sockets=[sock], **extra).run()
    except KeyboardInterrupt:
        pass
