"""The Frankly REST service: ``frankly serve``, or ``create_app()`` under any ASGI server.

Needs the ``server`` extra (``pip install 'frankly[server]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frankly.errors import MissingDependencyError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from frankly.config import ServiceSettings

__all__ = ["create_app"]


def create_app(settings: ServiceSettings | None = None, **parts: Any) -> FastAPI:
    """The service as an ASGI app; see :func:`frankly.service.app.create_app`."""
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"the service needs {exc.name}: pip install 'frankly[server]'") from None
    from frankly.service.app import create_app as build

    return build(settings, **parts)
