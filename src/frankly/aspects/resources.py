"""The shipped aspect resources (``resources/aspects``), verified once per process."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from frankly.models.artifacts import verify_checksums


@functools.lru_cache(maxsize=1)
def resource_dir() -> Path:
    """The verified directory (ModelError or ChecksumError if a file is missing or altered)."""
    directory = Path(str(resources.files("frankly") / "resources" / "aspects"))
    verify_checksums(directory, "aspect resources")
    return directory


def resource_text(name: str) -> str:
    return (resource_dir() / name).read_text(encoding="utf-8")
