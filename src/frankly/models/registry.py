"""Find, verify and build models by name ("accurate", "fast") or by directory."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from frankly.errors import ModelError, ModelNotFoundError
from frankly.models.artifacts import read_model_dir
from frankly.models.base import BaseModel

BUILTIN = ("accurate", "fast")
DEFAULT = "accurate"

_cache: dict[Path, BaseModel] = {}
_lock = threading.Lock()


def model_path(name_or_path: str | Path) -> Path:
    """The directory of a built-in model name, or the given path."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        return Path(str(resources.files("frankly") / "resources" / "models" / name_or_path))
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ModelNotFoundError(f"unknown model {str(name_or_path)!r}: use one of "
                                 f"{', '.join(BUILTIN)} or a directory written by frankly train")
    return path.resolve()


def load_model(name_or_path: str | Path) -> BaseModel:
    """Load (once per process) and verify a model; raises ModelError if anything is off."""
    path = model_path(name_or_path)
    with _lock:
        if path not in _cache:
            _cache[path] = build_model(path, read_model_dir(path))
        return _cache[path]


def build_model(path: Path, config: dict) -> BaseModel:
    """Build the model a (verified) config describes."""
    kind = config.get("kind")
    if kind == "fast":
        from frankly.models.fast import FastModel as cls
    elif kind == "transformer":
        from frankly.models.transformer import TransformerModel as cls  # type: ignore[assignment]
    else:
        raise ModelError(f"{path}: unknown model kind {kind!r}")
    return cls.load(path, config)
