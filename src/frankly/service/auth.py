"""API keys, scopes and per-key rate limits.

Keys travel as ``Authorization: Bearer <key>``. Scopes nest: ``admin`` can do all that
``write`` can, and ``write`` all that ``read`` can. A verified key is remembered for
``KEY_CACHE_SECONDS`` so a busy client does not cost a database read per request; a
revoked key therefore stops working within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from frankly.errors import FranklyError

if TYPE_CHECKING:
    from frankly.store import Store

SCOPES = ("read", "write", "admin")
SCOPE_RANK = {name: rank for rank, name in enumerate(SCOPES)}
KEY_CACHE_SECONDS = 5.0
# last_used_at is a convenience for `frankly keys list`, not an audit record: writing it
# once a minute per key keeps a database write off the hot path of every request.
TOUCH_EVERY_SECONDS = 60.0
# Burst allowance, in seconds of the key's rate: a client may send this many seconds'
# worth of requests at once after a quiet spell.
BURST_SECONDS = 2.0
UNKNOWN_KEY = ("unknown or revoked API key: check it, or create a new one with 'frankly keys "
               "create'")


class AuthError(FranklyError):
    code = "unauthorized"
    status = 401


class ScopeError(FranklyError):
    code = "insufficient_scope"
    status = 403


class RateLimited(FranklyError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    """The key a request came with (never the secret itself)."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    rate_limit: float

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"key:{self.key_id} ({self.name})" if self.name else f"key:{self.key_id}"

    def allows(self, scope: str) -> bool:
        return max((SCOPE_RANK.get(s, -1) for s in self.scopes), default=-1) >= SCOPE_RANK[scope]


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class KeyRing:
    """Verifies keys against the store, with a short cache and a token bucket per key."""

    def __init__(self, store: Store, default_rate: float) -> None:
        self.store = store
        self.default_rate = default_rate
        self._cache: dict[str, tuple[float, Caller | None]] = {}
        self._by_id: dict[str, tuple[float, Caller | None]] = {}
        self._touched: dict[str, float] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def authenticate(self, header: str | None) -> Caller:
        """The caller of ``header``; may read the store (a cache miss) or write to it (the
        key's last-used time), so the service calls it in a worker thread."""
        secret = _secret(header)
        now = time.monotonic()
        entry = self._fresh(self._cache, secret, now)
        if entry is not None:
            caller = entry[1]
        else:
            caller = self._lookup(secret)
            if len(self._cache) > 10_000:  # bounded: guessed keys must not grow it forever
                self._cache.clear()
            self._cache[secret] = (now, caller)
        if caller is None:
            raise AuthError(UNKNOWN_KEY)
        if self._touch_due(caller, now):
            self._touched[caller.key_id] = now
            try:
                self.store.touch_key(caller.key_id)
            except Exception:  # a busy database must not fail the request over a timestamp
                pass
        return caller

    def cached(self, header: str | None) -> Caller | None:
        """The caller of ``header`` when that needs no database call (a fresh cache entry,
        no last-used time due), else None: then call :meth:`authenticate`. Raises AuthError
        as it does. Cheap enough for the event loop, which saves a busy client a hop to a
        worker thread per request."""
        now = time.monotonic()
        entry = self._fresh(self._cache, _secret(header), now)
        if entry is None:
            return None
        caller = entry[1]
        if caller is None:
            raise AuthError(UNKNOWN_KEY)
        return None if self._touch_due(caller, now) else caller

    @staticmethod
    def _fresh(cache: dict[str, tuple[float, Caller | None]], key: str,
               now: float) -> tuple[float, Caller | None] | None:
        entry = cache.get(key)
        return entry if entry is not None and now - entry[0] < KEY_CACHE_SECONDS else None

    def _touch_due(self, caller: Caller, now: float) -> bool:
        return now - self._touched.get(caller.key_id, -TOUCH_EVERY_SECONDS) >= TOUCH_EVERY_SECONDS

    def by_id(self, key_id: str) -> Caller | None:
        """The caller of the active key ``key_id`` (a dashboard session names its key by
        id), None when it is unknown or revoked; cached like :meth:`authenticate`, so a
        revoked key ends its sessions within ``KEY_CACHE_SECONDS``. May read the store:
        call it in a worker thread unless :meth:`cached_by_id` has the answer."""
        now = time.monotonic()
        entry = self._fresh(self._by_id, key_id, now)
        if entry is not None:
            return entry[1]
        key: Any = self.store.get_key(key_id)
        caller = None if key is None or not key.active else self._caller(key)
        if len(self._by_id) > 10_000:
            self._by_id.clear()
        self._by_id[key_id] = (now, caller)
        return caller

    def cached_by_id(self, key_id: str) -> tuple[bool, Caller | None]:
        """``(True, caller or None)`` when a fresh cache entry answers for ``key_id``."""
        entry = self._fresh(self._by_id, key_id, time.monotonic())
        return (True, entry[1]) if entry is not None else (False, None)

    def forget(self) -> None:
        """Drop every cached key (the next request reads the store)."""
        self._cache.clear()
        self._by_id.clear()

    def _lookup(self, secret: str) -> Caller | None:
        key: Any = self.store.find_key(secret)
        if key is None:
            return None
        return self._caller(key)

    def _caller(self, key: Any) -> Caller:
        rate = key.rate_limit if key.rate_limit else self.default_rate
        return Caller(key_id=key.id, name=key.name or "", scopes=tuple(key.scopes),
                      rate_limit=float(rate))

    def check_rate(self, caller: Caller) -> None:
        """Take one token from the caller's bucket, or raise RateLimited with the wait."""
        now = time.monotonic()
        rate = caller.rate_limit
        burst = max(1.0, rate * BURST_SECONDS)
        with self._lock:
            bucket = self._buckets.get(caller.key_id)
            if bucket is None:
                bucket = self._buckets[caller.key_id] = _Bucket(burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = (1.0 - bucket.tokens) / rate
        raise RateLimited(f"too many requests for this key (limit {rate:g} per second): "
                          f"retry after {wait:.2f} s, or ask an admin for a key with a higher "
                          f"--rate-limit", retry_after=wait)


def _secret(header: str | None) -> str:
    if not header:
        raise AuthError("this endpoint needs an API key: send 'Authorization: Bearer "
                        "<key>' (create a key with 'frankly keys create')")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise AuthError("the Authorization header must read 'Bearer <key>'")
    return secret


def require(caller: Caller, scope: str) -> None:
    if not caller.allows(scope):
        raise ScopeError(f"this endpoint needs the {scope!r} scope; this key has "
                         f"{', '.join(caller.scopes) or 'none'} (create one with "
                         f"'frankly keys create --scope {scope}')")
