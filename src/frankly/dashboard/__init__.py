"""The web dashboard that ``frankly serve`` serves at ``/``: overview, aspects, urgent queue,
explorer and alerts, for people signed in with an API key.

- :mod:`frankly.dashboard.views`: each page's data as plain dicts computed from a Store
  (no HTTP; a report built from a file can render the same templates).
- :mod:`frankly.dashboard.web`: login, sessions, CSRF, pages and static files.
- :mod:`frankly.dashboard.templating`: the Jinja2 environment and filters both share.
- :mod:`frankly.dashboard.report`: ``frankly report``, the same sections as one
  self-contained HTML file, from an analysed file read back by
  :mod:`frankly.dashboard.analysed` into a temporary store.
- ``templates/``: Jinja2, autoescaped; ``*_body.html`` hold each page's content without
  forms or filters (the report renders them too). ``static/``: the stylesheet, the chart
  script and Chart.js 4 (MIT, vendored from npm with its licence; see
  ``static/VENDORED.md``): no CDN, no build step.

The dashboard needs the ``server`` extra (FastAPI and Jinja2); the report needs only the
``report`` extra (Jinja2 and SQLAlchemy).
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def install(app: Any) -> None:
    """Add the dashboard's routes to a Frankly service app. Without Jinja2 (an older
    install of the ``server`` extra), ``/`` says what to install instead."""
    try:
        import jinja2  # noqa: F401
    except ImportError:
        from fastapi.responses import PlainTextResponse

        async def missing() -> PlainTextResponse:
            return PlainTextResponse("The dashboard needs Jinja2: pip install "
                                     "'frankly[server]'. The API works without it (see "
                                     "/docs).", status_code=503)

        app.add_api_route("/", missing, include_in_schema=False)
        return
    from frankly.dashboard.web import Dashboard, router

    app.state.dashboard = Dashboard()
    app.include_router(router)
