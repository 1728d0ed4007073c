"""Dashboard sessions and CSRF tokens, signed with a server secret (standard library only).

A browser logs in with an API key; the service answers with a session cookie that names
the key's id (never the key), an expiry and a random nonce, signed with HMAC-SHA256 under
a secret kept in the database (``Store.secret``), so every process of ``frankly serve``
and every restart accepts it and nothing secret lives in the code. The service checks the
key again on each request, so revoking it ends its sessions.

Each form carries a CSRF token derived from the session's nonce (per session, checked on
every POST); the login form, which has no session yet, carries one derived from a
short-lived pre-login cookie instead (double submit, signed).

>>> signer = Signer(b"k" * 32)
>>> cookie = signer.issue("3f9a2c1d", now=1000.0, lifetime=60)
>>> signer.read(cookie, now=1030.0).key_id
'3f9a2c1d'
>>> signer.read(cookie, now=1061.0) is None  # expired
True
>>> signer.read("x" + cookie, now=1030.0) is None  # tampered
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

# A working day and then some: long enough not to interrupt a shift of triage, short
# enough that a forgotten browser does not stay logged in for days.
SESSION_SECONDS = 12 * 3600
# The pre-login cookie only has to outlive filling in one form.
LOGIN_SECONDS = 3600
SESSION_COOKIE = "frankly_session"
LOGIN_COOKIE = "frankly_login"


@dataclass(frozen=True)
class Session:
    """A verified session: the API key it was opened with, and until when it holds."""

    key_id: str
    expires: float
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Issues and checks session cookies and CSRF tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, purpose: str, payload: str) -> str:
        message = f"{purpose}\n{payload}".encode("utf-8")
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, key_id: str, *, now: float | None = None,
              lifetime: float = SESSION_SECONDS) -> str:
        """A session cookie value for ``key_id``."""
        now = time.time() if now is None else now
        body = {"k": key_id, "e": int(now + lifetime), "n": secrets.token_urlsafe(16)}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._mac('session', payload)}"

    def read(self, value: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None when it is missing, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            body = json.loads(_unb64(payload))
            session = Session(key_id=str(body["k"]), expires=float(body["e"]),
                              nonce=str(body["n"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        now = time.time() if now is None else now
        return session if now < session.expires else None

    def csrf(self, session: Session) -> str:
        """The CSRF token of a session: forms carry it, every POST must send it back."""
        return self._mac("csrf", f"{session.key_id}\n{session.nonce}")

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf(session))

    # -- the login form -----------------------------------------------------------------

    def login_nonce(self, *, now: float | None = None) -> str:
        """A pre-login cookie value: a random nonce and its expiry, signed."""
        now = time.time() if now is None else now
        payload = f"{secrets.token_urlsafe(16)}:{int(now + LOGIN_SECONDS)}"
        return f"{payload}.{self._mac('login', payload)}"

    def login_token(self, nonce_cookie: str) -> str:
        return self._mac("login-csrf", nonce_cookie)

    def check_login(self, nonce_cookie: str | None, token: str | None, *,
                    now: float | None = None) -> bool:
        """Whether a login POST carries the token of its own, valid pre-login cookie."""
        if not nonce_cookie or not token or nonce_cookie.count(".") != 1:
            return False
        payload, mac = nonce_cookie.split(".")
        if not hmac.compare_digest(mac, self._mac("login", payload)):
            return False
        try:
            expires = int(payload.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return False
        now = time.time() if now is None else now
        return now < expires and hmac.compare_digest(str(token), self.login_token(nonce_cookie))
