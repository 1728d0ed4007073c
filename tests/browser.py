"""What the browser tests share: Debian's Chromium driven by Playwright, headless.

Call :func:`require_browser` at the top of a test module: it skips the module, naming what
to install, on a machine without Chromium or Playwright.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
# Headless as root, and quiet: without the background-networking flags Chromium tries to
# reach Google's hosts at every start, which this closed network refuses.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# How many pixels of a chart's canvas are drawn (-1: no Chart.js chart on it).
INK = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || !Chart.getChart(canvas)) return -1;
  const {width, height} = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
  return inked;
}"""


def require_browser() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("the browser tests need Chromium: install Debian's chromium "
                    "(apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="the browser tests drive Chromium with "
                        "Playwright: pip install playwright (the 'test' extra has it)")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
