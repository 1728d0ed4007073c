"""Shared test helpers (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

from frankly.models.registry import model_path

DATA = Path(__file__).parent / "data"


def shipped_models() -> list[str]:
    """The built-in models present in this checkout (accurate, fast)."""
    return [name for name in ("accurate", "fast") if model_path(name).is_dir()]
