"""Counters and latency histograms in the Prometheus text format (no client library).

Labels are route templates ("/v1/subjects/{subject_id}"), never raw paths, so no subject
id or other request data ends up in a metric.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import defaultdict

# Request latency buckets in seconds: from the fast model's ~1 ms to a large batch.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._latency: dict[tuple[str, str], list[int]] = {}
        self._latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self.counters: dict[str, int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, status)] += 1
            counts = self._latency.get((method, route))
            if counts is None:
                counts = self._latency[(method, route)] = [0] * (len(BUCKETS) + 1)
            counts[bisect_left(BUCKETS, seconds)] += 1
            self._latency_sum[(method, route)] += seconds

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] += n

    def render(self, gauges: dict[str, float] | None = None) -> str:
        lines = ["# HELP frankly_http_requests_total HTTP requests by route and status.",
                 "# TYPE frankly_http_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self._requests.items()):
                lines.append(f'frankly_http_requests_total{{method="{method}",'
                             f'route="{_escape(route)}",status="{status}"}} {n}')
            lines += ["# HELP frankly_http_request_seconds Time to answer a request.",
                      "# TYPE frankly_http_request_seconds histogram"]
            for (method, route), counts in sorted(self._latency.items()):
                labels = f'method="{method}",route="{_escape(route)}"'
                total = 0
                for bound, n in zip((*BUCKETS, float("inf")), counts):
                    total += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(f'frankly_http_request_seconds_bucket{{{labels},le="{le}"}} '
                                 f'{total}')
                lines.append(f"frankly_http_request_seconds_sum{{{labels}}} "
                             f"{self._latency_sum[(method, route)]:.6f}")
                lines.append(f"frankly_http_request_seconds_count{{{labels}}} {total}")
            for name, n in sorted(self.counters.items()):
                lines += [f"# TYPE frankly_{name}_total counter", f"frankly_{name}_total {n}"]
        for name, value in sorted((gauges or {}).items()):
            lines += [f"# TYPE frankly_{name} gauge", f"frankly_{name} {value:g}"]
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
