"""API key secrets: made here, stored only as a hash.

A secret is ``fk_`` + 32 random bytes (``secrets.token_urlsafe(32)``): 256 bits cannot be
guessed, so one SHA-256 is enough to store it. A slow password hash (bcrypt, scrypt) guards
against guessing low-entropy passwords from a stolen table, which does not apply here, and
would add tens of milliseconds to every request.
"""

from __future__ import annotations

import hashlib
import secrets

from frankly.errors import InputError

SECRET_PREFIX = "fk_"  # recognisable in logs and secret scanners
SECRET_BYTES = 32
DISPLAY_CHARS = 10  # "fk_" and 7 characters: enough to tell keys apart in a list
SCOPES: tuple[str, ...] = ("read", "write", "admin")


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def new_key_id() -> str:
    return secrets.token_hex(6)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_scopes(scopes: object) -> tuple[str, ...]:
    """The scopes as a sorted tuple without repeats; InputError for anything else."""
    if isinstance(scopes, str):
        scopes = [scopes]
    try:
        values = sorted(set(scopes))  # type: ignore[arg-type]
    except TypeError:
        raise InputError(f"scopes must be a list of {', '.join(SCOPES)}, "
                         f"got {scopes!r}") from None
    unknown = [s for s in values if s not in SCOPES]
    if unknown or not values:
        raise InputError(f"scopes must be one or more of {', '.join(SCOPES)}, got {scopes!r}")
    return tuple(values)
