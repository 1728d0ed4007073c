"""The dashboard's Jinja2 environment and formatting filters, without any HTTP.

Shared by the web dashboard (:mod:`frankly.dashboard.web`) and the self-contained report
(:mod:`frankly.dashboard.report`), so both render the same templates the same way:
autoescaped, strict about undefined names, with the same number formats.

>>> _pct(0.1234), _pp(-0.05), _pvalue(0.00001), _num(12345)
('12.3%', '-5.0 pp', '< 0.0001', '12,345')
"""

from __future__ import annotations

from typing import Any

import jinja2

from frankly import __version__
from frankly.result import DOCUMENT_LABELS


def environment(**globals_: Any) -> jinja2.Environment:
    """The templates beside this module, autoescaped, with the filters ``pct``, ``pp``,
    ``pvalue`` and ``num``; ``globals_`` are added to (or replace) the defaults."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("frankly.dashboard", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    env.filters.update(pct=_pct, pp=_pp, pvalue=_pvalue, num=_num)
    env.globals.update(version=__version__, labels=DOCUMENT_LABELS, nav=(), saved=None,
                       page=None, active=None)
    env.globals.update(globals_)
    return env


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def _pp(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.1f} pp"


def _pvalue(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def _num(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
