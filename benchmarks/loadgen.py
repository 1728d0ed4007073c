"""Load generators for benchmarks/service.py: Debian's wrk for closed loops, and our own
small HTTP/1.1 client on asyncio streams (keep-alive, no dependencies) for open loops at a
fixed rate and for the requests wrk cannot make (feedback batches, stats).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
OPEN_LOOP_MAX_CONNECTIONS = 256  # beyond that, requests wait for a free connection
# An open loop stops sending once this many seconds' worth of requests are unanswered (the
# server is overloaded; the row says so), and waits at most OPEN_LOOP_DRAIN_S for them.
OPEN_LOOP_MAX_BACKLOG_S = 5.0
OPEN_LOOP_DRAIN_S = 30.0


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in latencies_s]
    return {"p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else float("nan"),
            "mean_ms": statistics.fmean(ms) if ms else float("nan")}


def wrk_version() -> str | None:
    path = shutil.which("wrk")
    if path is None:
        return None
    proc = subprocess.run([path, "-v"], capture_output=True, text=True)
    first = (proc.stdout + proc.stderr).strip().splitlines()[:1]
    return first[0].split(" Copyright")[0] if first else "wrk"


# -- our own HTTP/1.1 client (asyncio streams, keep-alive, no dependencies) ---------------

def http_request(method: str, path: str, port: int, key: str | None = None,
                 body: bytes | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        reader, writer = await asyncio.open_connection(HOST, port, limit=2 ** 22)
        return cls(reader, writer)

    async def send(self, payload: bytes) -> tuple[int, bytes]:
        self.writer.write(payload)
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        status = int(line.split(b" ", 2)[1])
        length = 0
        while True:
            header = await self.reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ConnectionError("chunked responses are not handled by this client")
        return status, (await self.reader.readexactly(length) if length else b"")

    def close(self) -> None:
        self.writer.close()


async def one_request(port: int, payload: bytes) -> tuple[int, bytes]:
    conn = await Connection.open(port)
    try:
        return await conn.send(payload)
    finally:
        conn.close()


async def closed_loop_py(port: int, payloads: list[bytes], connections: int,
                         duration: float) -> dict[str, Any]:
    """Each connection sends its next request as soon as the last is answered."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    conns = [await Connection.open(port) for _ in range(connections)]
    stop = loop.time() + duration

    async def worker(k: int, conn: Connection) -> None:
        i = k
        while loop.time() < stop:
            t = time.perf_counter()
            status, _ = await conn.send(payloads[i % len(payloads)])
            latencies.append(time.perf_counter() - t)
            if status != 200:
                errors[str(status)] += 1
            i += connections

    start = loop.time()
    await asyncio.gather(*(worker(k, c) for k, c in enumerate(conns)))
    elapsed = loop.time() - start
    for c in conns:
        c.close()
    return {"requests": len(latencies), "seconds": elapsed,
            "requests_per_s": len(latencies) / elapsed, **summary_ms(latencies),
            "errors": dict(errors)}


async def open_loop(port: int, payloads: list[bytes], rate: float,
                    duration: float) -> dict[str, Any]:
    """Send request i at t0 + i / rate whatever the answers; latency from that time."""
    loop = asyncio.get_running_loop()
    n = max(1, int(rate * duration))
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(8):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    lateness: list[float] = []
    errors: Counter[str] = Counter()
    opened = idle.qsize()
    in_flight = 0
    backlog_limit = max(64, int(rate * OPEN_LOOP_MAX_BACKLOG_S))

    async def one(i: int, scheduled: float) -> None:
        nonlocal in_flight
        try:
            await send(i, scheduled)
        finally:
            in_flight -= 1

    async def send(i: int, scheduled: float) -> None:
        nonlocal opened
        lateness.append(loop.time() - scheduled)
        if idle.empty() and opened < OPEN_LOOP_MAX_CONNECTIONS:
            opened += 1
            conn = await Connection.open(port)
        else:  # wait for a connection; the wait counts in the latency
            conn = await idle.get()
        try:
            status, _ = await conn.send(payloads[i % len(payloads)])
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            errors[type(exc).__name__] += 1
            conn.close()
            opened -= 1
            return
        latencies.append(loop.time() - scheduled)
        idle.put_nowait(conn)
        if status != 200:
            errors[str(status)] += 1

    t0 = loop.time() + 0.05
    tasks = []
    overloaded_after = None
    for i in range(n):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight > backlog_limit:  # the server cannot keep up: stop, bounded in time
            overloaded_after = loop.time() - t0
            break
        in_flight += 1
        tasks.append(asyncio.create_task(one(i, scheduled)))
    _, pending = await asyncio.wait(tasks, timeout=OPEN_LOOP_DRAIN_S)
    for task in pending:
        task.cancel()
    elapsed = loop.time() - t0
    while not idle.empty():
        idle.get_nowait().close()
    return {"offered_per_s": rate, "requests": len(tasks), "planned": n,
            "overloaded_after_s": overloaded_after, "answered": len(latencies),
            "unanswered": len(pending), "seconds": elapsed,
            "answered_per_s": len(latencies) / elapsed, **summary_ms(latencies),
            "send_lateness_p99_ms": percentile(lateness, 99) * 1000,
            "connections_opened": opened, "errors": dict(errors)}


# -- wrk ----------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Written by benchmarks/service.py: POST one body per request, cycling through a file
-- of bodies (one per line); done() prints the numbers as one JSON line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies, n, i = {}, 0, 0
function init(args)
  for line in io.lines(args[1]) do n = n + 1; bodies[n] = line end
  i = tonumber(args[2] or "0") or 0
end
function request()
  i = i % n + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n', summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def closed_loop_wrk(port: int, key: str, bodies_file: Path, script: Path, connections: int,
                    duration: float) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
           "-s", str(script), "-H", f"Authorization: Bearer {key}",
           f"http://{HOST}:{port}/v1/analyze", "--", str(bodies_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    match = re.search(r"^WRKJSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-300:]}")
    w = json.loads(match.group(1))
    seconds = w["duration_us"] / 1e6
    errors = {k: w[k] for k in ("connect", "read", "write", "status", "timeout") if w[k]}
    if errors.pop("status", 0):
        errors["non-2xx"] = w["status"]
    return {"requests": w["requests"], "seconds": seconds,
            "requests_per_s": w["requests"] / seconds, "p50_ms": w["p50_us"] / 1000,
            "p90_ms": w["p90_us"] / 1000, "p99_ms": w["p99_us"] / 1000,
            "max_ms": w["max_us"] / 1000, "mean_ms": w["mean_us"] / 1000, "errors": errors}
