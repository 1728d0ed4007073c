"""Where Frankly keeps its files, and the settings of the service.

Nothing here is built at import: ``frankly_home()`` reads the environment when called, and
``ServiceSettings`` is a plain dataclass that the CLI (or a test) fills in.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from frankly.errors import InputError
from frankly.policy import DEFAULT_MIN_GROUP

HOME_ENV = "FRANKLY_HOME"


def frankly_home() -> Path:
    """Frankly's own folder: ``$FRANKLY_HOME``, else ``~/.frankly`` (not created here)."""
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else Path.home() / ".frankly"


def default_database_url() -> str:
    """The embedded default: a SQLite file in the Frankly home folder."""
    return f"sqlite:///{frankly_home() / 'frankly.db'}"


def open_default_store(url: str) -> Any:
    """``frankly.store.open_store(url)``, first creating the Frankly home folder when
    ``url`` is the embedded default (a folder the user named must already exist)."""
    from frankly.store import open_store

    if url == default_database_url():
        frankly_home().mkdir(parents=True, exist_ok=True)
    return open_store(url)


@dataclass(frozen=True)
class ServiceSettings:
    """How ``frankly serve`` (and ``frankly ingest``) behave. Every number has a reason.

    Read from a TOML file with :meth:`from_file` (a ``[service]`` table or top-level
    keys); command-line flags override it with :meth:`with_overrides`.
    """

    database_url: str = field(default_factory=default_database_url)
    model: str = "accurate"
    host: str = "127.0.0.1"  # loopback: exposing it is a deliberate choice
    port: int = 8000
    # One request analyses at most this many texts; a feedback batch of 500 (the ingestion
    # benchmark) fits with room to spare.
    max_texts_per_request: int = 1000
    # Characters per text: about 2,500 words, longer than any review or ticket we have seen;
    # longer texts are refused with a clear error, never silently cut.
    max_chars_per_text: int = 20_000
    # Whole request bodies: 1000 texts of 20,000 characters would be 20 MB; 16 MB caps it.
    max_body_bytes: int = 16 * 1024 * 1024
    # Requests per second per API key (token bucket, burst of twice this): generous for a
    # team's tools, low enough that one runaway script cannot starve the others. A key can
    # carry its own limit (``frankly keys create --rate-limit``).
    rate_limit_per_second: float = 200.0
    store_text: bool = True  # False keeps scores and metadata only
    redact_handles: bool = False  # @handles are often brands; redact them on request
    retention_days: int | None = 365  # rows older than this are purged; None keeps all
    min_group_size: int = DEFAULT_MIN_GROUP  # k: aggregates over employees/students
    phone_region: str = "US"  # how phone numbers without a country code are read

    @classmethod
    def from_file(cls, path: str | Path) -> "ServiceSettings":
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"config file {str(path)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
        return cls().with_overrides(**data.get("service", data))

    def with_overrides(self, **values: Any) -> "ServiceSettings":
        """A copy with ``values`` set (None values are ignored); unknown keys are errors."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"unknown setting(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        settings = replace(self, **{k: v for k, v in values.items() if v is not None})
        settings.check()
        return settings

    def check(self) -> None:
        for name in ("max_texts_per_request", "max_chars_per_text", "max_body_bytes",
                     "min_group_size", "port"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{name} must be a whole number of at least 1, got {value!r}")
        if not self.rate_limit_per_second > 0:
            raise InputError(f"rate_limit_per_second must be above 0, "
                             f"got {self.rate_limit_per_second!r}")
        if self.retention_days is not None and (
                not isinstance(self.retention_days, int) or self.retention_days < 1):
            raise InputError(f"retention_days must be a whole number of days or absent, "
                             f"got {self.retention_days!r}")
